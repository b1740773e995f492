package store

import "context"

// Notifier is a store several servers share that tells each at once of
// the changes others make, so that what one server caches (its index, its
// API keys, its rules) follows another's writes within a round trip rather than a
// polling interval. PostgreSQL implements it with LISTEN/NOTIFY; SQLite,
// one process's store, does not.
type Notifier interface {
	// Listen calls fn with each change until ctx ends, from one goroutine.
	// A notification is a hint: when the listener (re)connects, changes
	// made meanwhile were not heard, so it calls fn with Notice{Topic:
	// TopicEntries}, Notice{Topic: TopicKeys} and Notice{Topic:
	// TopicRules} (no Key: anything may have changed). Connection failures go to onErr and are retried.
	Listen(ctx context.Context, fn func(Notice), onErr func(error))
}

// A Notice is one change another server (or this one) committed.
type Notice struct {
	Topic string
	// Key says what changed: for TopicKeys the key's id; empty when
	// anything of the topic may have.
	Key string
}

// Notice topics.
const (
	TopicEntries = "entries" // bank entries or bank thresholds: the index should sync
	TopicKeys    = "keys"    // an API key was revoked or changed
	TopicRules   = "rules"   // a rule was created or changed: rule caches empty
)
