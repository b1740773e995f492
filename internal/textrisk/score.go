package textrisk

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Threshold is the score at and above which a message is flagged, on a
// surface without a threshold of its own (Thresholds) and in
// conversations.
const Threshold = 0.5

// Thresholds are flagging thresholds per surface: the score at and above
// which a message on that surface is flagged. A surface missing from the
// map uses Threshold.
type Thresholds map[Surface]float64

// Of is the threshold of surface ("" is a DM).
func (t Thresholds) Of(surface Surface) float64 {
	if surface == "" {
		surface = DM
	}
	if v, ok := t[surface]; ok {
		return v
	}
	return Threshold
}

// ParseThresholds reads "dm=0.45,comment=0.6" (surfaces not named keep
// Threshold); each value lies in (0, 1].
func ParseThresholds(s string) (Thresholds, error) {
	t := Thresholds{}
	if strings.TrimSpace(s) == "" {
		return t, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		x, err := strconv.ParseFloat(v, 64)
		switch {
		case !ok:
			return nil, fmt.Errorf("threshold %q: want SURFACE=VALUE, e.g. dm=0.45", truncate(kv, 40))
		case !slices.Contains(Surfaces, Surface(k)):
			return nil, fmt.Errorf("threshold %q: surface %q: want dm, comment, caption or bio", truncate(kv, 40), truncate(k, 20))
		case err != nil || !(x > 0 && x <= 1):
			return nil, fmt.Errorf("threshold %q: want a value above 0 and at most 1", truncate(kv, 40))
		}
		t[Surface(k)] = x
	}
	return t, nil
}

// String writes t as ParseThresholds reads it, surfaces in order.
func (t Thresholds) String() string {
	var parts []string
	for _, s := range Surfaces {
		if v, ok := t[s]; ok {
			parts = append(parts, fmt.Sprintf("%s=%g", s, v))
		}
	}
	return strings.Join(parts, ",")
}

// Scorer scores messages and conversations. Its zero value is not usable;
// make one with New. A Scorer is safe for concurrent use.
type Scorer struct {
	langs []*lexicon
	emoji map[rune]string
	model *Model
	// thresholds are the flagging thresholds per surface: those given
	// to WithThresholds, else the model's (chosen by cross-validation
	// when it was trained), else Threshold.
	thresholds Thresholds
}

var builtin = sync.OnceValues(func() (*Scorer, error) {
	langs, emoji, err := loadLanguages(langFiles)
	if err != nil {
		return nil, fmt.Errorf("textrisk: built-in language files: %w", err)
	}
	return &Scorer{langs: langs, emoji: emoji}, nil
})

// New returns a Scorer over the built-in languages (lang/*.txt), refined
// by model when it is not nil.
func New(model *Model) (*Scorer, error) {
	b, err := builtin()
	if err != nil {
		return nil, err
	}
	s := *b
	s.model = model
	if model != nil {
		s.thresholds = model.Thresholds
	}
	return &s, nil
}

// WithThresholds returns a copy of s that flags at t on the surfaces t
// names (the others keep s's thresholds).
func (s *Scorer) WithThresholds(t Thresholds) *Scorer {
	c := *s
	c.thresholds = Thresholds{}
	for k, v := range s.thresholds {
		c.thresholds[k] = v
	}
	for k, v := range t {
		c.thresholds[k] = v
	}
	return &c
}

// Thresholds returns the flagging threshold of every surface.
func (s *Scorer) Thresholds() Thresholds {
	t := Thresholds{}
	for _, sf := range Surfaces {
		t[sf] = s.thresholds.Of(sf)
	}
	return t
}

