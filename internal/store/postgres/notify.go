package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/store"
)

// The channels 0021_nodes.sql's and 0022_sessions.sql's triggers notify, and their topics.
var channels = map[string]string{
	"safeguard_entries": store.TopicEntries,
	"safeguard_keys":    store.TopicKeys,
	"safeguard_rules":   store.TopicRules, // 0022_sessions.sql
}

// Listen implements store.Notifier on a connection of its own, held
// outside the pool (LISTEN is per session). Notifications are delivered
// when the transaction that sent them commits, so a listener syncing on
// one reads what was committed.
func (s *Store) Listen(ctx context.Context, fn func(store.Notice), onErr func(error)) {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		heard, err := s.listen(ctx, fn)
		if ctx.Err() != nil {
			return
		}
		if onErr != nil {
			onErr(fmt.Errorf("listening for other servers' changes: %w", err))
		}
		if heard {
			wait = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// listen holds one connection until it fails; heard says it got as far
// as listening (so the next failure starts its back-off afresh).
func (s *Store) listen(ctx context.Context, fn func(store.Notice)) (heard bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	// The connection leaves the pool: its session listens, and must not
	// be handed to a query.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	for ch := range channels {
		if _, err := pc.Exec(ctx, "LISTEN "+ch); err != nil {
			return false, err
		}
	}
	// Whatever was committed while no one listened.
	fn(store.Notice{Topic: store.TopicEntries})
	fn(store.Notice{Topic: store.TopicKeys})
	fn(store.Notice{Topic: store.TopicRules})
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		topic, ok := channels[n.Channel]
		if !ok {
			continue
		}
		key := n.Payload
		if topic == store.TopicEntries {
			key = ""
		}
		fn(store.Notice{Topic: topic, Key: key})
	}
}

var _ store.Notifier = (*Store)(nil)
