package usecase_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/postgres"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/testkit"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// fileConversation is one block of a conversation file
// (testdata/text/conversations*.txt, read by textrisk.ReadConversations)
// as the use case receives it: one message per turn.
type fileConversation struct {
	id    string
	msgs  []textmsg.Message
	turns []textrisk.Turn
}

func readConversationFile(t *testing.T, path string) []fileConversation {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cs, err := textrisk.ReadConversations(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]fileConversation, len(cs))
	for i, c := range cs {
		out[i] = fileConversation{id: filepath.Base(path) + ":" + c.ID, turns: c.Turns}
		for _, turn := range c.Turns {
			in := turn.Message
			out[i].msgs = append(out[i].msgs, textmsg.Message{ConversationID: out[i].id, Author: turn.Author, Surface: in.Surface,
				Text: in.Text, ChildContent: in.OnChildContent, TargetAge: in.TargetAge, AuthorAge: in.AuthorAge})
		}
	}
	return out
}

func textOver(t *testing.T, st store.Store, sc *textrisk.Scorer, keep int) *usecase.Text {
	t.Helper()
	_, tx := usecase.Over(st)
	return &usecase.Text{Tx: tx, Log: audit.NewLog(st), Scorer: sc, Keep: keep}
}

func openSQLite(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Every message of every conversation file, scored through the use case
// (from the kept state), gets the conversation result the scorer gives
// the conversation up to it, with and without the model.
func TestTextConversationMatchesScorer(t *testing.T) {
	files, err := filepath.Glob("../../testdata/text/conversations*.txt")
	if err != nil || len(files) < 5 {
		t.Fatalf("conversation files %v, %v", files, err)
	}
	st := openSQLite(t, t.TempDir())
	for _, model := range []string{textrisk.RulesOnly, textrisk.BuiltinModel} {
		sc, err := textrisk.Open(model)
		if err != nil {
			t.Fatal(err)
		}
		u := textOver(t, st, sc, 0)
		n := 0
		for _, f := range files {
			for _, c := range readConversationFile(t, f) {
				for i, m := range c.msgs {
					m.ConversationID = model + ":" + m.ConversationID
					got := scoreOne(t, u, m)
					want := sc.ScoreConversation(c.turns[:i+1])
					if got.Conversation == nil || !reflect.DeepEqual(*got.Conversation, want) {
						t.Fatalf("%s %s message %d: use case %+v, scorer %+v", model, c.id, i, got.Conversation, want)
					}
					if alone := sc.Score(m.Input()); got.Score != alone.Score || got.Flagged != alone.Flagged {
						t.Fatalf("%s %s message %d: its own score %v, alone %v", model, c.id, i, got.Score, alone.Score)
					}
				}
				n++
			}
		}
		if n < 100 {
			t.Errorf("%d conversations scored: want every file's", n)
		}
	}
}

// fillers are small talk with no evidence: the weeks between stages.
var fillers = []string{"lol same", "what did u have for dinner", "that game was so good", "haha ok", "i like that song too", "cool cool"}

// stagesApart is a conversation whose three grooming stages (each weak
// alone) are gap filler messages apart.
func stagesApart(gap int) []textmsg.Message {
	var ms []textmsg.Message
	add := func(author, text string) {
		ms = append(ms, textmsg.Message{ConversationID: "long", Author: author, Surface: textrisk.DM, Text: text})
	}
	for i, stage := range []string{"how old r u?", "dont tell anyone ok", "add me on snap"} {
		if i > 0 {
			for j := range gap {
				add([]string{"a", "b"}[j%2], fillers[j%len(fillers)])
			}
		}
		add("a", stage)
	}
	return ms
}

// Stages hundreds of messages apart combine: the state remembers what the
// kept messages (here 20) no longer hold, across a restart.
func TestTextLongConversationRemembers(t *testing.T) {
	sc, err := textrisk.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ms := stagesApart(300)
	var turns []textrisk.Turn
	for _, m := range ms {
		turns = append(turns, textrisk.Turn{Author: m.Author, Message: m.Input()})
	}
	if r := sc.ScoreConversation(turns); !r.Flagged || r.FlaggedAt != len(ms)-1 {
		t.Fatalf("the whole conversation: flagged %v at %d: want at its last message", r.Flagged, r.FlaggedAt)
	}
	if r := sc.ScoreConversation(turns[len(turns)-textmsg.Window:]); r.Flagged {
		t.Fatalf("the last %d messages alone are flagged (%.2f): the test would not show the memory", textmsg.Window, r.Score)
	}
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	u := textOver(t, st, sc, 20)
	var last usecase.Scored
	for i, m := range ms {
		if i == len(ms)/2 { // a restart: another store and scorer over the same database
			st.Close()
			sc2, err := textrisk.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			u = textOver(t, openSQLite(t, dir), sc2, 20)
		}
		last = scoreOne(t, u, m)
		if i < len(ms)-1 && last.Conversation.Flagged {
			t.Fatalf("flagged at message %d of %d", i, len(ms))
		}
	}
	c := last.Conversation
	if !c.Flagged || c.FlaggedAt != len(ms)-1 || c.Author != "a" || len(c.Stages) != 3 || c.Stages[0].Turn != 0 {
		t.Fatalf("after %d messages: %+v: want flagged at the last, the stages from the first", len(ms), c)
	}
}

// A state of another scorer (a new model or rules) or one that does not
// include the newest kept message (written before states were, or by an
// older server) is not resumed: the conversation is rebuilt from the kept
// messages.
func TestTextConversationRebuilt(t *testing.T) {
	ctx := context.Background()
	rules, err := textrisk.Open(textrisk.RulesOnly)
	if err != nil {
		t.Fatal(err)
	}
	model, err := textrisk.Open(textrisk.BuiltinModel)
	if err != nil {
		t.Fatal(err)
	}
	st := openSQLite(t, t.TempDir())
	ms := stagesApart(3)
	var turns []textrisk.Turn
	for _, m := range ms {
		turns = append(turns, textrisk.Turn{Author: m.Author, Message: m.Input()})
	}
	u := textOver(t, st, rules, 0)
	for _, m := range ms[:4] {
		scoreOne(t, u, m)
	}
	// Another scorer version: rebuilt with the model from the 4 kept.
	got := scoreOne(t, textOver(t, st, model, 0), ms[4])
	if want := model.ScoreConversation(turns[:5]); !reflect.DeepEqual(*got.Conversation, want) {
		t.Errorf("after a change of scorer: %+v, want %+v", got.Conversation, want)
	}
	// A state that misses the newest kept message: rebuilt.
	stale, ok, err := st.ConversationState(ctx, "long")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	scoreOne(t, u, ms[5])
	if err := st.SetConversationState(ctx, "long", stale); err != nil {
		t.Fatal(err)
	}
	got = scoreOne(t, u, ms[6])
	if want := rules.ScoreConversation(turns[:7]); !reflect.DeepEqual(*got.Conversation, want) {
		t.Errorf("after a stale state: %+v, want %+v", got.Conversation, want)
	}
	// An unreadable state: rebuilt, not an error.
	if err := st.SetConversationState(ctx, "long", textmsg.State{LastID: got.MessageID, Data: []byte("{")}); err != nil {
		t.Fatal(err)
	}
	got = scoreOne(t, u, ms[7])
	if want := rules.ScoreConversation(turns[:8]); !reflect.DeepEqual(*got.Conversation, want) {
		t.Errorf("after an unreadable state: %+v, want %+v", got.Conversation, want)
	}
}

// Messages of one conversation scored at once, by two servers over one
// database, are each scored after the other: none is lost from the state,
// which ends as the conversation scored in the order the messages were
// stored.
func TestTextConversationConcurrent(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		st := openSQLite(t, t.TempDir())
		concurrentConversation(t, st, st)
	})
	t.Run("postgres", func(t *testing.T) {
		url := testkit.PostgresURL(t)
		open := func() store.Store {
			st, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
		concurrentConversation(t, open(), open())
	})
}

