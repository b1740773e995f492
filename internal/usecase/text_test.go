package usecase_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// failingCases is a store whose case writes fail while fail is set: a
// filing that breaks after the message was stored; and whose recording of
// a case on a message fails while failFiled is set: a filing that breaks
// after the case was filed.
type failingCases struct {
	store.Store
	fail, failFiled *atomic.Bool
}

func (f failingCases) SetFiled(ctx context.Context, id int64, filed textmsg.Filed) error {
	if f.failFiled != nil && f.failFiled.Load() && filed.CaseID != 0 {
		return errors.New("disk on fire")
	}
	return f.Store.SetFiled(ctx, id, filed)
}

func (f failingCases) FileReport(ctx context.Context, r review.Report, c review.Case) (review.Report, review.Case, error) {
	if f.fail.Load() {
		return review.Report{}, review.Case{}, errors.New("disk on fire")
	}
	return f.Store.FileReport(ctx, r, c)
}

func (f failingCases) Atomically(ctx context.Context, fn func(store.Store) error) error {
	return f.Store.Atomically(ctx, func(tx store.Store) error { return fn(failingCases{tx, f.fail, f.failFiled}) })
}

func newText(t *testing.T) (*usecase.Text, store.Store, *atomic.Bool) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	u, st := newTextOn(t, failingCases{db, new(atomic.Bool), nil})
	return u, st, st.(failingCases).fail
}

// newTextOn is the text use case over st, with a rule that enqueues
// grooming.
func newTextOn(t *testing.T, st store.Store) (*usecase.Text, store.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.CreateRule(ctx, rules.Rule{Name: "grooming to review", Enabled: true, TextLabels: []string{"grooming", "sextortion"},
		Actions: []rules.Action{{Kind: rules.Enqueue, Priority: 50}}}); err != nil {
		t.Fatal(err)
	}
	sc, err := textrisk.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, tx := usecase.Over(st)
	log := audit.NewLog(st)
	rv := &usecase.Review{Tx: tx, Log: log, Desk: review.NewDesk(st, st, review.Config{})}
	return &usecase.Text{Tx: tx, Log: log, Scorer: sc, Review: rv}, st
}