// analysis is what the rules found in one message, before any model.
type analysis struct {
	lx   *lexicon
	toks []token
	fam  [nFamilies]float64 // each family's strength after context
	// inTalk is fam without the discount of one phrase alone: in a
	// conversation a message is not alone, and the conversation
	// discounts each message itself (turnDiscount).
	inTalk  [nFamilies]float64
	reasons []Reason
	score   float64
	kin     bool // addresses the other person as family
	// kinCall: a kin phrase ends the message or a clause ("yes grandad!",
	// "thank you ate 😭"), a call rather than a mention ("yeah mum works").
	kinCall bool
	// inCopy: the writer keeps a parent or another adult informed (a
	// copy phrase); shared: the writer names a family member as theirs
	// and the reader's ("mam's been phoning ye"). See Conversation.
	inCopy, shared bool
	// reported: the message reports what someone else wrote (a report
	// phrase, or evidence found inside quotation marks).
	reported bool
}

// Score scores one message.
func (s *Scorer) Score(m Message) Result {
	return s.result(m, s.analyse(m))
}

func (s *Scorer) result(m Message, a analysis) Result {
	r := Result{Score: a.score, RuleScore: a.score, Reasons: a.reasons, Language: a.lx.code, Reported: a.reported}
	if s.model != nil {
		part := s.model.score(m, &a)
		r.Model = &part
		r.Score = part.Score
	}
	r.Flagged = r.Score >= s.thresholds.Of(m.Surface)
	r.Score, r.RuleScore = round3(r.Score), round3(r.RuleScore)
	if r.Flagged {
		r.Labels = labelsOf(&a.fam)
	}
	if r.Reasons == nil {
		r.Reasons = []Reason{}
	}
	if r.Labels == nil {
		r.Labels = []string{}
	}
	return r
}

// labelsOf lists the categories of the strongest evidence;
// when a model flagged what no rule did, the label is the category of the
// strongest family, else grooming, the broadest.
func labelsOf(fam *[nFamilies]float64) []string {
	byLabel := make([]float64, len(Labels))
	top := 0.0
	for i, f := range families {
		for li, l := range Labels {
			if f.label == l {
				byLabel[li] = max(byLabel[li], fam[i])
			}
		}
		top = max(top, fam[i])
	}
	var labels []string
	for li, l := range Labels {
		// A category is a label when its evidence is near the strongest:
		// a 😏 in a sextortion threat does not make it a sexual comment.
		if byLabel[li] >= 0.35 && byLabel[li] >= 0.75*top {
			labels = append(labels, l)
		}
	}
	if len(labels) == 0 {
		best, bi := 0.0, -1
		for i, v := range fam {
			if v > best {
				best, bi = v, i
			}
		}
		if bi < 0 {
			return []string{Grooming}
		}
		return []string{families[bi].label}
	}
	return labels
}

// analyse reads the message in each language and keeps the reading with
// the most evidence: people mix languages, and a short message has too
// few words to tell which it is in.
func (s *Scorer) analyse(m Message) analysis {
	text := m.Text
	if len(text) > MaxText {
		text = text[:MaxText]
	}
	raw := scan(text, s.emoji, make([]token, 0, 16))
	var stops, known [8]int
	most, top := 0, 0
	for li, lx := range s.langs[:min(len(s.langs), len(stops))] {
		for i := range raw {
			// Single letters ("y", "a", "e") are shared, and are what
			// letter-at-a-time spelling is made of.
			if len(raw[i].text) > 1 && lx.stop[raw[i].text] {
				stops[li]++
			}
			if len(raw[i].text) > 1 && lx.knownRead(raw[i]) {
				known[li]++
			}
		}
		if stops[li] > most {
			most, top = stops[li], li
		}
	}
	var best analysis
	bestStops := -1
	for li, lx := range s.langs {
		// A language with far fewer of its common words than another is
		// not the one the message is in: reading English as Spanish
		// would find Spanish rules in loanwords ("mega", "link"). Unless
		// it knows as many of the message's words: one "se" after "send
		// pics" must not hide the English reading.
		if li < len(stops) && 2*stops[li] < most && known[li] < known[top] {
			continue
		}
		a := analyseIn(m, text, lx, lx.tokens(raw))
		st := 0
		if li < len(stops) {
			st = stops[li]
		}
		if bestStops < 0 || a.score > best.score || a.score == best.score && st > bestStops {
			best, bestStops = a, st
		}
	}
	return best
}

