package textrisk

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The languages and the emoji table are data, so that adding a language
// is adding a file; docs/text.md describes the format.
//
//go:embed lang/*.txt
var langFiles embed.FS

// emojiFile names the emoji table among the language files: emoji mean the
// same in every language.
const emojiFile = "emoji.txt"

// A lexicon is one language compiled: its vocabulary, the words that
// identify it, abbreviations, and rules indexed by the token they start
// with.
type lexicon struct {
	code, name string
	vocab      map[string]int32
	stop       map[string]bool
	// lead are the words that begin a phrase ("a", "an"): standing alone
	// as a slash alternative they say the writer meant the phrase
	// ("anyone/a stranger"), which a slash cannot hold.
	lead map[string]bool
	abbr map[string][]string
	// senses read a word otherwise than its abbreviation by the words
	// around it (Scots and Irish "ye" is "you", chat's "ye" is "yes").
	senses map[string]sense
	rules  ruleSet
	// clears are "not" rules: phrases that clear a family in the
	// message they occur in ("hot chocolate" for sexual remarks).
	clears ruleSet
	// kin are phrases addressing the other person as family ("thanks
	// grandma"), which Conversation uses.
	kin ruleSet
	// owners are the words that make a family name someone's ("your
	// mum", "tu abuela"): a family name without one ("mam's been
	// phoning", "Papá está mirando") is the writer's family and the
	// reader's too.
	owners map[string]bool
	// copies are phrases by which a writer keeps a parent or another
	// adult informed ("your mum said", "I'll ask your mummy", "signed
	// consent form", "teachers can see this chat"), which Conversation
	// uses: a groomer keeps them out.
	copies ruleSet
	// reports are phrases that say the message reports what someone else
	// wrote ("he told me", "police arrested", "report this account"): a
	// parent, a victim or the news quoting a groomer is not a groomer.
	reports ruleSet
	// cues are named sets of phrases ("cue audience your school") that
	// compound rules ("when threat_share 0.55 audience + exposure +
	// demand") need together, anywhere in one message: none of them is
	// evidence alone, all of them are. An extortion names who would see,
	// what they would see and what stops it in words too many to list as
	// phrases ("ur halls group saw this. £200 by tonight"). A cue's
	// rule.family is its index in cueNames.
	cues      ruleSet
	cueNames  []string
	compounds []rule // rule.all names the cues; no steps
}

// A sense reads a word as meaning, instead of its abbreviation, when the
// word before it in its sentence is one of after ("are ye", "fae ye"), or
// when a word follows it in its sentence that is not one of unlessBefore
// ("ye look older", not "ye i can" or "ye lol").
type sense struct {
	meaning             []string
	after, unlessBefore map[string]bool
}

// reads says whether the word between prev and next (raw words, "" at a
// sentence's edge) takes the sense's meaning.
func (s *sense) reads(prev, next string) bool {
	return prev != "" && s.after[prev] || next != "" && !s.unlessBefore[next]
}

// A ruleSet holds rules indexed by the token they start with, so a
// message is tried only against the rules its words can start.
type ruleSet struct {
	rules    []rule
	byFirst  map[int32][]int32 // token id -> rules starting with it
	floating []int32           // rules starting with a number
}

func (rs *ruleSet) add(r rule) {
	i := int32(len(rs.rules))
	rs.rules = append(rs.rules, r)
	if first := r.steps[0]; first.kind == stepWord {
		if rs.byFirst == nil {
			rs.byFirst = map[int32][]int32{}
		}
		for _, id := range first.words {
			rs.byFirst[id] = append(rs.byFirst[id], i)
		}
		for _, seq := range first.seqs {
			rs.byFirst[seq[0]] = append(rs.byFirst[seq[0]], i)
		}
	} else {
		rs.floating = append(rs.floating, i)
	}
}

