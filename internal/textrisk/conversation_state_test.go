package textrisk

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

// A conversation saved (State) and resumed (Resume) after every message
// scores every message and ends as the conversation scored at once, on
// every conversation file, with and without the model.
func TestConversationStateResumes(t *testing.T) {
	files, err := filepath.Glob("../../testdata/text/conversations*.txt")
	if err != nil || len(files) < 5 {
		t.Fatalf("conversation files %v, %v", files, err)
	}
	for _, s := range []*Scorer{mustScorer(t), mustBuiltin(t)} {
		n := 0
		for _, f := range files {
			for _, c := range readConversations(t, f) {
				want := s.ScoreConversation(c.Turns)
				whole := s.NewConversation()
				resumed := s.NewConversation()
				for i, turn := range c.Turns {
					data, err := resumed.State()
					if err != nil {
						t.Fatal(err)
					}
					if resumed, err = s.Resume(data); err != nil {
						t.Fatalf("%s message %d: %v", c.ID, i, err)
					}
					if got, want := resumed.Add(turn), whole.Add(turn); !reflect.DeepEqual(got, want) {
						t.Fatalf("%s message %d: resumed %+v, whole %+v", c.ID, i, got, want)
					}
				}
				got := resumed.Result()
				if len(want.Moves) > len(got.Moves) {
					// The state keeps the newest moves only.
					if len(got.Moves) < MaxStateMoves {
						t.Errorf("%s: %d moves of %d kept", c.ID, len(got.Moves), len(want.Moves))
					}
					want.Moves = want.Moves[len(want.Moves)-len(got.Moves):]
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: resumed\n%+v\nwhole\n%+v", c.ID, got, want)
				}
				n++
			}
		}
		if n < 100 {
			t.Errorf("%d conversations: want every file's", n)
		}
	}
}

// A state is resumed only by a scorer that accumulates alike.
func TestConversationStateVersion(t *testing.T) {
	rules, model := mustScorer(t), mustBuiltin(t)
	if rules.StateVersion() == model.StateVersion() || rules.StateVersion() != mustScorer(t).StateVersion() {
		t.Fatalf("versions %q (rules) and %q (model): want one per scorer", rules.StateVersion(), model.StateVersion())
	}
	c := rules.NewConversation()
	c.Add(Turn{Author: "a", Message: Message{Text: "how old r u", Surface: DM}})
	data, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Resume(data); !errors.Is(err, ErrStateVersion) {
		t.Errorf("the model resumed the rules' state: %v", err)
	}
	if _, err := rules.Resume(data[:len(data)/2]); err == nil {
		t.Error("a truncated state resumed")
	}
	r, err := rules.Resume(data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Result(), c.Result(); !reflect.DeepEqual(got, want) || len(got.Stages) != 1 {
		t.Errorf("resumed %+v, want %+v", got, want)
	}
}
