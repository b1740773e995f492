package textrisk

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
)

// A conversation's state is what a Conversation has accumulated (each
// author's evidence and stages, who addressed whom as family, the result so
// far), so that a server can keep it beside the conversation's messages and
// score the next message with one Add, remembering every earlier one, rather
// than re-scoring a window of kept messages for each.

// stateFormat names the encoding State writes. Bump it when the fields
// change; a change of the scoring itself changes StateVersion by itself.
const stateFormat = "conversation-state-2"

// MaxStateMoves bounds the moves a state keeps (the newest): every other
// part of a state is bounded by MaxAuthors and the families, and a state is
// rewritten with each message. The stages keep when each kind of evidence
// first appeared, however long ago.
const MaxStateMoves = 32

// ErrStateVersion says a state was written by another scorer (other rules,
// model or accumulation) or format: the conversation must be scored again
// from its messages.
var ErrStateVersion = errors.New("conversation state is of another scorer version")

type state struct {
	Version string        `json:"version"`
	Turns   int           `json:"turns"`
	Authors []authorState `json:"authors"`
	KinBy   []string      `json:"kin_by,omitempty"`
	// KinCall: someone was called by a family name, so a flag is
	// withdrawn once its author's evidence is discounted below Threshold
	// (a copy phrase after the flag, Conversation.withdraw).
	KinCall bool               `json:"kin_call,omitempty"`
	Result  ConversationResult `json:"result"`
}

type authorState struct {
	Name    string             `json:"name"`
	Fam     map[string]float64 `json:"fam,omitempty"` // by family name; absent is 0
	Learned float64            `json:"learned,omitempty"`
	Stages  []Stage            `json:"stages,omitempty"`
	ToMinor bool               `json:"to_minor,omitempty"`
	Minor   bool               `json:"minor,omitempty"`
	InCopy  bool               `json:"in_copy,omitempty"`
	Shared  bool               `json:"shared,omitempty"`
}

// State encodes what c has accumulated, for Resume. JSON keeps floats
// exactly, so a resumed conversation scores as c would.
func (c *Conversation) State() ([]byte, error) {
	st := state{Version: c.s.StateVersion(), Turns: c.turns, KinCall: c.kinCall, Result: c.Result()}
	st.Result.Score = c.res.Score // unrounded: the next Add compares with it
	if n := len(st.Result.Moves); n > MaxStateMoves {
		st.Result.Moves = st.Result.Moves[n-MaxStateMoves:]
	}
	for name, au := range c.authors {
		as := authorState{Name: name, Learned: au.learned, Stages: au.stages, ToMinor: au.toMinor, Minor: au.minor, InCopy: au.inCopy, Shared: au.shared}
		for i, v := range au.fam {
			if v != 0 {
				if as.Fam == nil {
					as.Fam = map[string]float64{}
				}
				as.Fam[families[i].name] = v
			}
		}
		st.Authors = append(st.Authors, as)
	}
	// Sorted, so that the same conversation always encodes the same.
	slices.SortFunc(st.Authors, func(a, b authorState) int { return cmp.Compare(a.Name, b.Name) })
	for name := range c.kinBy {
		st.KinBy = append(st.KinBy, name)
	}
	slices.Sort(st.KinBy)
	return json.Marshal(st)
}

// Resume returns the conversation a State encoded, to Add the messages
// that follow; ErrStateVersion if s scores otherwise than the scorer that
// wrote it.
func (s *Scorer) Resume(data []byte) (*Conversation, error) {
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("reading a conversation state: %w", err)
	}
	if st.Version != s.StateVersion() {
		return nil, ErrStateVersion
	}
	if len(st.Authors) > MaxAuthors || len(st.KinBy) > MaxAuthors {
		return nil, fmt.Errorf("reading a conversation state: %d authors, more than %d", len(st.Authors), MaxAuthors)
	}
	c := s.NewConversation()
	c.turns, c.res, c.kinCall = st.Turns, st.Result, st.KinCall
	for _, as := range st.Authors {
		au := &author{learned: as.Learned, stages: as.Stages, toMinor: as.ToMinor, minor: as.Minor, inCopy: as.InCopy, shared: as.Shared}
		for name, v := range as.Fam {
			i, ok := familyIndex[name]
			if !ok {
				return nil, fmt.Errorf("reading a conversation state: author %q: unknown family %q", as.Name, name)
			}
			au.fam[i] = v
		}
		c.authors[as.Name] = au
	}
	for _, name := range st.KinBy {
		c.kinBy[name] = true
	}
	// Result() hands out copies, but Add appends to res's slices: give
	// them their own arrays so no two conversations share one.
	c.res.Stages = slices.Clip(c.res.Stages)
	c.res.Moves = slices.Clip(c.res.Moves)
	return c, nil
}

// StateVersion names how s accumulates a conversation: a digest of the
// state's format, the language files, the model and the states that a
// fixed probe conversation leaves after each message. A change to any of
// them (new phrases, a retrained model, another discount in Add) changes
// it, so states kept by an older build are not resumed but rebuilt.
func (s *Scorer) StateVersion() string {
	id := RulesOnly
	if s.model != nil {
		id = s.model.ID
	}
	if v, ok := versions.Load(id); ok {
		return v.(string)
	}
	v := s.stateVersion(id)
	versions.Store(id, v)
	return v
}

// versions caches StateVersion by model ID: the probe costs a dozen
// scorings, and every message asks.
var versions sync.Map

// probe is a conversation that gathers most kinds of evidence across two
// authors, one a declared minor, and a relative.
var probe = []Turn{
	{"a", Message{Text: "hey how old are you, are you home alone", Surface: DM, TargetAge: 13, AuthorAge: 30}},
	{"b", Message{Text: "13 lol my mom is at work", Surface: DM, AuthorAge: 13}},
	{"a", Message{Text: "youre so mature for your age, dont tell anyone we talk", Surface: DM, TargetAge: 13}},
	{"a", Message{Text: "add me on snap, ill send you robux", Surface: DM, TargetAge: 13}},
	{"c", Message{Text: "thank you grandma love you", Surface: DM}},
	{"a", Message{Text: "send me a pic of you, lets meet at the park alone", Surface: DM, TargetAge: 13}},
	{"b", Message{Text: "ok", Surface: DM}},
	{"a", Message{Text: "send more or i will share your pics with everyone", Surface: DM, TargetAge: 13}},
	{"d", Message{Text: "she doesnt have to know 🍑", Surface: Comment, OnChildContent: true}},
}

func (s *Scorer) stateVersion(model string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", stateFormat, model)
	// The language files (embedded: the scorer's rules) in name order.
	_ = fs.WalkDir(langFiles, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(langFiles, name)
			fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
			h.Write(b)
		}
		return nil
	})
	c := s.NewConversation()
	for _, t := range probe {
		c.Add(t)
		fmt.Fprintf(h, "%d\x00", c.turns)
		for _, name := range []string{"a", "b", "c", "d"} {
			if au := c.authors[name]; au != nil {
				fmt.Fprintf(h, "%s %v %v %v %v %v %v %v %v\x00", name, au.fam, au.learned, au.stages, au.toMinor, au.minor, au.inCopy, au.shared, c.authorScore(name, au))
			}
		}
		fmt.Fprintf(h, "%+v\x00", c.res)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