// each calls fn for every rule that matches, at every token it matches
// from, with the end of the match.
func (rs *ruleSet) each(toks []token, fn func(r *rule, from, to int)) {
	for i := range toks {
		if toks[i].id >= 0 {
			for _, ri := range rs.byFirst[toks[i].id] {
				if end, ok := rs.rules[ri].match(toks, i); ok {
					fn(&rs.rules[ri], i, end)
				}
			}
		}
		if toks[i].num >= 0 {
			for _, ri := range rs.floating {
				if end, ok := rs.rules[ri].match(toks, i); ok {
					fn(&rs.rules[ri], i, end)
				}
			}
		}
	}
}

type rule struct {
	family int
	weight float64
	text   string // as written, for reasons
	steps  []step
	// peer: the writer claims to be the target's age ("i am 13 too"), a
	// rapport rule whose weight depends on the writer's declared age.
	peer bool
	// support: evidence only beside other evidence in its message (a
	// deadline is a deadline of something: "5 mins" alone is not).
	support bool
	// all: a compound rule's cues (indexes in lexicon.cueNames), each of
	// which must match in the message, at spans apart.
	all []int
}

type stepKind uint8

const (
	stepWord stepKind = iota // one token from a set
	stepGap                  // up to hi tokens of anything
	stepNum                  // a number in [lo, hi]
)

type step struct {
	kind  stepKind
	words []int32 // sorted; for stepWord
	// seqs are the multi-word alternatives of a stepWord ("a_stranger"
	// in "anyone/a_stranger"), each matched word by word.
	seqs   [][]int32
	lo, hi int
	opt    bool
}

func (s *step) accepts(t *token) bool {
	switch s.kind {
	case stepNum:
		return t.num >= s.lo && t.num <= s.hi
	case stepWord:
		if t.id < 0 {
			return false
		}
		lo, hi := 0, len(s.words)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if s.words[mid] < t.id {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo < len(s.words) && s.words[lo] == t.id
	}
	return false
}

// loadLanguages compiles every language file in fsys; the emoji table
// comes back separately, shared by all.
func loadLanguages(fsys fs.FS) ([]*lexicon, map[rune]string, error) {
	names, err := fs.Glob(fsys, "lang/*.txt")
	if err != nil {
		return nil, nil, err
	}
	emoji := map[rune]string{}
	var langs []*lexicon
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, nil, err
		}
		if path.Base(name) == emojiFile {
			if err := parseEmoji(string(b), emoji); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		lx, err := parseLanguage(string(b))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		langs = append(langs, lx)
	}
	// English first: it wins ties when a message says too little to tell.
	sort.SliceStable(langs, func(i, j int) bool { return langs[i].code == "en" && langs[j].code != "en" })
	if len(langs) == 0 {
		return nil, nil, errors.New("no language files under lang")
	}
	return langs, emoji, nil
}

// parseEmoji reads lines "<category> EMOJI..." into emoji -> "<category>".
func parseEmoji(src string, emoji map[rune]string) error {
	for n, line := range strings.Split(src, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		cat := f[0]
		if !strings.HasPrefix(cat, "<") || !strings.HasSuffix(cat, ">") {
			return fmt.Errorf("line %d: category %q: want <name>", n+1, cat)
		}
		for _, e := range f[1:] {
			r, size := utf8.DecodeRuneInString(e)
			if size != len(e) {
				return fmt.Errorf("line %d: %q: want one code point per emoji", n+1, e)
			}
			if old, ok := emoji[r]; ok && old != cat {
				return fmt.Errorf("line %d: %s is both %s and %s", n+1, e, old, cat)
			}
			emoji[r] = cat
		}
	}
	return nil
}