// knownRead says whether the language knows the word t, as written or
// read back from leetspeak ("s3nd p1cs la" knows two English words, not
// none beside one Spanish "la").
func (lx *lexicon) knownRead(t token) bool {
	if lx.known(t.text) {
		return true
	}
	if strings.IndexFunc(t.text, func(r rune) bool { return r < 'a' || r > 'z' }) < 0 {
		return false
	}
	var buf [4]token
	for _, w := range readWord(t, buf[:0]) {
		if len(w.text) > 1 && lx.known(w.text) {
			return true
		}
	}
	return false
}

// clauseEnds says whether a phrase ending before toks[to] ends its clause:
// the message ends, an emoji follows, or punctuation does.
func clauseEnds(text string, toks []token, to int) bool {
	return to == len(toks) || strings.HasPrefix(toks[to].text, "<") || strings.ContainsAny(text[toks[to-1].end:toks[to].start], ",.!?;:")
}

func analyseIn(m Message, text string, lx *lexicon, toks []token) analysis {
	a := analysis{lx: lx, toks: toks}
	lx.kin.each(toks, func(r *rule, from, to int) {
		// A name may follow ("thanks auntie mags!!"): a word no
		// vocabulary knows.
		if to < len(toks) && toks[to].id < 0 && toks[to].num < 0 && !clauseEnds(text, toks, to) {
			to++
		}
		call := clauseEnds(text, toks, to)
		// A family name alone is a call only as a clause of its own
		// ("Mum!", "primo, ..."); otherwise it is a mention ("mum says").
		if len(r.steps) == 1 && !(call && (from == 0 || strings.ContainsAny(text[toks[from-1].end:toks[from].start], ",.!?;:"))) {
			// A mention with no owner ("tell mam", not "tell your
			// mam") is of a family the writer shares with the reader.
			a.shared = a.shared || from == 0 || toks[from].brk || !lx.owners[toks[from-1].text]
			return
		}
		a.kin = true
		a.kinCall = a.kinCall || call
	})
	lx.copies.each(toks, func(*rule, int, int) { a.inCopy = true })
	type fired struct {
		rule  *rule
		spans []Span
		obf   bool
	}
	var hits []fired
	lx.rules.each(toks, func(r *rule, from, to int) {
		at := placeOf(toks, from, to)
		sp, obf := at.span, at.obf
		for i := range hits {
			if hits[i].rule == r {
				if last := hits[i].spans[len(hits[i].spans)-1]; last.End <= sp.Start {
					hits[i].spans = append(hits[i].spans, sp)
				}
				hits[i].obf = hits[i].obf || obf
				return
			}
		}
		hits = append(hits, fired{r, []Span{sp}, obf})
	})
	// ends are the message's sentence ends, split once, when a compound
	// or a clear first needs them.
	var ends []int
	var found [][]place // by cue
	lx.cues.each(toks, func(r *rule, from, to int) {
		if found == nil {
			found = make([][]place, len(lx.cueNames))
		}
		found[r.family] = append(found[r.family], placeOf(toks, from, to))
	})
	if found != nil {
		ends = sentenceEnds(text)
		for i := range lx.compounds {
			c := &lx.compounds[i]
			if spans, obf, ok := together(c.all, found, ends); ok {
				hits = append(hits, fired{c, spans, obf})
			}
		}
	}
	if len(hits) == 0 {
		return a
	}
	// A clear reaches only the sentences its phrase lies in: "so hot
	// today" clears the remark about the weather, not "send more of her"
	// two sentences on.
	var clears []clear
	lx.clears.each(toks, func(r *rule, from, to int) {
		if ends == nil {
			ends = sentenceEnds(text)
		}
		c := clear{r.family, sentenceOf(ends, toks[from].start), sentenceOf(ends, toks[to-1].end-1)}
		if to == len(toks) && signature(toks, ends) {
			// A short last sentence signs the message ("... love.
			// nana", "- mom"): a clear in it speaks for every sentence.
			c.first = 0
		}
		clears = append(clears, c)
	})
	reporting := false
	lx.reports.each(toks, func(*rule, int, int) { reporting = true })
	quotes := quoted(text)
	for _, h := range hits {
		r := h.rule
		if len(clears) > 0 {
			n := len(h.spans)
			// A compound needs every part: a clear of one clears it.
			if h.spans = uncleared(h.spans, r.family, clears, ends); len(h.spans) == 0 || len(r.all) > 0 && len(h.spans) < n {
				continue
			}
		}
		f := &families[r.family]
		k, why := contextFactor(f, m)
		if r.peer && m.AuthorAge > 0 {
			// A declared minor saying "i am 13 too" is a peer; a declared
			// adult saying it poses as one. From a sender of unknown age
			// the claim is support: what every peer says, and evidence
			// only beside a probe, a secret or a move.
			if m.AuthorAge < 18 {
				continue
			}
			k *= adultPosing
			why = strings.TrimPrefix(why+fmt.Sprintf(", sender declared %d poses as a peer (x%g)", m.AuthorAge, float64(adultPosing)), ", ")
		}
		if h.obf {
			k *= obfuscated
			why = strings.TrimPrefix(why+fmt.Sprintf(", disguised (x%g)", float64(obfuscated)), ", ")
		}
		if rep := reporting || within(h.spans, quotes); rep {
			a.reported = true
			k *= reportedSpeech
			why = strings.TrimPrefix(why+fmt.Sprintf(", reported or quoted (x%g)", reportedSpeech), ", ")
		}
		w := scaleOdds(r.weight, k)
		if len(h.spans) > MaxSpans {
			h.spans = h.spans[:MaxSpans]
		}
		phrases := make([]string, len(h.spans))
		for i, sp := range h.spans {
			phrases[i] = text[sp.Start:sp.End]
		}
		a.reasons = append(a.reasons, Reason{Family: f.name, Label: f.label, Rule: r.text, Strength: w,
			Phrases: phrases, Spans: h.spans, Context: why, disguised: h.obf, support: r.support || r.peer && m.AuthorAge == 0})
	}
	sort.SliceStable(a.reasons, func(i, j int) bool { return a.reasons[i].Strength > a.reasons[j].Strength })
	a.reasons = dropCovered(a.reasons)
	// Support alone ("5 mins", "in 24 hours") is no evidence in a message;
	// in a conversation it is the deadline of what came before.
	if !slices.ContainsFunc(a.reasons, func(r Reason) bool { return !r.support }) {
		for _, r := range a.reasons {
			addEvidence(&a.inTalk, familyIndex[r.Family], r.Strength)
		}
		a.reasons = nil
		return a
	}
	// One phrase alone, undisguised, with no context that raises it (no
	// declared minor, not on content showing a child), of a kind harmless
	// talk also uses: weaker than the same phrase beside another.
	lone := 1.0
	// A bio is one phrase by nature: there a phrase of two words or more
	// ("daughters welcome", "buying pics of") is the advertisement, not
	// alone; one word ("selling", "trades") still is.
	if len(a.reasons) == 1 && !m.minorTarget() && !m.OnChildContent && !a.reasons[0].disguised &&
		!(m.Surface == Bio && len(strings.Fields(a.reasons[0].Phrases[0])) >= 2) {
		r := &a.reasons[0]
		if lone = families[familyIndex[r.Family]].alone; lone != 1 {
			a.inTalk[familyIndex[r.Family]] = r.Strength
			r.Strength = scaleOdds(r.Strength, lone)
			r.Context = strings.TrimPrefix(r.Context+fmt.Sprintf(", one phrase alone (x%g)", lone), ", ")
		}
	}
	// Kinds of grooming that are weak alone (a probe, a secret, a move, a
	// gift) are far stronger together in a DM to a declared minor: adults
	// and peers rarely combine them there, offenders do.
	if m.minorTarget() && (m.Surface == DM || m.Surface == "") && !a.reported && groomingKinds(a.reasons) >= 2 {
		for i := range a.reasons {
			if r := &a.reasons[i]; r.Label == Grooming {
				r.Strength = scaleOdds(r.Strength, minorCombination)
				r.Context = strings.TrimPrefix(r.Context+fmt.Sprintf(", kinds of grooming together to a minor (x%g)", minorCombination), ", ")
			}
		}
	}
	// Within a family the strongest phrase counts in full and each other
	// at half weight: two ways of saying one thing are less than two
	// independent pieces of evidence, but more than one.
	for i := range a.reasons {
		r := &a.reasons[i]
		addEvidence(&a.fam, familyIndex[r.Family], r.Strength)
		r.Strength = round3(r.Strength)
	}
	if lone == 1 {
		a.inTalk = a.fam
	}
	a.score = noisyOr(a.fam[:])
	return a
}

