package webhook

import (
	"context"
	"time"
)

// Outbox is the persistent list of deliveries. The server enqueues a
// delivery in the same breath as the decision that caused it, before any
// attempt, so that pending deliveries survive a crash or restart.
//
// webhooktest.Run checks an implementation against these rules.
type Outbox interface {
	// Enqueue stores deliveries (all or none) as given: normally Pending and
	// due now. A delivery whose ID is already stored is left as it is, so
	// enqueueing the same delivery twice is harmless.
	Enqueue(ctx context.Context, ds ...Delivery) error

	// Due returns up to limit Pending deliveries whose NextAttempt is at or
	// before now, earliest NextAttempt first (then by ID), and leases them:
	// in the same transaction it moves their NextAttempt to now+lease, so
	// that other pollers (another worker, another server process) skip them
	// while they are in flight, and a process that dies mid-attempt leaves
	// them due again once the lease runs out. The deliveries are returned as
	// stored after the lease.
	Due(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)

	// MarkDelivered records a 2xx answer: State Delivered, Attempts and
	// DoneAt as given. It applies whatever the delivery's state, since a
	// receiver that answered 2xx has the event even if another process
	// meanwhile gave up on it. ErrNotFound if there is no such delivery.
	MarkDelivered(ctx context.Context, id string, attempts int, at time.Time) error

	// MarkFailed records a failed attempt of a Pending delivery that will be
	// retried: Attempts, NextAttempt and LastError as given. A delivery that
	// is no longer Pending is left unchanged. ErrNotFound if there is none.
	MarkFailed(ctx context.Context, id string, attempts int, next time.Time, reason string) error

	// MarkDead makes a Pending delivery a dead letter: State Dead, Attempts,
	// LastError and DoneAt as given. A delivery that is no longer Pending is
	// left unchanged. ErrNotFound if there is none.
	MarkDead(ctx context.Context, id string, attempts int, at time.Time, reason string) error

	// DeadLetters returns up to limit dead letters, those that died first
	// first (then by ID).
	DeadLetters(ctx context.Context, limit int) ([]Delivery, error)

	// Replay makes a dead letter Pending again with Attempts 0, due at now,
	// keeping its ID (the idempotency key) and body. ErrNotFound if id is
	// not a dead letter.
	Replay(ctx context.Context, id string, now time.Time) error

	// Delivery returns one delivery in any state. ErrNotFound if none.
	Delivery(ctx context.Context, id string) (Delivery, error)

	// Backlog counts Pending deliveries and dead letters, for the metrics.
	Backlog(ctx context.Context) (pending, dead int64, err error)
}

// Endpoints is the persistent list of webhooks, by name.
type Endpoints interface {
	// Endpoint returns the named webhook; ErrNotFound if there is none.
	Endpoint(ctx context.Context, name string) (Endpoint, error)
	// Endpoints lists every webhook, by name.
	Endpoints(ctx context.Context) ([]Endpoint, error)
	// CreateEndpoint stores a new webhook; ErrExists if the name is taken.
	CreateEndpoint(ctx context.Context, e Endpoint) error
	// UpdateEndpoint replaces the URL, secret and Enabled of the named
	// webhook; ErrNotFound if there is none.
	UpdateEndpoint(ctx context.Context, e Endpoint) error
	// DeleteEndpoint removes the named webhook; ErrNotFound if there is
	// none. Its pending deliveries become dead letters when next attempted.
	DeleteEndpoint(ctx context.Context, name string) error
}

// Store is what the Dispatcher needs.
type Store interface {
	Outbox
	Endpoints
}