// parseLanguage reads one language file; see docs/text.md for the format.
func parseLanguage(src string) (*lexicon, error) {
	lx := &lexicon{vocab: map[string]int32{}, stop: map[string]bool{}, lead: map[string]bool{}, abbr: map[string][]string{}}
	classes := map[string][]string{}
	type pending struct {
		line    int
		family  int
		weight  float64
		text    string
		peer    bool
		support bool
		cue     int
	}
	var rules []pending
	cueIndex := map[string]int{}
	type compound struct {
		line   int
		family int
		weight float64
		cues   string
	}
	var compounds []compound
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kw, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch kw {
		case "lang":
			code, name, _ := strings.Cut(rest, " ")
			lx.code, lx.name = code, strings.TrimSpace(name)
		case "stop":
			for _, w := range strings.Fields(rest) {
				if err := checkWord(w); err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				lx.stop[w] = true
				lx.word(w)
			}
		case "lead":
			for _, w := range strings.Fields(rest) {
				if err := checkWord(w); err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				lx.lead[w] = true
				lx.word(w)
			}
		case "owner":
			for _, w := range strings.Fields(rest) {
				if err := checkWord(w); err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				if exp, ok := lx.abbr[w]; ok && (len(exp) != 1 || exp[0] != w) {
					return nil, fmt.Errorf("line %d: word %q is read as %q: write that", n, w, strings.Join(exp, " "))
				}
				if lx.owners == nil {
					lx.owners = map[string]bool{}
				}
				lx.owners[w] = true
				lx.word(w)
			}
		case "words":
			for _, w := range strings.Fields(rest) {
				if err := checkWord(w); err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				lx.word(w)
			}
		case "abbr", "class":
			key, val, ok := strings.Cut(rest, "=")
			key = strings.TrimSpace(key)
			words := strings.Fields(val)
			if !ok || key == "" || len(words) == 0 {
				return nil, fmt.Errorf("line %d: want %s NAME = WORDS", n, kw)
			}
			for _, w := range words {
				if err := checkWord(w); err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				lx.word(w)
			}
			if kw == "abbr" {
				if _, dup := lx.abbr[key]; dup {
					return nil, fmt.Errorf("line %d: abbreviation %q given twice", n, key)
				}
				lx.abbr[key] = words
			} else {
				if _, dup := classes[key]; dup {
					return nil, fmt.Errorf("line %d: class %q given twice", n, key)
				}
				classes[key] = words
			}
		case "sense":
			// sense WORD = MEANING | WORDS BEFORE IT | WORDS AFTER IT
			// (the words as written, before abbreviations are read).
			key, val, _ := strings.Cut(rest, "=")
			key = strings.TrimSpace(key)
			parts := strings.Split(val, "|")
			if key == "" || len(parts) != 3 || len(strings.Fields(parts[0])) == 0 {
				return nil, fmt.Errorf("line %d: want sense WORD = MEANING | AFTER WORDS | UNLESS-BEFORE WORDS", n)
			}
			sn := sense{meaning: strings.Fields(parts[0]), after: map[string]bool{}, unlessBefore: map[string]bool{}}
			for i, set := range []map[string]bool{nil, sn.after, sn.unlessBefore} {
				for _, w := range strings.Fields(parts[i]) {
					if err := checkWord(w); err != nil {
						return nil, fmt.Errorf("line %d: %w", n, err)
					}
					if set == nil {
						lx.word(w)
					} else {
						set[w] = true
					}
				}
			}
			if lx.senses == nil {
				lx.senses = map[string]sense{}
			}
			lx.senses[key] = sn
		case "kin":
			rules = append(rules, pending{n, -1, 0, rest, false, false, 0})
		case "report":
			rules = append(rules, pending{n, -2, 0, rest, false, false, 0})
		case "copy":
			rules = append(rules, pending{n, -3, 0, rest, false, false, 0})
		case "cue":
			name, pat, _ := strings.Cut(rest, " ")
			if err := checkWord(name); err != nil || strings.TrimSpace(pat) == "" {
				return nil, fmt.Errorf("line %d: want cue NAME PATTERN", n)
			}
			ci, ok := cueIndex[name]
			if !ok {
				ci = len(lx.cueNames)
				cueIndex[name] = ci
				lx.cueNames = append(lx.cueNames, name)
			}
			rules = append(rules, pending{n, -4, 0, strings.TrimSpace(pat), false, false, ci})
		case "when":
			fi, w, cues, err := weighed(rest, "when FAMILY WEIGHT CUE + CUE [+ CUE]")
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			compounds = append(compounds, compound{n, fi, w, cues})
		case "not":
			fam, pat, _ := strings.Cut(rest, " ")
			fi, ok := familyIndex[fam]
			if !ok {
				return nil, fmt.Errorf("line %d: unknown family %q", n, fam)
			}
			rules = append(rules, pending{n, fi, 0, strings.TrimSpace(pat), false, false, 0})
		case "peer":
			// peer WEIGHT PATTERN: a rapport rule claiming the target's age.
			w, pat, _ := strings.Cut(rest, " ")
			x, err := strconv.ParseFloat(w, 64)
			if err != nil || x <= 0 || x >= 1 || strings.TrimSpace(pat) == "" {
				return nil, fmt.Errorf("line %d: want peer WEIGHT PATTERN, the weight between 0 and 1", n)
			}
			rules = append(rules, pending{n, familyIndex["rapport"], x, strings.TrimSpace(pat), true, false, 0})
		case "rule", "support":
			fi, w, pat, err := weighed(rest, kw+" FAMILY WEIGHT PATTERN")
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			rules = append(rules, pending{n, fi, w, pat, false, kw == "support", 0})
		default:
			return nil, fmt.Errorf("line %d: unknown keyword %q: want lang, stop, lead, words, abbr, sense, class, rule, support, peer, not, kin, owner, copy, report, cue or when", n, kw)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if lx.code == "" {
		return nil, fmt.Errorf("no lang line")
	}
	// A word the normaliser rewrites ("lets" becomes "let us") can never
	// be matched: refuse it rather than keep a rule that never fires.
	for name, words := range classes {
		for _, w := range words {
			if exp, ok := lx.abbr[w]; ok && (len(exp) != 1 || exp[0] != w) {
				return nil, fmt.Errorf("class %s: word %q is read as %q: write that", name, w, strings.Join(exp, " "))
			}
		}
	}
	for _, p := range rules {
		for _, el := range strings.Fields(p.text) {
			for _, w := range strings.FieldsFunc(strings.TrimSuffix(el, "?"), func(r rune) bool { return r == '/' || r == '_' }) {
				if exp, ok := lx.abbr[w]; ok && (len(exp) != 1 || exp[0] != w) {
					return nil, fmt.Errorf("line %d: word %q is read as %q: write that", p.line, w, strings.Join(exp, " "))
				}
			}
		}
		if err := lx.checkSlashes(p.text); err != nil {
			return nil, fmt.Errorf("line %d: %w", p.line, err)
		}
		r, err := lx.compile(p.text, classes)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", p.line, err)
		}
		r.family, r.weight, r.peer, r.support = p.family, p.weight, p.peer, p.support
		switch {
		case p.family == -4:
			r.family = p.cue
			lx.cues.add(r)
		case p.family == -2:
			lx.reports.add(r)
		case p.family == -3:
			lx.copies.add(r)
		case p.family < 0:
			lx.kin.add(r)
		case p.weight == 0:
			lx.clears.add(r)
		default:
			lx.rules.add(r)
		}
	}
	used := make([]bool, len(lx.cueNames))
	for _, c := range compounds {
		r := rule{family: c.family, weight: c.weight}
		var names []string
		for _, name := range strings.Split(c.cues, "+") {
			name = strings.TrimSpace(name)
			ci, ok := cueIndex[name]
			if !ok {
				return nil, fmt.Errorf("line %d: unknown cue %q", c.line, name)
			}
			if slices.Contains(r.all, ci) {
				return nil, fmt.Errorf("line %d: cue %q named twice", c.line, name)
			}
			r.all = append(r.all, ci)
			names = append(names, name)
			used[ci] = true
		}
		if len(r.all) < 2 {
			return nil, fmt.Errorf("line %d: a compound rule needs two cues or more: one is a rule", c.line)
		}
		r.text = strings.Join(names, " + ")
		lx.compounds = append(lx.compounds, r)
	}
	for ci, u := range used {
		if !u {
			return nil, fmt.Errorf("cue %q: no when rule uses it", lx.cueNames[ci])
		}
	}
	return lx, nil
}