// A place is where a phrase matched, and whether undoing a disguise read
// any of it.
type place struct {
	span Span
	obf  bool
}

func placeOf(toks []token, from, to int) place {
	p := place{span: Span{toks[from].start, toks[to-1].end}}
	for _, t := range toks[from:to] {
		p.obf = p.obf || t.obf
	}
	return p
}

// together picks, for each of a compound's cues, the first place it
// matched that neither holds nor lies within a place picked before (one
// phrase is not two parts; "or your" and "your school" in "or your
// school sees it" are), and returns them in the message's order; false if a cue has none, or if
// they lie further apart than two sentences running (ends, as
// sentenceEnds gives them): "i have ur pic pay me" quoted in a warning
// and "stay vigilant everyone" after it are not one threat.
func together(cues []int, found [][]place, ends []int) ([]Span, bool, bool) {
	spans := make([]Span, 0, len(cues))
	obf := false
	for _, ci := range cues {
		ok := false
		for _, h := range found[ci] {
			if !slices.ContainsFunc(spans, func(s Span) bool {
				return s.Start <= h.span.Start && h.span.End <= s.End || h.span.Start <= s.Start && s.End <= h.span.End
			}) {
				spans, obf, ok = append(spans, h.span), obf || h.obf, true
				break
			}
		}
		if !ok {
			return nil, false, false
		}
	}
	slices.SortFunc(spans, func(a, b Span) int { return a.Start - b.Start })
	if sentenceOf(ends, spans[len(spans)-1].End-1)-sentenceOf(ends, spans[0].Start) > 1 {
		return nil, false, false
	}
	return spans, obf, true
}

