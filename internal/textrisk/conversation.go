package textrisk

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Turn is one message of a conversation, with who wrote it.
type Turn struct {
	Author string
	Message
}

// Move is a message that raised its author's score in the conversation,
// with the reasons that did.
type Move struct {
	Turn    int      `json:"turn"` // index of the message, from 0
	Author  string   `json:"author"`
	Before  float64  `json:"before"`
	After   float64  `json:"after"`
	Reasons []Reason `json:"reasons"`
	// Model is the learned model's score of the message, when one is
	// used: a message no rule fired on can move the score by it.
	Model float64 `json:"model,omitempty"`
}

// Stage is the first message at which a family of evidence appeared.
type Stage struct {
	Family string `json:"family"`
	Turn   int    `json:"turn"`
}

// ConversationResult is a conversation's score: that of its most
// concerning author, whose messages' evidence accumulates across turns
// (grooming escalates by stages: each message alone may say little).
type ConversationResult struct {
	Score   float64 `json:"score"`
	Flagged bool    `json:"flagged"`
	// FlaggedAt is the message at which the score first reached
	// Threshold, or -1. A flag raised before the thread showed the
	// authors to be family is withdrawn then (see withdraw): FlaggedAt is
	// -1 again and Score the authors' present one.
	FlaggedAt int      `json:"flagged_at"`
	Author    string   `json:"author"` // whose messages gave Score
	Labels    []string `json:"labels"`
	Stages    []Stage  `json:"stages"` // of Author, in order
	Moves     []Move   `json:"moves"`  // of every author, in order
}

// MaxAuthors bounds the authors a Conversation tracks; messages by any
// further author are scored alone but not accumulated. A conversation
// between two accounts has two; a group chat rarely a hundred.
const MaxAuthors = 256

// turnDiscount scales the odds of a message's evidence in a conversation.
const turnDiscount = 0.6

// kinDiscount scales the odds of evidence from an author addressed as
// family. Abuse within families is real, but it is not what phrases
// between strangers reveal.
const kinDiscount = 0.4

// minMove is the rise in an author's score that makes a message a Move.
const minMove = 0.05

// Conversation accumulates evidence over a conversation's messages, one
// Add at a time, so a server can keep one per conversation and score each
// message as it arrives. It is not safe for concurrent use.
type Conversation struct {
	s       *Scorer
	turns   int
	authors map[string]*author
	res     ConversationResult
	// kinBy are the authors who addressed someone as family ("thank you
	// grandma"): everyone else in the conversation is then likely a
	// relative, whose gifts, calls and "love you" are no stage of
	// grooming by a stranger.
	kinBy map[string]bool
	// kinCall: someone called another by a family name ("thanks
	// grandma!"), not only mentioned one; only then is a flag withdrawn.
	kinCall bool
}

type author struct {
	fam [nFamilies]float64
	// learned is the model's evidence from messages in which no rule
	// fired, accumulated as one more family (see modelDiscount).
	learned float64
	stages  []Stage
	// inCopy: the author kept a parent or another adult informed (a
	// coach's consent form, a sitter's "your mom said"); a groomer keeps
	// the parents out ("dont tell ur mum"). shared: the author named the
	// reader's family as their own ("mam's raging", "soy el abuelo").
	inCopy, shared bool
	// toMinor: the author wrote to a declared minor, not being one.
	// minor: the author declared an age under 18.
	toMinor, minor bool
}

// hard says whether the author's evidence has what a relative's gifts,
// visits and "is your mum home?" do not need: sexual talk, a photo
// request, secrecy.
func (au *author) hard() bool {
	for _, fi := range hardStages {
		if au.fam[fi] > 0 {
			return true
		}
	}
	return false
}

// hardStages are the families hard looks for, and sexualTalk the one no
// discount excuses: looked up once, not in each Add.
var (
	sexualTalk = familyIndex["sexual_talk"]
	hardStages = [...]int{sexualTalk, familyIndex["image_request"], familyIndex["secrecy"]}
)