// weighed reads "FAMILY WEIGHT REST", the head of a rule, support or when
// line (usage names the line's form), and returns the family's index, the
// weight, between 0 and 1, and the rest.
func weighed(line, usage string) (int, float64, string, error) {
	f := strings.SplitN(line, " ", 3)
	if len(f) < 3 {
		return 0, 0, "", fmt.Errorf("want %s", usage)
	}
	fi, ok := familyIndex[f[0]]
	if !ok {
		return 0, 0, "", fmt.Errorf("unknown family %q", f[0])
	}
	w, err := strconv.ParseFloat(f[1], 64)
	if err != nil || w <= 0 || w >= 1 {
		return 0, 0, "", fmt.Errorf("weight %q: want a number between 0 and 1", f[1])
	}
	return fi, w, strings.TrimSpace(f[2]), nil
}

// word adds w to the vocabulary and returns its id.
func (lx *lexicon) word(w string) int32 {
	if id, ok := lx.vocab[w]; ok {
		return id
	}
	id := int32(len(lx.vocab))
	lx.vocab[w] = id
	return id
}

// known reports whether w is a word of the language (or an abbreviation).
func (lx *lexicon) known(w string) bool {
	if _, ok := lx.vocab[w]; ok {
		return true
	}
	_, ok := lx.abbr[w]
	return ok
}