// A clear is a not rule that fired: its family and the first and last
// sentence its phrase lies in.
type clear struct {
	family      int
	first, last int
}

// sentenceEnds returns the byte offsets of text's sentence ends: a newline
// or ';', and '.', '!', '?' or '…' not inside a word ("9.99", "wh!te",
// "n.u.d.e.s" are one sentence).
func sentenceEnds(text string) []int {
	ends := []int{}
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\n', ';':
			ends = append(ends, i)
		case '.', '!', '?':
			if i+1 == len(text) || !wordByte(text[i+1]) {
				ends = append(ends, i)
			}
		case 0xE2: // '…' is E2 80 A6
			if strings.HasPrefix(text[i:], "…") {
				ends = append(ends, i)
			}
		}
	}
	// A sentence of emoji alone ("ok? 🤫") belongs to the one before it.
	kept := ends[:0]
	for i, e := range ends {
		next := len(text)
		if i+1 < len(ends) {
			next = ends[i+1]
		}
		if strings.IndexFunc(text[e+1:next], func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			kept = append(kept, e)
		}
	}
	return kept
}

// wordByte says whether b continues a word: a letter, a digit or a byte
// of a multi-byte letter.
func wordByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b >= 0x80
}

// sentenceOf is the index of the sentence holding byte offset p.
func sentenceOf(ends []int, p int) int {
	return sort.SearchInts(ends, p)
}