// modelDiscount scales the odds of the model's score of a message in which
// no rule fired, before turnDiscount. The model reads what the phrases
// miss ("she doesnt have to know"), but context raises every score of a
// message to a minor: at full weight it flags benign chats with one, even
// now that it learns from harmless conversations too (x0.5 cleared two
// fewer, cross-validated by file). Where a rule fired, a higher model score
// mostly repeats the rule's and is not counted again; a lower one
// discounts the message (see Add).
const modelDiscount = 0.4

// noControl scales the odds of an author's grooming evidence while they
// have shown no stage of access or control (controlStages) and do not
// write to a declared minor: compliments, pictures and flirting between
// people of unknown age are dating and sexting, and grooming needs access
// to a child. Sexual talk aimed at a declared minor is flagged by the
// message itself.
const noControl = 0.5

// NewConversation starts an empty conversation.
func (s *Scorer) NewConversation() *Conversation {
	return &Conversation{s: s, authors: map[string]*author{}, kinBy: map[string]bool{}, res: ConversationResult{FlaggedAt: -1}}
}

// Add scores one more message and returns its own Result; the
// conversation's standing is Result.
func (c *Conversation) Add(t Turn) Result {
	turn := c.turns
	c.turns++
	a := c.s.analyse(t.Message)
	r := c.s.result(t.Message, a)
	au, ok := c.authors[t.Author]
	if !ok {
		if len(c.authors) >= MaxAuthors {
			return r
		}
		au = &author{}
		c.authors[t.Author] = au
	}
	if a.kin && len(c.kinBy) < MaxAuthors {
		c.kinBy[t.Author] = true
	}
	c.kinCall = c.kinCall || a.kinCall
	au.inCopy = au.inCopy || a.inCopy || a.reported
	au.shared = au.shared || a.shared
	au.toMinor = au.toMinor || t.minorTarget()
	au.minor = au.minor || t.minorAuthor()
	before := c.authorScore(t.Author, au)
	// k scales the odds of the message's rule evidence: the model, where
	// one is used, refines the rules as it does for a message alone.
	k := turnDiscount
	if rule := noisyOr(a.inTalk[:]); r.Model != nil && rule == 0 {
		if r.Model.Score > 0 {
			au.learned = again(au.learned, scaleOdds(r.Model.Score, turnDiscount*modelDiscount))
		}
	} else if r.Model != nil && r.Model.Score < rule {
		// Where the model scores a message below the rules it has
		// learnt that such phrases are harmless ("a secret guest", a
		// surprise): the message counts at the model's odds.
		k *= math.Exp(logit(r.Model.Score) - logit(rule))
	}
	for i, v := range a.inTalk {
		// The families of comments under content (remarks about who is
		// shown, emoji, "trade", "link") say nothing of escalation in a
		// private chat, where game trades and links are everyday: there
		// each message is judged alone.
		if v == 0 || families[i].label == SexualComment && (t.Surface == DM || t.Surface == "") {
			continue
		}
		// Each message's evidence enters at a discount: a long benign
		// chat gathers stray weak phrases ("pick you up", "video call"),
		// and only several stages together should flag.
		if au.fam[i] == 0 {
			au.stages = append(au.stages, Stage{families[i].name, turn})
		}
		au.fam[i] = again(au.fam[i], scaleOdds(v, k))
	}
	after := c.authorScore(t.Author, au)
	if after-before >= minMove {
		mv := Move{Turn: turn, Author: t.Author, Before: round3(before), After: round3(after), Reasons: shown(r.Reasons)}
		if r.Model != nil {
			mv.Model = r.Model.Score
		}
		c.res.Moves = append(c.res.Moves, mv)
	}
	if after > c.res.Score || c.res.Author == "" {
		c.res.Score, c.res.Author = after, t.Author
		c.res.Stages = au.stages
		if after >= Threshold {
			c.res.Labels = labelsOf(&au.fam)
		}
	}
	if c.res.FlaggedAt < 0 && after >= Threshold {
		c.res.FlaggedAt = turn
	}
	if c.res.FlaggedAt >= 0 && c.kinCall {
		c.withdraw()
	}
	return r
}

