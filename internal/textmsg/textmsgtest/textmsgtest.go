// Package textmsgtest is the test suite every textmsg.Store passes.
package textmsgtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

// Run runs the suite, each test over a fresh store from open.
func Run(t *testing.T, open func(t *testing.T) textmsg.Store) {
	t.Run("Messages", func(t *testing.T) { testMessages(t, open(t)) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, open(t)) })
	t.Run("PruneConcurrently", func(t *testing.T) { testPruneConcurrently(t, open(t)) })
}

func testMessages(t *testing.T, s textmsg.Store) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	add := func(conv string, i, keep int) textmsg.Message {
		t.Helper()
		m, err := s.AddMessage(ctx, textmsg.Message{
			ConversationID: conv, Author: "a", Target: "b", Surface: textrisk.DM, TargetAge: 13,
			Text: fmt.Sprintf("message %d ✓ \"quoted\"", i), Score: 0.25, Labels: []string{},
			Reasons:    []textrisk.Reason{{Family: "secrecy", Label: "grooming", Rule: "r", Strength: 0.5, Phrases: []string{"x"}, Spans: []textrisk.Span{{Start: 0, End: 7}}}},
			ReceivedAt: at.Add(time.Duration(i) * time.Second),
		}, keep)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	var ids []int64
	for i := range 8 {
		ids = append(ids, add("c1", i, 5).ID)
		add("c2", i, 5)
	}
	ms, err := s.Conversation(ctx, "c1", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 5 || ms[0].Text != "message 3 ✓ \"quoted\"" || ms[4].ID != ids[7] {
		t.Fatalf("conversation kept %d: %+v", len(ms), ms)
	}
	if m := ms[0]; !m.ReceivedAt.Equal(at.Add(3*time.Second)) || m.TargetAge != 13 || len(m.Reasons) != 1 || m.Reasons[0].Spans[0].End != 7 {
		t.Errorf("message read back as %+v", m)
	}
	if ms, _ := s.Conversation(ctx, "c1", 2); len(ms) != 2 || ms[1].ID != ids[7] {
		t.Errorf("newest 2: %+v", ms)
	}
	if ms, _ := s.Conversation(ctx, "none", 10); len(ms) != 0 {
		t.Errorf("unknown conversation: %d messages", len(ms))
	}
	around, err := s.MessagesAround(ctx, ids[5], 1, 1)
	if err != nil || len(around) != 3 || around[0].ID != ids[4] || around[1].ID != ids[5] || around[2].ID != ids[6] {
		t.Errorf("around message 5: %v %+v", err, around)
	}
	if around, _ := s.MessagesAround(ctx, ids[7], 10, 10); len(around) != 5 || around[4].ID != ids[7] {
		t.Errorf("around the last, wide: %d", len(around))
	}
	if _, err := s.MessagesAround(ctx, ids[0], 1, 1); !errors.Is(err, textmsg.ErrNotFound) {
		t.Errorf("a trimmed message: %v, want not found", err)
	}
	alone := add("", 99, 5)
	add("", 100, 5)
	if around, err := s.MessagesAround(ctx, alone.ID, 5, 5); err != nil || len(around) != 1 || around[0].ID != alone.ID {
		t.Errorf("a message of no conversation: %v %+v", err, around)
	}

	// A platform's message id is kept once: a retry finds the message,
	// and what was filed for it is read back with it.
	ext, err := s.AddMessage(ctx, textmsg.Message{ConversationID: "c3", ExternalID: "plat-1", Surface: textrisk.DM,
		Text: "once", Labels: []string{}, ReceivedAt: at}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMessage(ctx, textmsg.Message{ConversationID: "c3", ExternalID: "plat-1", Surface: textrisk.DM,
		Text: "twice", Labels: []string{}, ReceivedAt: at}, 5); !errors.Is(err, textmsg.ErrExists) {
		t.Errorf("the same external id again: %v, want exists", err)
	}
	if _, err := s.AddMessage(ctx, textmsg.Message{ConversationID: "c3", Surface: textrisk.DM, Text: "no id", Labels: []string{}, ReceivedAt: at}, 5); err != nil {
		t.Errorf("a second message without an external id: %v", err)
	}
	if _, err := s.MessageByExternalID(ctx, ""); !errors.Is(err, textmsg.ErrNotFound) {
		t.Errorf("the empty external id: %v, want not found", err)
	}
	if err := s.SetFiled(ctx, ext.ID, textmsg.Filed{Evidence: "ev-1", CaseID: 42}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFiled(ctx, 1<<40, textmsg.Filed{CaseID: 1}); !errors.Is(err, textmsg.ErrNotFound) {
		t.Errorf("filing an unknown message: %v, want not found", err)
	}
	if got, err := s.MessageByExternalID(ctx, "plat-1"); err != nil || got.ID != ext.ID || got.Text != "once" || got.CaseID != 42 || got.Evidence != "ev-1" {
		t.Errorf("by external id: %v %+v", err, got)
	}
	if _, err := s.MessageByExternalID(ctx, "plat-2"); !errors.Is(err, textmsg.ErrNotFound) {
		t.Errorf("an unknown external id: %v, want not found", err)
	}

	// A conversation's scoring state is kept whole and replaced whole.
	if _, ok, err := s.ConversationState(ctx, "c1"); err != nil || ok {
		t.Errorf("the state of a conversation that has none: %v %v", ok, err)
	}
	data := []byte(`{"version":"v","turns":3}` + "\x00\xff")
	for i, st := range []textmsg.State{{LastID: ids[6], Data: []byte("old")}, {LastID: ids[7], Data: data}} {
		if err := s.SetConversationState(ctx, "c1", st); err != nil {
			t.Fatalf("state %d: %v", i, err)
		}
	}
	if st, ok, err := s.ConversationState(ctx, "c1"); err != nil || !ok || st.LastID != ids[7] || string(st.Data) != string(data) {
		t.Errorf("the state read back: %v %v %+v", ok, err, st)
	}
	if _, ok, _ := s.ConversationState(ctx, "c2"); ok {
		t.Error("another conversation has c1's state")
	}

	// The conversations a report about an account carries: those holding
	// a flagged message it sent or was sent, the window around them.
	flag := func(conv, author, target, text string, flagged bool, at time.Time) {
		t.Helper()
		if _, err := s.AddMessage(ctx, textmsg.Message{ConversationID: conv, Author: author, Target: target,
			Surface: textrisk.DM, Text: text, Flagged: flagged, Labels: []string{}, ReceivedAt: at}, 200); err != nil {
			t.Fatal(err)
		}
	}
	day := at.Add(48 * time.Hour)
	flag("g1", "groomer", "kid", "long before", false, day.Add(-72*time.Hour))
	flag("g1", "groomer", "kid", "hi there", false, day.Add(-time.Hour))
	flag("g1", "groomer", "kid", "dont tell ur mum", true, day)
	flag("g1", "kid", "groomer", "ok", false, day.Add(time.Minute))
	flag("g2", "kid", "groomer", "send pics", true, day.Add(time.Hour)) // flagged, groomer as target
	flag("g3", "groomer", "other", "nice weather", false, day)          // nothing flagged
	flag("g4", "someone", "else", "send pics", true, day)               // other accounts
	convs, err := s.FlaggedConversations(ctx, []string{"groomer"}, 10)
	if err != nil || len(convs) != 2 || convs[0] != "g1" || convs[1] != "g2" {
		t.Errorf("flagged conversations of groomer: %v %v, want [g1 g2]", err, convs)
	}
	if convs, err := s.FlaggedConversations(ctx, []string{"nobody"}, 10); err != nil || len(convs) != 0 {
		t.Errorf("flagged conversations of nobody: %v %v", err, convs)
	}
	if convs, _ := s.FlaggedConversations(ctx, []string{"groomer", "someone"}, 2); len(convs) != 2 {
		t.Errorf("limit 2: %v", convs)
	}
	chat, err := textmsg.ChatSource{Store: s}.Around(ctx, []string{"groomer"})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range chat {
		texts = append(texts, m.Conversation+":"+m.Text)
	}
	if want := "[g1:hi there g1:dont tell ur mum g1:ok g2:send pics]"; fmt.Sprint(texts) != want {
		t.Errorf("the chat log around groomer's flagged messages: %v, want %s (the message 3 days before is outside the window)", texts, want)
	}
	if len(chat) == 4 && (!chat[1].Flagged || chat[0].Flagged || chat[1].From != "groomer" || chat[1].To != "kid") {
		t.Errorf("chat messages: %+v", chat)
	}
}