// reach is how many sentences either side of its own a clear reaches: the
// sentence next to a clear is often its context ("did u finish the
// worksheet? send me a pic of question 4").
const reach = 1

// signature says whether the message's last sentence is a signature: at
// most three words after a sentence's end.
func signature(toks []token, ends []int) bool {
	if len(ends) == 0 {
		return false
	}
	last := ends[len(ends)-1]
	n := 0
	for i := len(toks) - 1; i >= 0 && toks[i].start > last; i-- {
		n++
	}
	return n > 0 && n <= 3
}

// uncleared returns the spans of a hit of family that no clear of that
// family reaches (a clear reaches the sentences its phrase lies in).
func uncleared(spans []Span, family int, clears []clear, ends []int) []Span {
	var kept []Span
	for _, sp := range spans {
		first, last := sentenceOf(ends, sp.Start), sentenceOf(ends, sp.End-1)
		hit := false
		for _, c := range clears {
			hit = hit || c.family == family && first <= c.last+reach && c.first-reach <= last
		}
		if !hit {
			kept = append(kept, sp)
		}
	}
	return kept
}

// addEvidence adds a phrase of strength p to family fi's evidence, the
// strongest first: the first counts in full, each other at half weight.
func addEvidence(fam *[nFamilies]float64, fi int, p float64) {
	if fam[fi] == 0 {
		fam[fi] = p
	} else {
		fam[fi] = 1 - (1-fam[fi])*(1-p/2)
	}
}

// adultToMinor multiplies the odds of grooming and sextortion evidence in
// a DM from a declared adult to a declared minor, on top of the family's
// minor-target factor.
const adultToMinor = 1.5

// adultPosing multiplies the odds of a peer claim ("i am 13 too") by a
// sender who declared an adult's age.
const adultPosing = 3

// minorCombination multiplies the odds of grooming evidence of two or more
// families in one DM to a declared minor.
const minorCombination = 1.5

// groomingKinds counts the grooming families among reasons.
func groomingKinds(reasons []Reason) int {
	var seen [nFamilies]bool
	n := 0
	for _, r := range reasons {
		if fi := familyIndex[r.Family]; r.Label == Grooming && !seen[fi] {
			seen[fi] = true
			n++
		}
	}
	return n
}

// adultTarget multiplies the odds of grooming evidence in text to a
// declared adult.
const adultTarget = 0.3

// MaxSpans bounds the phrases (and spans) a reason shows: the first
// occurrences. A rule's strength does not grow with repeats, and a message
// of 900 "u r cute" answered every one of them (38 KB for one message).
const MaxSpans = 8

// obfuscated multiplies the odds of a rule whose phrase was disguised.
const obfuscated = 2

// reportedSpeech multiplies the odds of evidence in a message that reports
// or quotes what someone else wrote.
const reportedSpeech = 0.1

// quoted returns the byte ranges of text between paired quotation marks
// ("...", “...”, «...»): quoted words are someone else's. An unpaired
// mark quotes nothing.
func quoted(text string) []Span {
	var out []Span
	open, want := -1, rune(0)
	for i, c := range text {
		switch {
		case open >= 0 && c == want:
			out = append(out, Span{open, i})
			open = -1
		case open < 0:
			if w := closing(c); w != 0 {
				open, want = i, w
			}
		}
	}
	return out
}

// closing is the mark that closes a quotation opened by c, 0 if c opens
// none.
func closing(c rune) rune {
	switch c {
	case '"':
		return '"'
	case '“':
		return '”'
	case '«':
		return '»'
	case '„':
		return '“'
	}
	return 0
}

// within says whether every span lies inside one of the ranges.
func within(spans []Span, ranges []Span) bool {
	if len(ranges) == 0 {
		return false
	}
	for _, s := range spans {
		in := false
		for _, r := range ranges {
			in = in || r.Start <= s.Start && s.End <= r.End
		}
		if !in {
			return false
		}
	}
	return true
}