// checkWord rejects vocabulary the normaliser could never produce, which
// would make a rule that never fires.
func checkWord(w string) error {
	if strings.HasPrefix(w, "<") && strings.HasSuffix(w, ">") && len(w) > 2 {
		return nil // an emoji category
	}
	if w == "$" {
		return nil
	}
	for i := 0; i < len(w); i++ {
		if c := w[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return fmt.Errorf("word %q: want lower-case a-z and 0-9 only, as the normaliser writes words", w)
		}
	}
	return nil
}

// checkSlashes refuses the two ways a slash is written as if it held a
// phrase, which compile would read as a rule that never fires as meant:
// an alternative that repeats the word after or before the slash group
// ("can not/do not know" reads "can not not know" or "can do not know"),
// and a lead word alone among other alternatives ("anyone/a stranger"
// reads "anyone stranger" or "a stranger"). A multi-word alternative is
// written with "_": "can_not/do_not", "anyone/a_stranger".
func (lx *lexicon) checkSlashes(pattern string) error {
	els := strings.Fields(pattern)
	for i, el := range els {
		alts := strings.Split(strings.TrimSuffix(el, "?"), "/")
		if len(alts) < 2 {
			continue
		}
		leads := 0
		for _, a := range alts {
			if lx.lead[a] {
				leads++
			}
			for _, j := range []int{i - 1, i + 1} {
				if j >= 0 && j < len(els) && els[j] == a {
					return fmt.Errorf("%q beside %q reads %q twice: a slash joins single words; write a multi-word alternative with _ (\"do_not\")", el, els[j], a)
				}
			}
		}
		if leads > 0 && leads < len(alts) {
			return fmt.Errorf("%q: a lead word stands alone among the alternatives, so its phrase is split by the slash; write it with _ (\"a_stranger\")", el)
		}
	}
	return nil
}