// withdraw takes back a flag raised before the thread showed who the
// authors are to each other ("thanks grandma" after an aunt's gift and
// "is your mum home?"): once the family discount is known, the
// conversation stands at its authors' present scores. It does so only when
// no author's evidence so far has sexual talk, a photo request or secrecy,
// which a relative's surprise does not need and a groomer who is called
// "uncle" does.
func (c *Conversation) withdraw() {
	var top float64
	var by string
	for name, au := range c.authors {
		if au.hard() {
			return
		}
		if sc := c.authorScore(name, au); sc > top || sc == top && name < by || by == "" {
			top, by = sc, name
		}
	}
	if top >= Threshold {
		return
	}
	c.res.Score, c.res.Author, c.res.FlaggedAt, c.res.Labels = top, by, -1, nil
	c.res.Stages = c.authors[by].stages
}

// again adds evidence v to an accumulated family p: the same kind of
// evidence again counts at half weight, as within a message (asking the
// age twice is not two stages).
func again(p, v float64) float64 {
	hi, lo := max(p, v), min(p, v)
	return 1 - (1-hi)*(1-lo/2)
}

// minorSide says whether name is the declared minor that another author
// writes to: a child's replies echo what they were asked ("my mom says i
// cant use cam") and are no evidence against them. Two declared minors
// are peers, and both count.
func (c *Conversation) minorSide(name string, au *author) bool {
	if au.toMinor {
		return false
	}
	for other, o := range c.authors {
		if other != name && o.toMinor && (au.minor || len(c.authors) == 2) {
			return true
		}
	}
	return false
}

// controlStages are the grooming families that seek access to a child or
// control over the contact: probing age or being alone, secrecy, moving
// apps, gifts, meeting.
var controlStages = [...]int{familyIndex["age_probe"], familyIndex["secrecy"], familyIndex["platform_move"], familyIndex["gifts"], familyIndex["meeting"]}

// kin says whether name is likely a relative of the others: someone else
// addressed them as family, or, between two people, either said it ("soy
// tu tía", "love grandad" is as telling as "thanks grandma").
func (c *Conversation) kin(name string) bool {
	return len(c.kinBy) > 1 || len(c.kinBy) == 1 && (!c.kinBy[name] || len(c.authors) == 2)
}

// authorScore combines an author's evidence, discounted when they are
// likely family (kin, or shared: a family name with no owner is weaker
// evidence, which a groomer echoing the child's "mummy" gives too, so the
// two do not add up) and again when they keep the child's parents informed
// (inCopy: the evidence is of an adult the family knows and has told, a
// relative's or a sitter's); 0 for the minor side.
func (c *Conversation) authorScore(name string, au *author) float64 {
	if c.minorSide(name, au) {
		return 0
	}
	k := 1.0
	// Sexual talk is no relative's or sitter's: "a pic for daddy" names
	// no family, and a family name or a parent's word does not excuse it.
	sexual := au.fam[sexualTalk] > 0
	if c.kin(name) || au.shared && !sexual {
		k *= kinDiscount
	}
	if au.inCopy && !sexual {
		k *= kinDiscount
	}
	control := au.toMinor
	for _, i := range controlStages {
		control = control || au.fam[i] > 0
	}
	var fam [nFamilies + 1]float64
	for i, v := range au.fam {
		fam[i] = scaleOdds(v, k)
		if !control && families[i].label == Grooming {
			fam[i] = scaleOdds(fam[i], noControl)
		}
	}
	fam[nFamilies] = scaleOdds(au.learned, k)
	return noisyOr(fam[:])
}

// Result is the conversation's standing after the messages added so far.
func (c *Conversation) Result() ConversationResult {
	r := c.res
	r.Score = round3(r.Score)
	r.Flagged = r.FlaggedAt >= 0
	r.Stages = append([]Stage{}, r.Stages...)
	r.Moves = append([]Move{}, r.Moves...)
	r.Labels = append([]string{}, r.Labels...)
	return r
}

// ScoreConversation scores a whole conversation at once.
func (s *Scorer) ScoreConversation(turns []Turn) ConversationResult {
	c := s.NewConversation()
	for _, t := range turns {
		c.Add(t)
	}
	return c.Result()
}

// LabelledConversation is a conversation from a labelled file (see
// ReadConversations): Label is grooming or none, Grooming the indices of
// the messages marked as carrying a grooming signal by themselves.
type LabelledConversation struct {
	ID, Label string
	Minor     string // the author declared a minor, or ""
	Turns     []Turn
	Grooming  []int
}

