package textrisk

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
	// Threshold, or -1.
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
}

type author struct {
	fam    [nFamilies]float64
	stages []Stage
}

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
	before := c.authorScore(t.Author, au)
	for i, v := range a.inTalk {
		if v == 0 {
			continue
		}
		// Each message's evidence enters at a discount: a long benign
		// chat gathers stray weak phrases ("pick you up", "video call"),
		// and only several stages together should flag.
		v = scaleOdds(v, turnDiscount)
		if au.fam[i] == 0 {
			au.stages = append(au.stages, Stage{families[i].name, turn})
		}
		// The same kind of evidence again counts at half weight, as
		// within a message: asking the age twice is not two stages.
		hi, lo := max(au.fam[i], v), min(au.fam[i], v)
		au.fam[i] = 1 - (1-hi)*(1-lo/2)
	}
	after := c.authorScore(t.Author, au)
	if after-before >= minMove {
		c.res.Moves = append(c.res.Moves, Move{Turn: turn, Author: t.Author, Before: round3(before), After: round3(after), Reasons: r.Reasons})
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
	return r
}

// authorScore combines an author's evidence, discounted when someone
// else addressed them as family.
func (c *Conversation) authorScore(name string, au *author) float64 {
	kin := len(c.kinBy) > 1 || len(c.kinBy) == 1 && !c.kinBy[name]
	if !kin {
		return noisyOr(au.fam[:])
	}
	var fam [nFamilies]float64
	for i, v := range au.fam {
		fam[i] = scaleOdds(v, kinDiscount)
	}
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