// compile reads a pattern: words, "a/b" alternatives (of words, classes
// and "a_b" phrases of words), "[class]", "#" or
// "#LO-HI" for a number, "*" or "*N" for a gap of up to 3 or N tokens; a
// trailing "?" makes a word, class or number optional.
func (lx *lexicon) compile(pattern string, classes map[string][]string) (rule, error) {
	r := rule{text: pattern}
	for _, el := range strings.Fields(pattern) {
		var s step
		if strings.HasPrefix(el, "*") {
			s.kind, s.hi = stepGap, 3
			if len(el) > 1 {
				n, err := strconv.Atoi(el[1:])
				if err != nil || n < 1 || n > 12 {
					return r, fmt.Errorf("gap %q: want * or *N with N from 1 to 12", el)
				}
				s.hi = n
			}
			r.steps = append(r.steps, s)
			continue
		}
		if strings.HasSuffix(el, "?") && len(el) > 1 {
			s.opt, el = true, el[:len(el)-1]
		}
		switch {
		case strings.HasPrefix(el, "#"):
			s.kind, s.lo, s.hi = stepNum, 0, 1<<30
			if len(el) > 1 {
				lo, hi, ok := strings.Cut(el[1:], "-")
				a, err1 := strconv.Atoi(lo)
				b, err2 := strconv.Atoi(hi)
				if !ok || err1 != nil || err2 != nil || a > b {
					return r, fmt.Errorf("number %q: want # or #LO-HI", el)
				}
				s.lo, s.hi = a, b
			}
		default:
			for _, w := range strings.Split(el, "/") {
				if strings.HasPrefix(w, "[") && strings.HasSuffix(w, "]") {
					words, ok := classes[w[1:len(w)-1]]
					if !ok {
						return r, fmt.Errorf("unknown class %s", w)
					}
					for _, w := range words {
						s.words = append(s.words, lx.word(w))
					}
					continue
				}
				if strings.Contains(w, "_") {
					var seq []int32
					for _, part := range strings.Split(w, "_") {
						if err := checkWord(part); err != nil || part == "" {
							return r, fmt.Errorf("phrase %q: want words joined by _", w)
						}
						seq = append(seq, lx.word(part))
					}
					s.seqs = append(s.seqs, seq)
					continue
				}
				if err := checkWord(w); err != nil {
					return r, err
				}
				s.words = append(s.words, lx.word(w))
			}
		}
		sort.Slice(s.words, func(i, j int) bool { return s.words[i] < s.words[j] })
		r.steps = append(r.steps, s)
	}
	if len(r.steps) == 0 {
		return r, fmt.Errorf("empty pattern")
	}
	first, last := r.steps[0], r.steps[len(r.steps)-1]
	if first.kind == stepGap || first.opt || last.kind == stepGap || last.opt {
		return r, fmt.Errorf("pattern %q: must start and end with a required word, class or number", pattern)
	}
	return r, nil
}

// match tries rule r at token i and returns the end (exclusive) of the
// shortest match found first.
func (r *rule) match(toks []token, i int) (int, bool) {
	return matchSteps(r.steps, toks, i)
}

func matchSteps(steps []step, toks []token, i int) (int, bool) {
	if len(steps) == 0 {
		return i, true
	}
	s := &steps[0]
	if s.kind == stepGap {
		for k := 0; k <= s.hi && i+k <= len(toks); k++ {
			if end, ok := matchSteps(steps[1:], toks, i+k); ok {
				return end, true
			}
		}
		return 0, false
	}
	if i < len(toks) && s.accepts(&toks[i]) {
		if end, ok := matchSteps(steps[1:], toks, i+1); ok {
			return end, true
		}
	}
	for _, seq := range s.seqs {
		if j, ok := matchSeq(seq, toks, i); ok {
			if end, ok := matchSteps(steps[1:], toks, j); ok {
				return end, true
			}
		}
	}
	if s.opt {
		return matchSteps(steps[1:], toks, i)
	}
	return 0, false
}

// matchSeq matches the words of seq at toks[i:] and returns the index after.
func matchSeq(seq []int32, toks []token, i int) (int, bool) {
	if i+len(seq) > len(toks) {
		return 0, false
	}
	for k, id := range seq {
		if toks[i+k].id != id {
			return 0, false
		}
	}
	return i + len(seq), true
}
