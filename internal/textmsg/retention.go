package textmsg

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// DefaultRetention is how long an unflagged, unfiled conversation is kept
// after its last message. Grooming runs over weeks and months, with
// pauses; the conversation's State is what lets a stage months after the
// first still count with it, so a shorter term would let a patient
// groomer start clean after a pause. Past three months of silence the
// service has no reason left to keep children's private messages that
// nothing flagged.
const DefaultRetention = 90 * 24 * time.Hour

// PruneEvery is how often the server prunes (Pruner.Prune).
const PruneEvery = time.Hour

// Pruned is what one prune deleted.
type Pruned struct {
	Conversations int64 // whose messages and State were deleted
	Messages      int64 // of those conversations, and of none
}

// Pruner deletes the scored text that nothing keeps any longer
// (Store.Prune): a conversation silent for Retention in which nothing was
// flagged or filed, messages and State, and a message of no conversation
// received Retention ago and not filed. What a case, a chat log or a
// law-enforcement report reads is kept: a filed message's conversation
// (the case names it, its chat log is its evidence) and a flagged one's
// (ChatSource carries it into every report and export about its
// accounts), however old.
//
// Each Prune looks only at the messages received since the last one that
// succeeded (a conversation that a message keeps active is judged again
// when that message's turn comes), so it costs what a period's messages
// cost, not the whole table; the first looks at everything.
type Pruner struct {
	Store Store
	// Retention is how long after its last message an unkept
	// conversation is deleted; DefaultRetention if 0. Negative keeps
	// everything (Prune does nothing).
	Retention time.Duration
	Now       func() time.Time // default time.Now

	since time.Time // the last successful prune's cutoff
}

// Prune deletes what retention no longer keeps. Call it from one
// goroutine.
func (p *Pruner) Prune(ctx context.Context) (Pruned, error) {
	keep := p.Retention
	switch {
	case keep < 0:
		return Pruned{}, nil
	case keep == 0:
		keep = DefaultRetention
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	before := now().Add(-keep)
	n, err := p.Store.Prune(ctx, p.since, before)
	if err == nil && before.After(p.since) {
		p.since = before
	}
	return n, err
}

// Pruning is a store's three steps of Prune, which PruneWith runs.
type Pruning struct {
	// Alone deletes the messages of no conversation received in
	// [since, before) that were not filed, and counts them.
	Alone func(ctx context.Context, since, before time.Time) (int64, error)
	// Page returns up to n messages of conversations received before
	// before and after (at, id) in the order of (ReceivedAt, ID), with
	// their ID, ConversationID and ReceivedAt.
	Page func(ctx context.Context, at time.Time, id int64, before time.Time, n int) ([]Message, error)
	// Drop deletes those of convs (at most pruneGroup) whose every message
	// was received before before and none flagged or filed, with their
	// State, in one transaction: the one step that judges.
	Drop func(ctx context.Context, convs []string, before time.Time) (Pruned, error)
}

const (
	prunePage  = 1000 // messages read to find the conversations to judge
	pruneGroup = 25   // conversations judged and deleted in one transaction (at Keep, 5000 messages)
	pruneSeen  = 1 << 16
)

// PruneWith is Store.Prune over a store's steps.
func PruneWith(ctx context.Context, since, before time.Time, p Pruning) (Pruned, error) {
	var out Pruned
	n, err := p.Alone(ctx, since, before)
	if err != nil {
		return out, fmt.Errorf("pruning messages of no conversation received before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	out.Messages += n
	// A conversation's messages come page after page: it is judged once,
	// unless so many others come between that it is forgotten.
	seen := map[string]bool{}
	at, id := since, int64(0)
	for {
		page, err := p.Page(ctx, at, id, before, prunePage)
		if err != nil {
			return out, fmt.Errorf("reading messages received before %s: %w", before.UTC().Format(time.RFC3339), err)
		}
		if len(seen) > pruneSeen {
			clear(seen)
		}
		var convs []string
		for _, m := range page {
			if !seen[m.ConversationID] {
				seen[m.ConversationID] = true
				convs = append(convs, m.ConversationID)
			}
		}
		for group := range slices.Chunk(convs, pruneGroup) {
			n, err := p.Drop(ctx, group, before)
			if err != nil {
				return out, fmt.Errorf("pruning conversations silent since %s: %w", before.UTC().Format(time.RFC3339), err)
			}
			out.Conversations += n.Conversations
			out.Messages += n.Messages
		}
		if len(page) < prunePage {
			return out, nil
		}
		last := page[len(page)-1]
		at, id = last.ReceivedAt, last.ID
	}
}