func concurrentConversation(t *testing.T, st1, st2 store.Store) {
	ctx := context.Background()
	sc, err := textrisk.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	nodes := []*usecase.Text{textOver(t, st1, sc, 0), textOver(t, st2, sc, 0)}
	const each = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for n, u := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Each message of evidence, so that one scored from a
				// state without the other's would show.
				text := []string{"how old r u?", "dont tell anyone ok", "add me on snap", "lol same"}[i%4]
				_, err := u.Score(ctx, []textmsg.Message{{ConversationID: "race", Author: fmt.Sprint("node", n, "-", i%3), Surface: textrisk.DM, Text: text}})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	kept, err := st1.Conversation(ctx, "race", 1000)
	if err != nil || len(kept) != 2*each {
		t.Fatalf("%d kept, %v", len(kept), err)
	}
	last := textmsg.Message{ConversationID: "race", Author: "node0-0", Surface: textrisk.DM, Text: "send me a pic"}
	var turns []textrisk.Turn
	for _, m := range append(kept, last) {
		turns = append(turns, textrisk.Turn{Author: m.Author, Message: m.Input()})
	}
	got := scoreOne(t, nodes[1], last)
	if want := sc.ScoreConversation(turns); !reflect.DeepEqual(*got.Conversation, want) {
		t.Errorf("after messages from two servers at once: %+v, want %+v", got.Conversation, want)
	}
}

// A message flagged through stages long past, whose filing failed, is
// filed by its retry: the retry is scored from the conversation as it
// stood after the message, not from the window of kept messages.
func TestTextRetryRemembers(t *testing.T) {
	u, st, fail := newText(t)
	ctx := context.Background()
	ms := stagesApart(60)
	for _, m := range ms[:len(ms)-1] {
		if s := scoreOne(t, u, m); s.CaseID != 0 {
			t.Fatalf("message %q filed", m.Text)
		}
	}
	last := ms[len(ms)-1]
	last.ExternalID = "plat-long"
	fail.Store(true)
	if _, err := u.Score(ctx, []textmsg.Message{last}); err == nil {
		t.Fatal("a failed filing was answered as a success")
	}
	fail.Store(false)
	s := scoreOne(t, u, last)
	if s.CaseID == 0 || !s.Conversation.Flagged || len(s.Conversation.Stages) != 3 {
		t.Fatalf("the retry: case %d, conversation %+v", s.CaseID, s.Conversation)
	}
	if kept, _ := st.Conversation(ctx, "long", 1000); len(kept) != len(ms) {
		t.Errorf("%d kept, want %d: the retry stored a message", len(kept), len(ms))
	}
}