// contextFactor is how much the message's context multiplies a family's
// odds, and why.
func contextFactor(f *family, m Message) (float64, string) {
	k := 1.0
	var why []string
	apply := func(x float64, format string, a ...any) {
		if x != 1 {
			k *= x
			why = append(why, fmt.Sprintf(format, a...)+fmt.Sprintf(" (x%g)", x))
		}
	}
	if m.minorTarget() {
		apply(f.minor, "target declared %d", m.TargetAge)
		// An adult's grooming or extortion of a declared minor is in
		// private messages; a comment's words are about what it is under.
		if m.adultToMinor() && f.label != SexualComment && (m.Surface == DM || m.Surface == "") {
			apply(adultToMinor, "sender declared %d", m.AuthorAge)
		}
	}
	if m.TargetAge >= 18 && f.label == Grooming {
		// Grooming is of children: between declared adults the same
		// words are dating, flirting and sexting. (Trading images of
		// children and sextortion stay as they are.)
		apply(adultTarget, "target declared %d, an adult", m.TargetAge)
	}
	switch m.Surface {
	case DM, "":
		apply(f.dm, "dm")
	case Comment, Caption, Bio:
		apply(f.public, "public %s", m.Surface)
	}
	if m.OnChildContent {
		apply(f.child, "on content showing a child")
	}
	return k, strings.Join(why, ", ")
}

// scaleOdds multiplies the odds p/(1-p) by k.
func scaleOdds(p, k float64) float64 {
	return p * k / (1 - p + p*k)
}

// noisyOr combines independent pieces of evidence: the chance that at
// least one is right.
func noisyOr(ps []float64) float64 {
	q := 1.0
	for _, p := range ps {
		q *= 1 - p
	}
	return 1 - q
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// tokens normalises raw words in the language of lx.
func (lx *lexicon) tokens(raw []token) []token {
	words := make([]token, 0, len(raw)+4)
	for _, t := range raw {
		if t.text[0] == '<' {
			words = append(words, t)
			continue
		}
		if exp, ok := lx.abbr[t.text]; ok && strings.ContainsAny(t.text, "0123456789$@!|+") {
			for _, w := range exp {
				words = append(words, token{text: w, id: -1, num: -1, start: t.start, end: t.end, obf: true})
			}
			continue
		}
		words = readWord(t, words)
	}
	words = lx.joinSpaced(words)
	out := make([]token, 0, len(words)+4)
	for i, t := range words {
		if t.num < 0 && t.text[0] != '<' && t.text != "$" {
			t.text = collapse(t.text, lx.known)
			if n := len(t.text); n >= 4 && t.text[n-1] == 's' && !lx.known(t.text) && lx.known(t.text[:n-1]) {
				t.text = t.text[:n-1]
			}
			if c := lx.transposed(t.text); c != "" {
				t.text = c
			}
			unit := t.unit || len(out) > 0 && out[len(out)-1].num >= 0 && isUnit(t.text)
			exp, ok := lx.abbr[t.text]
			if sn, has := lx.senses[t.text]; has && !unit {
				prev, next := "", ""
				if i > 0 && !t.brk {
					prev = words[i-1].text
				}
				if i+1 < len(words) && !words[i+1].brk && words[i+1].text[0] != '<' {
					next = words[i+1].text
				}
				if sn.reads(prev, next) {
					exp, ok = sn.meaning, true
				}
			}
			if ok && !unit {
				for _, w := range exp {
					out = append(out, token{text: w, id: lx.vocab[w], num: -1, start: t.start, end: t.end, obf: t.obf})
				}
				continue
			}
		}
		if id, ok := lx.vocab[t.text]; ok {
			t.id = id
		}
		out = append(out, t)
	}
	return out
}

// transposed reads a typo of two swapped letters ("sned", "odl", "secert")
// as the one word of the vocabulary it spells when they are swapped back,
// and returns "" for a known word, a word with no such reading or with more
// than one. Typing fast is not disguise, so the word is not marked as such.
func (lx *lexicon) transposed(w string) string {
	var buf [24]byte
	if len(w) < 3 || len(w) > len(buf) || lx.known(w) {
		return ""
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return ""
		}
	}
	found := ""
	b := buf[:copy(buf[:], w)]
	for i := 0; i+1 < len(b); i++ {
		if b[i] == b[i+1] {
			continue
		}
		b[i], b[i+1] = b[i+1], b[i]
		if _, ok := lx.vocab[string(b)]; ok {
			if found != "" {
				return ""
			}
			found = string(b)
		}
		b[i], b[i+1] = b[i+1], b[i]
	}
	return found
}