// ReadConversations reads labelled conversations, as in
// testdata/text/conversations*.txt: a block starts "conv ID LABEL
// [minor=AUTHOR age=N]", LABEL grooming, or none (benign) for a harmless
// one; then one DM a line, MARK<TAB>AUTHOR<TAB>TEXT, MARK g for a message
// carrying a grooming signal by itself and - for any other. The declared
// minor's age is the target age of the other authors' messages. Blank
// lines and lines starting with "#" are skipped; errors name the line,
// and the limits of ReadExamples hold.
func ReadConversations(r io.Reader) ([]LabelledConversation, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	var out []LabelledConversation
	var minor string
	var age, lines int
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if lines++; lines > MaxExamples {
			return nil, fmt.Errorf("line %d: more than %d messages", n, MaxExamples)
		}
		if f := strings.Fields(line); len(f) > 0 && f[0] == "conv" {
			if len(f) < 3 {
				return nil, fmt.Errorf("line %d: want conv ID LABEL [minor=AUTHOR age=N]", n)
			}
			c := LabelledConversation{ID: f[1], Label: f[2]}
			switch c.Label {
			case Grooming:
			case "none", "benign":
				c.Label = "none"
			default:
				return nil, fmt.Errorf("line %d: label %q: want grooming, none or benign", n, truncate(c.Label, 40))
			}
			minor, age = "", 0
			for _, kv := range f[3:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "minor":
					minor = v
				case "age":
					a, err := strconv.Atoi(v)
					if err != nil || a < 1 || a > 120 {
						return nil, fmt.Errorf("line %d: age %q: want a whole number of years", n, truncate(v, 40))
					}
					age = a
				default:
					return nil, fmt.Errorf("line %d: %q: want minor=AUTHOR or age=N", n, truncate(kv, 40))
				}
			}
			c.Minor = minor
			out = append(out, c)
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 || len(out) == 0 {
			return nil, fmt.Errorf("line %d: want MARK<TAB>AUTHOR<TAB>TEXT after a conv line", n)
		}
		if !utf8.ValidString(parts[2]) {
			return nil, fmt.Errorf("line %d: text is not valid UTF-8", n)
		}
		c := &out[len(out)-1]
		m := Message{Text: parts[2], Surface: DM}
		if minor != "" && parts[1] != minor {
			m.TargetAge = age
		}
		switch parts[0] {
		case "g":
			c.Grooming = append(c.Grooming, len(c.Turns))
		case "-":
		default:
			return nil, fmt.Errorf("line %d: mark %q: want g or -", n, truncate(parts[0], 40))
		}
		c.Turns = append(c.Turns, Turn{Author: parts[1], Message: m})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d KiB", lines+1, MaxLine>>10)
		}
		return nil, err
	}
	return out, nil
}

// ConversationExamples are the messages of labelled conversations a model
// learns from: each message marked g as grooming, and the messages of
// harmless conversations by anyone but the declared minor as none (an
// aunt's "send me a pic of your new bike" to her 12-year-old niece).
// Messages trained on single, the model scores every message to a minor
// high (context raises it), so in a conversation it could not tell the
// aunt from the stranger; these teach it the difference. The unmarked
// messages of grooming conversations are left out: small talk that is a
// stage of grooming is not a harmless example, nor a harmful one alone.
func ConversationExamples(cs []LabelledConversation) []Example {
	var ex []Example
	for _, c := range cs {
		marked := 0
		for i, t := range c.Turns {
			switch {
			case marked < len(c.Grooming) && c.Grooming[marked] == i:
				marked++
				ex = append(ex, Example{Message: t.Message, Label: Grooming, Positive: true})
			case c.Label != Grooming && t.Author != c.Minor:
				ex = append(ex, Example{Message: t.Message})
			}
		}
	}
	return ex
}

// shown is rs as a reader sees them: the exported fields only. A move is
// shown, never scored again, and a kept conversation state (State) carries
// only what JSON carries, so a resumed conversation's moves equal these.
func shown(rs []Reason) []Reason {
	out := make([]Reason, len(rs))
	for i, r := range rs {
		r.disguised, r.support = false, false
		out[i] = r
	}
	return out
}
