package textmsgtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

// Times of the prune tests: messages before cutoff are past retention.
var (
	t0     = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	cutoff = t0.Add(90 * 24 * time.Hour)
)

// scored stores a message of conv received at, with the conversation's
// state after it, as the text use case does.
func scored(t *testing.T, s textmsg.Store, conv string, at time.Time, flagged bool) textmsg.Message {
	t.Helper()
	ctx := context.Background()
	m, err := s.AddMessage(ctx, textmsg.Message{ConversationID: conv, Author: "a", Target: "b", Surface: textrisk.DM,
		Text: "hi " + conv, Flagged: flagged, Labels: []string{}, ReceivedAt: at}, textmsg.Keep)
	if err != nil {
		t.Fatal(err)
	}
	if conv != "" {
		if err := s.SetConversationState(ctx, conv, textmsg.State{LastID: m.ID, Data: []byte("state of " + conv)}); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func testPrune(t *testing.T, s textmsg.Store) {
	ctx := context.Background()
	day := 24 * time.Hour

	// Silent since before the cutoff, nothing flagged or filed: deleted,
	// messages and state.
	scored(t, s, "silent", t0, false)
	scored(t, s, "silent", t0.Add(time.Hour), false)
	// Old messages, but one came after the cutoff: kept whole. So is one
	// whose newest message came at the cutoff itself.
	scored(t, s, "active", t0, false)
	scored(t, s, "active", cutoff.Add(time.Minute), false)
	scored(t, s, "at-cutoff", t0, false)
	scored(t, s, "at-cutoff", cutoff, false)
	// Ids follow the conversation's hold, times the arrival: a message
	// that waited for the one before it may be the newer by id and the
	// older by time. The later time counts.
	scored(t, s, "waited", cutoff.Add(time.Millisecond), false)
	scored(t, s, "waited", cutoff.Add(-time.Millisecond), false)
	// Filed (a case, or a chat log alone) or flagged: kept however old.
	caseOf := scored(t, s, "filed", t0.Add(-365*day), false)
	scored(t, s, "filed", t0, false)
	logOf := scored(t, s, "logged", t0, false)
	scored(t, s, "flagged", t0.Add(-2*365*day), true)
	scored(t, s, "flagged", t0, false)
	for id, f := range map[int64]textmsg.Filed{caseOf.ID: {CaseID: 7}, logOf.ID: {Evidence: "ev-1"}} {
		if err := s.SetFiled(ctx, id, f); err != nil {
			t.Fatal(err)
		}
	}
	// Messages of no conversation: kept when filed or recent.
	aloneOld := scored(t, s, "", t0, true) // flagged, but nothing filed it
	aloneFiled := scored(t, s, "", t0, true)
	aloneNew := scored(t, s, "", cutoff.Add(time.Hour), false)
	if err := s.SetFiled(ctx, aloneFiled.ID, textmsg.Filed{CaseID: 8}); err != nil {
		t.Fatal(err)
	}

	p, err := s.Prune(ctx, time.Time{}, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if want := (textmsg.Pruned{Conversations: 1, Messages: 3}); p != want {
		t.Errorf("pruned %+v, want %+v", p, want)
	}
	for conv, want := range map[string]int{"silent": 0, "active": 2, "at-cutoff": 2, "waited": 2, "filed": 2, "logged": 1, "flagged": 2} {
		ms, err := s.Conversation(ctx, conv, 10)
		if err != nil {
			t.Fatal(err)
		}
		_, state, err := s.ConversationState(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != want || state != (want > 0) {
			t.Errorf("conversation %q after the prune: %d messages (state %v), want %d", conv, len(ms), state, want)
		}
	}
	for _, c := range []struct {
		m    textmsg.Message
		kept bool
	}{{aloneOld, false}, {aloneFiled, true}, {aloneNew, true}} {
		_, err := s.MessagesAround(ctx, c.m.ID, 0, 0)
		if kept := err == nil; kept != c.kept || (err != nil && !errors.Is(err, textmsg.ErrNotFound)) {
			t.Errorf("message %d of no conversation (received %s, case %d): %v, want kept %v", c.m.ID, c.m.ReceivedAt, c.m.CaseID, err, c.kept)
		}
	}

	// What a prune kept, the next one keeps.
	if p, err := s.Prune(ctx, time.Time{}, cutoff); err != nil || p != (textmsg.Pruned{}) {
		t.Errorf("the same prune again: %+v, %v; want nothing", p, err)
	}
	// A day on, a prune since the last goes through the messages that
	// came in that day: the conversations whose last message they were
	// go. Older messages it does not look at (the last prune did).
	scored(t, s, "older", t0, false)
	p, err = s.Prune(ctx, cutoff, cutoff.Add(day))
	if want := (textmsg.Pruned{Conversations: 3, Messages: 7}); err != nil || p != want {
		t.Errorf("pruned a day on: %+v, %v; want %+v (active, at-cutoff, waited, the recent message alone)", p, err, want)
	}
	if ms, _ := s.Conversation(ctx, "older", 10); len(ms) != 1 {
		t.Errorf("a conversation older than the prune's window: %d messages, want 1", len(ms))
	}
	if ms, _ := s.Conversation(ctx, "filed", 10); len(ms) != 2 {
		t.Errorf("the filed conversation a day on: %d messages", len(ms))
	}
}

// testPruneConcurrently prunes more conversations than one page or
// transaction holds, twice at once (two servers): between them each
// conversation is deleted once, and nothing else is.
func testPruneConcurrently(t *testing.T, s textmsg.Store) {
	ctx := context.Background()
	const convs, each = 45, 25 // 1125 messages, interleaved in time
	for i := range each {
		for c := range convs {
			scored(t, s, fmt.Sprintf("c%d", c), t0.Add(time.Duration(i*convs+c)*time.Second), false)
		}
	}
	kept := scored(t, s, "c0", cutoff, false) // c0 is still in use
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sum  textmsg.Pruned
		errs []error
	)
	for range 2 {
		wg.Go(func() {
			p, err := s.Prune(ctx, time.Time{}, cutoff)
			mu.Lock()
			defer mu.Unlock()
			sum.Conversations += p.Conversations
			sum.Messages += p.Messages
			errs = append(errs, err)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if want := (textmsg.Pruned{Conversations: convs - 1, Messages: (convs - 1) * each}); sum != want {
		t.Errorf("two prunes at once deleted %+v between them, want %+v", sum, want)
	}
	if ms, err := s.Conversation(ctx, "c0", 100); err != nil || len(ms) != each+1 || ms[each].ID != kept.ID {
		t.Errorf("the conversation in use: %d messages, %v", len(ms), err)
	}
	if ms, err := s.Conversation(ctx, fmt.Sprintf("c%d", convs-1), 100); err != nil || len(ms) != 0 {
		t.Errorf("a silent conversation: %d messages, %v", len(ms), err)
	}
}
