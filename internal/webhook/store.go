package webhook

import (
	"context"
	"time"
)

// Outbox is the persistent list of deliveries. Its methods name what
// they act on, so that one store type can implement it beside the other
// domains' interfaces without its methods colliding. The server enqueues a
// delivery in the same breath as the decision that caused it, before any
// attempt, so that pending deliveries survive a crash or restart.
//
// webhooktest.Run checks an implementation against these rules.
type Outbox interface {
	// EnqueueDeliveries stores deliveries (all or none) as given: normally
	// Pending and due now. A delivery whose ID is already stored is left as
	// it is, so enqueueing the same delivery twice is harmless.
	EnqueueDeliveries(ctx context.Context, ds ...Delivery) error

	// DueDeliveries returns up to limit Pending deliveries whose NextAttempt
	// is at or before now, earliest NextAttempt first (then by ID), except
	// those to the webhooks named in skip (which the caller has enough of in
	// flight already), and leases them: in the same transaction it moves their NextAttempt to
	// now+lease, so that other pollers (another worker, another server
	// process) skip them while they are in flight, and a process that dies
	// mid-attempt leaves them due again once the lease runs out. (On
	// PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, then UPDATE.) The
	// deliveries are returned as stored after the lease.
	DueDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int, skip []string) ([]Delivery, error)

	// MarkDelivered records a 2xx answer: State Delivered, Attempts and
	// DoneAt as given. It applies whatever the delivery's state, since a
	// receiver that answered 2xx has the event even if another process
	// meanwhile gave up on it. ErrNotFound if there is no such delivery.
	MarkDelivered(ctx context.Context, id string, attempts int, at time.Time) error

	// MarkDeliveryFailed records a failed attempt of a Pending delivery that
	// will be retried: Attempts, NextAttempt and LastError as given. A
	// delivery that is no longer Pending is left unchanged. ErrNotFound if
	// there is none.
	MarkDeliveryFailed(ctx context.Context, id string, attempts int, next time.Time, reason string) error

	// MarkDeliveryDead makes a Pending delivery a dead letter: State Dead,
	// Attempts, LastError and DoneAt as given. A delivery that is no longer
	// Pending is left unchanged. ErrNotFound if there is none.
	MarkDeliveryDead(ctx context.Context, id string, attempts int, at time.Time, reason string) error

	// DeadLetters returns up to limit dead letters, those that died first
	// first (then by ID).
	DeadLetters(ctx context.Context, limit int) ([]Delivery, error)

	// ReplayDeadLetter makes a dead letter Pending again with Attempts 0,
	// due at now, keeping its ID (the idempotency key), body and LastError.
	// ErrNotFound if id is not a dead letter.
	ReplayDeadLetter(ctx context.Context, id string, now time.Time) error

	// Delivery returns one delivery in any state. ErrNotFound if none.
	Delivery(ctx context.Context, id string) (Delivery, error)

	// PruneDeliveries deletes Delivered deliveries whose DoneAt is before
	// before, and returns how many it deleted; at a few hundred scans a
	// second the outbox would otherwise grow by millions of rows a day.
	// Pending deliveries and dead letters are never pruned.
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)

	// DeliveryBacklog counts Pending deliveries and dead letters, for the
	// metrics.
	DeliveryBacklog(ctx context.Context) (pending, dead int64, err error)
}

// Webhooks is the persistent list of webhooks, by name.
type Webhooks interface {
	// Webhook returns the named webhook; ErrNotFound if there is none.
	Webhook(ctx context.Context, name string) (Endpoint, error)
	// ListWebhooks lists every webhook, by name.
	ListWebhooks(ctx context.Context) ([]Endpoint, error)
	// CreateWebhook stores a new webhook; ErrExists if the name is taken.
	CreateWebhook(ctx context.Context, e Endpoint) error
	// UpdateWebhook replaces the URL, secret and Enabled of the named
	// webhook; ErrNotFound if there is none.
	UpdateWebhook(ctx context.Context, e Endpoint) error
	// DeleteWebhook removes the named webhook; ErrNotFound if there is
	// none. Its pending deliveries become dead letters when next attempted.
	DeleteWebhook(ctx context.Context, name string) error
}

// Store is what the Dispatcher needs.
type Store interface {
	Outbox
	Webhooks
}