func scoreOne(t *testing.T, u *usecase.Text, m textmsg.Message) usecase.Scored {
	t.Helper()
	out, err := u.Score(context.Background(), []textmsg.Message{m})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// A flagged conversation is one case: the messages that follow the
// flagged one (the child's replies, small talk) do not each add a report;
// a message flagged by its own words joins the case as one report.
func TestTextOneCasePerConversation(t *testing.T) {
	u, st, _ := newText(t)
	ctx := context.Background()
	msg := func(author, text string) textmsg.Message {
		target := "kid"
		if author == "kid" {
			target = "adult"
		}
		return textmsg.Message{ConversationID: "c1", Author: author, Target: target, Surface: textrisk.DM, TargetAge: 13, Text: text}
	}
	first := scoreOne(t, u, msg("adult", "dont tell ur parents we talk ok? delete this chat after"))
	if !first.Flagged || first.CaseID == 0 {
		t.Fatalf("the grooming message: flagged %v case %d", first.Flagged, first.CaseID)
	}
	var later []usecase.Scored
	for _, m := range []textmsg.Message{msg("kid", "ok"), msg("adult", "lol"), msg("kid", "what r u doing"), msg("adult", "nothing much, u?")} {
		s := scoreOne(t, u, m)
		if s.Flagged {
			t.Fatalf("%q flagged by itself", m.Text)
		}
		later = append(later, s)
	}
	for i, s := range later {
		if len(s.Actions) == 0 {
			t.Fatalf("later message %d fired no rule: the conversation's score should carry", i)
		}
		if s.CaseID != first.CaseID {
			t.Errorf("later message %d names case %d, want the conversation's %d", i, s.CaseID, first.CaseID)
		}
	}
	rs, err := st.CaseReports(ctx, first.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].AccountID != "adult" {
		t.Fatalf("case %d has %d reports (want 1, of the adult): %+v", first.CaseID, len(rs), rs)
	}
	again := scoreOne(t, u, msg("adult", "add me on snap and send me a pic of u"))
	if !again.Flagged || again.CaseID != first.CaseID {
		t.Fatalf("a second flagged message: flagged %v case %d, want case %d", again.Flagged, again.CaseID, first.CaseID)
	}
	if rs, _ := st.CaseReports(ctx, first.CaseID); len(rs) != 2 {
		t.Errorf("after a second flagged message the case has %d reports, want 2", len(rs))
	}

	// Once the case is decided, the conversation's next message that fires
	// a rule files anew (a new case for a reviewer), about the adult.
	if _, err := u.Review.Decide(ctx, "reviewer", first.CaseID, 0, review.Decision{Reviewer: "rev-1", Verdict: review.Dismiss, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	next := scoreOne(t, u, msg("kid", "ok bye"))
	if next.CaseID == 0 || next.CaseID == first.CaseID {
		t.Fatalf("after the decision: case %d (the decided one is %d)", next.CaseID, first.CaseID)
	}
	if rs, _ := st.CaseReports(ctx, next.CaseID); len(rs) != 1 || rs[0].AccountID != "adult" {
		t.Errorf("the new case's reports: %+v, want one about the adult, not the child who wrote the message", rs)
	}
}

// A filing that fails after the message was stored is an error; the same
// request again (same external_id) stores nothing new and completes the
// filing; a third time answers the same case.
func TestTextRetryCompletesFiling(t *testing.T) {
	u, st, fail := newText(t)
	ctx := context.Background()
	m := textmsg.Message{ExternalID: "plat-77", ConversationID: "c2", Author: "adult", Target: "kid", Surface: textrisk.DM, TargetAge: 12,
		Text: "this is our secret, dont tell ur mom. delete the chat"}
	fail.Store(true)
	if _, err := u.Score(ctx, []textmsg.Message{m}); err == nil {
		t.Fatal("a failed filing was answered as a success")
	}
	fail.Store(false)
	s := scoreOne(t, u, m)
	if s.CaseID == 0 || s.MessageID == 0 || !s.Flagged {
		t.Fatalf("the retry: %+v", s)
	}
	if ms, _ := st.Conversation(ctx, "c2", 10); len(ms) != 1 || ms[0].CaseID != s.CaseID {
		t.Fatalf("kept after the retry: %+v, want one message filed in case %d", ms, s.CaseID)
	}
	third := scoreOne(t, u, m)
	if third.CaseID != s.CaseID || third.MessageID != s.MessageID {
		t.Errorf("a third send: case %d message %d, want %d and %d", third.CaseID, third.MessageID, s.CaseID, s.MessageID)
	}
	if rs, _ := st.CaseReports(ctx, s.CaseID); len(rs) != 1 {
		t.Errorf("case %d has %d reports, want 1", s.CaseID, len(rs))
	}
	other := m
	other.Text = "something else"
	if _, err := u.Score(ctx, []textmsg.Message{other}); !errors.Is(err, textmsg.ErrExists) {
		t.Errorf("the same external_id with another text: %v, want exists", err)
	}
}

// A filing whose record on the message fails after the case was filed is
// undone with it: the retry files one report, not a second one into the
// same case.
func TestTextRetryAfterFailedRecord(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			failFiled := new(atomic.Bool)
			u, st := newTextOn(t, failingCases{b.open(t), new(atomic.Bool), failFiled})
			ctx := context.Background()
			m := textmsg.Message{ExternalID: "plat-88", ConversationID: "c3", Author: "adult", Target: "kid", Surface: textrisk.DM, TargetAge: 12,
				Text: "this is our secret, dont tell ur mom. delete the chat"}
			failFiled.Store(true)
			if _, err := u.Score(ctx, []textmsg.Message{m}); err == nil {
				t.Fatal("a filing that could not be recorded was answered as a success")
			}
			failFiled.Store(false)
			s := scoreOne(t, u, m)
			if s.CaseID == 0 {
				t.Fatalf("the retry filed no case: %+v", s)
			}
			if rs, err := st.CaseReports(ctx, s.CaseID); err != nil || len(rs) != 1 {
				t.Errorf("case %d has %d reports (%v), want 1: the failed attempt's report should not be there", s.CaseID, len(rs), err)
			}
			if ms, _ := st.Conversation(ctx, "c3", 10); len(ms) != 1 || ms[0].CaseID != s.CaseID {
				t.Errorf("kept after the retry: %+v, want one message filed in case %d", ms, s.CaseID)
			}
			if again := scoreOne(t, u, m); again.CaseID != s.CaseID {
				t.Errorf("a third send answers case %d, want %d", again.CaseID, s.CaseID)
			}
			if rs, _ := st.CaseReports(ctx, s.CaseID); len(rs) != 1 {
				t.Errorf("after a third send case %d has %d reports, want 1", s.CaseID, len(rs))
			}
		})
	}
}