// joinSpaced rejoins words typed a letter at a time ("s e n d p i c s",
// "s.e.n.d"): a run of three or more single letters is read as the fewest
// words of the vocabulary that spell it, when one of them is longer than
// two letters; otherwise the letters stay as they were.
func (lx *lexicon) joinSpaced(ws []token) []token {
	single := func(t *token) bool { return len(t.text) == 1 && 'a' <= t.text[0] && t.text[0] <= 'z' }
	out := ws[:0:0]
	for i := 0; i < len(ws); {
		j := i
		for j < len(ws) && single(&ws[j]) {
			j++
		}
		if j-i >= 3 && j-i <= 64 {
			var b strings.Builder
			for _, t := range ws[i:j] {
				b.WriteString(t.text)
			}
			if cuts := lx.segment(b.String()); cuts != nil {
				if out == nil {
					out = append(make([]token, 0, len(ws)), ws[:i]...)
				}
				from := 0
				for _, to := range cuts {
					out = append(out, token{text: b.String()[from:to], id: -1, num: -1,
						start: ws[i+from].start, end: ws[i+to-1].end, obf: true})
					from = to
				}
				i = j
				continue
			}
		}
		if j == i {
			j = i + 1
		}
		if out != nil {
			out = append(out, ws[i:j]...)
		}
		i = j
	}
	if out == nil {
		return ws
	}
	return out
}

// segment splits s into the fewest known words, returning the end of each,
// or nil when it cannot or when no word is longer than two letters.
func (lx *lexicon) segment(s string) []int {
	n := len(s)
	best := make([]int, n+1) // fewest words for s[:i], 0 = impossible (except i = 0)
	prev := make([]int, n+1)
	long := make([]bool, n+1) // whether that split has a word of 3+ letters
	for i := 1; i <= n; i++ {
		for j := max(0, i-20); j < i; j++ {
			if j > 0 && best[j] == 0 || !lx.known(s[j:i]) {
				continue
			}
			c := best[j] + 1
			if best[i] == 0 || c < best[i] || c == best[i] && !long[i] && (long[j] || i-j >= 3) {
				best[i], prev[i], long[i] = c, j, long[j] || i-j >= 3
			}
		}
	}
	if best[n] == 0 || !long[n] {
		return nil
	}
	cuts := make([]int, best[n])
	for i, k := n, best[n]-1; i > 0; i, k = prev[i], k-1 {
		cuts[k] = i
	}
	return cuts
}

// dropCovered drops a reason whose phrases all lie inside a stronger
// reason's: "send nudes" and "nudes" are one piece of evidence, shown and
// counted once, and so is a phrase two families read ("sexy" as talk to
// the target and as a remark about the person shown). reasons are sorted
// strongest first.
func dropCovered(reasons []Reason) []Reason {
	kept := reasons[:0]
	for _, r := range reasons {
		covered := true
		for _, sp := range r.Spans {
			in := false
			for _, k := range kept {
				for _, ks := range k.Spans {
					if ks.Start <= sp.Start && sp.End <= ks.End {
						in = true
					}
				}
			}
			if !in {
				covered = false
				break
			}
		}
		if !covered {
			kept = append(kept, r)
		}
	}
	return kept
}
