package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

// testTextPruneWaits prunes a silent conversation while a message of it
// is being scored (its state read, so held, in the message's transaction,
// as usecase.Text does): the prune judges the conversation after the
// message is stored, with it, and keeps the conversation whole. (The rest
// of retention is textmsgtest's.)
func testTextPruneWaits(t *testing.T, s store.Store) {
	ctx := context.Background()
	old := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	cutoff := old.Add(90 * 24 * time.Hour)
	add := func(ts textmsg.Store, at time.Time) error {
		m, err := ts.AddMessage(ctx, textmsg.Message{ConversationID: "c", Author: "a", Surface: textrisk.DM, Text: "hi",
			Labels: []string{}, ReceivedAt: at}, textmsg.Keep)
		if err != nil {
			return err
		}
		return ts.SetConversationState(ctx, "c", textmsg.State{LastID: m.ID, Data: []byte("s")})
	}
	if err := add(s, old); err != nil {
		t.Fatal(err)
	}
	type result struct {
		p   textmsg.Pruned
		err error
	}
	done := make(chan result, 1)
	err := s.Atomically(ctx, func(tx store.Store) error {
		if _, _, err := tx.ConversationState(ctx, "c"); err != nil {
			return err
		}
		go func() {
			p, err := s.Prune(ctx, time.Time{}, cutoff)
			done <- result{p, err}
		}()
		time.Sleep(100 * time.Millisecond) // time for the prune to come to the conversation
		return add(tx, cutoff.Add(time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.p != (textmsg.Pruned{}) {
		t.Errorf("prune during the message's scoring: %+v, %v; want nothing pruned", r.p, r.err)
	}
	ms, err := s.Conversation(ctx, "c", 10)
	if _, ok, _ := s.ConversationState(ctx, "c"); err != nil || len(ms) != 2 || !ok {
		t.Errorf("the conversation after: %d messages, state %v, %v; want both messages and the state", len(ms), ok, err)
	}
}
