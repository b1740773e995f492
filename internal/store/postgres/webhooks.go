package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/webhook"
)

var _ webhook.Store = (*Store)(nil)

const deliveryCols = `id, webhook, event, body, created_at, state, attempts, next_attempt, last_error, done_at`

func scanDelivery(row pgx.CollectableRow) (webhook.Delivery, error) {
	var d webhook.Delivery
	var done *time.Time
	if err := row.Scan(&d.ID, &d.Webhook, &d.Event, &d.Body, &d.CreatedAt, &d.State, &d.Attempts, &d.NextAttempt, &d.LastError, &done); err != nil {
		return d, err
	}
	d.CreatedAt, d.NextAttempt = d.CreatedAt.UTC(), d.NextAttempt.UTC()
	if done != nil {
		d.DoneAt = done.UTC()
	}
	return d, nil
}

// optTime is a time for a nullable column: NULL for the zero time.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = stored(t)
	return &t
}

func (s *Store) queryDeliveries(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, query string, args ...any) ([]webhook.Delivery, error) {
	rows, _ := q.Query(ctx, query, args...)
	return pgx.CollectRows(rows, scanDelivery)
}

// EnqueueDeliveries implements webhook.Outbox. The inserts go in one batch:
// one round trip, one transaction.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds ...webhook.Delivery) error {
	if len(ds) == 0 {
		return nil // a decision without notify actions: not worth a transaction
	}
	for _, d := range ds {
		if d.ID == "" {
			return fmt.Errorf("enqueueing deliveries: a delivery to webhook %q has no id", d.Webhook)
		}
	}
	var b pgx.Batch
	for _, d := range ds {
		body := d.Body
		if body == nil {
			body = []byte{} // an empty bytea, not NULL
		}
		b.Queue(`INSERT INTO deliveries (`+deliveryCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO NOTHING`,
			d.ID, d.Webhook, d.Event, body, stored(d.CreatedAt), string(d.State), d.Attempts,
			stored(d.NextAttempt), d.LastError, optTime(d.DoneAt))
	}
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error { return tx.SendBatch(ctx, &b).Close() })
	if err != nil {
		return fmt.Errorf("enqueueing %d deliveries: %w", len(ds), err)
	}
	return nil
}

// DueDeliveries implements webhook.Outbox. FOR UPDATE SKIP LOCKED lets
// pollers in several processes run at once: each skips the rows another
// is leasing, and a row leased meanwhile no longer passes the WHERE when
// PostgreSQL rechecks it after the lock.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int, skip []string) ([]webhook.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	if skip == nil {
		skip = []string{} // NULL would make <> ALL unknown, and skip everything
	}
	ds, err := s.queryDeliveries(ctx, s.db, `WITH due AS (
			SELECT id, next_attempt AS was FROM deliveries
			WHERE state = 'pending' AND next_attempt <= $1 AND webhook <> ALL ($2)
			ORDER BY next_attempt, id LIMIT $3
			FOR UPDATE SKIP LOCKED
		), leased AS (
			UPDATE deliveries d SET next_attempt = $4 FROM due WHERE d.id = due.id
			RETURNING d.*, due.was
		)
		SELECT `+deliveryCols+` FROM leased ORDER BY was, id`,
		stored(now), skip, limit, stored(now.Add(lease)))
	if err != nil {
		return nil, fmt.Errorf("leasing due deliveries: %w", err)
	}
	return ds, nil
}

// setDelivery runs an UPDATE of one delivery. If it changed nothing, the
// delivery is either missing (ErrNotFound) or, when onlyIf says the update
// has a condition on the state, not in a state it applies to (no error).
func (s *Store) setDelivery(ctx context.Context, id, doing string, onlyIf bool, query string, args ...any) error {
	tag, err := s.db.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s delivery %q: %w", doing, id, err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	exists := false
	if onlyIf {
		if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)`, id).Scan(&exists); err != nil {
			return fmt.Errorf("%s delivery %q: %w", doing, id, err)
		}
	}
	if !exists {
		return fmt.Errorf("%s delivery %q: %w", doing, id, webhook.ErrNotFound)
	}
	return nil
}

// MarkDelivered implements webhook.Outbox.
func (s *Store) MarkDelivered(ctx context.Context, id string, attempts int, at time.Time) error {
	return s.setDelivery(ctx, id, "marking delivered", false,
		`UPDATE deliveries SET state = 'delivered', attempts = $1, done_at = $2 WHERE id = $3`, attempts, stored(at), id)
}

// MarkDeliveryFailed implements webhook.Outbox.
func (s *Store) MarkDeliveryFailed(ctx context.Context, id string, attempts int, next time.Time, reason string) error {
	return s.setDelivery(ctx, id, "recording a failed attempt of", true,
		`UPDATE deliveries SET attempts = $1, next_attempt = $2, last_error = $3 WHERE id = $4 AND state = 'pending'`,
		attempts, stored(next), reason, id)
}

// MarkDeliveryDead implements webhook.Outbox.
func (s *Store) MarkDeliveryDead(ctx context.Context, id string, attempts int, at time.Time, reason string) error {
	return s.setDelivery(ctx, id, "giving up on", true,
		`UPDATE deliveries SET state = 'dead', attempts = $1, done_at = $2, last_error = $3 WHERE id = $4 AND state = 'pending'`,
		attempts, stored(at), reason, id)
}

// DeadLetters implements webhook.Outbox.
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]webhook.Delivery, error) {
	ds, err := s.queryDeliveries(ctx, s.db, `SELECT `+deliveryCols+` FROM deliveries WHERE state = 'dead' ORDER BY done_at, id LIMIT $1`, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("listing dead letters: %w", err)
	}
	return ds, nil
}

// ReplayDeadLetter implements webhook.Outbox.
func (s *Store) ReplayDeadLetter(ctx context.Context, id string, now time.Time) error {
	tag, err := s.db.Exec(ctx, `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt = $1, done_at = NULL
		WHERE id = $2 AND state = 'dead'`, stored(now), id)
	if err != nil {
		return fmt.Errorf("replaying dead letter %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("dead letter %q: %w", id, webhook.ErrNotFound)
	}
	return nil
}

// Delivery implements webhook.Outbox.
func (s *Store) Delivery(ctx context.Context, id string) (webhook.Delivery, error) {
	ds, err := s.queryDeliveries(ctx, s.db, `SELECT `+deliveryCols+` FROM deliveries WHERE id = $1`, id)
	if err != nil {
		return webhook.Delivery{}, fmt.Errorf("delivery %q: %w", id, err)
	}
	if len(ds) == 0 {
		return webhook.Delivery{}, fmt.Errorf("delivery %q: %w", id, webhook.ErrNotFound)
	}
	return ds[0], nil
}

// PruneDeliveries implements webhook.Outbox. One DELETE: PostgreSQL's row
// locks hold up no one but writers of the rows being deleted, which are
// done with.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM deliveries WHERE state = 'delivered' AND done_at < $1`, stored(before))
	if err != nil {
		return 0, fmt.Errorf("pruning deliveries done before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return tag.RowsAffected(), nil
}

// DeliveryBacklog implements webhook.Outbox. Each count reads its own
// partial index.
func (s *Store) DeliveryBacklog(ctx context.Context) (pending, dead int64, err error) {
	err = s.db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM deliveries WHERE state = 'pending'),
		(SELECT count(*) FROM deliveries WHERE state = 'dead')`).Scan(&pending, &dead)
	if err != nil {
		return 0, 0, fmt.Errorf("counting the delivery backlog: %w", err)
	}
	return pending, dead, nil
}

const webhookCols = `name, url, secret, enabled, created_at, previous_secret, previous_until`

func scanWebhook(row pgx.CollectableRow) (webhook.Endpoint, error) {
	var e webhook.Endpoint
	var until *time.Time
	err := row.Scan(&e.Name, &e.URL, &e.Secret, &e.Enabled, &e.CreatedAt, &e.PreviousSecret, &until)
	e.CreatedAt = e.CreatedAt.UTC()
	if until != nil {
		e.PreviousUntil = until.UTC()
	}
	return e, err
}

// untilStored is PreviousUntil as stored: NULL for none.
func untilStored(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	s := stored(t)
	return &s
}

// Webhook implements webhook.Webhooks.
func (s *Store) Webhook(ctx context.Context, name string) (webhook.Endpoint, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE name = $1`, name)
	e, err := pgx.CollectExactlyOneRow(rows, scanWebhook)
	if errors.Is(err, pgx.ErrNoRows) {
		return webhook.Endpoint{}, fmt.Errorf("webhook %q: %w", name, webhook.ErrNotFound)
	}
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("webhook %q: %w", name, err)
	}
	return e, nil
}

// ListWebhooks implements webhook.Webhooks.
func (s *Store) ListWebhooks(ctx context.Context) ([]webhook.Endpoint, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+webhookCols+` FROM webhooks ORDER BY name`)
	es, err := pgx.CollectRows(rows, scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("listing webhooks: %w", err)
	}
	return es, nil
}

// CreateWebhook implements webhook.Webhooks.
func (s *Store) CreateWebhook(ctx context.Context, e webhook.Endpoint) error {
	tag, err := s.db.Exec(ctx, `INSERT INTO webhooks (`+webhookCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING`,
		e.Name, e.URL, e.Secret, e.Enabled, stored(e.CreatedAt), e.PreviousSecret, untilStored(e.PreviousUntil))
	if err != nil {
		return fmt.Errorf("creating webhook %q: %w", e.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("creating webhook %q: %w", e.Name, webhook.ErrExists)
	}
	return nil
}

// UpdateWebhook implements webhook.Webhooks.
func (s *Store) UpdateWebhook(ctx context.Context, e webhook.Endpoint) error {
	return s.changeWebhook(ctx, e.Name, "updating",
		`UPDATE webhooks SET url = $1, secret = $2, enabled = $3, previous_secret = $4, previous_until = $5 WHERE name = $6`,
		e.URL, e.Secret, e.Enabled, e.PreviousSecret, untilStored(e.PreviousUntil), e.Name)
}

// DeleteWebhook implements webhook.Webhooks.
func (s *Store) DeleteWebhook(ctx context.Context, name string) error {
	return s.changeWebhook(ctx, name, "deleting", `DELETE FROM webhooks WHERE name = $1`, name)
}

// changeWebhook runs an UPDATE or DELETE of the named webhook.
func (s *Store) changeWebhook(ctx context.Context, name, doing, query string, args ...any) error {
	tag, err := s.db.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s webhook %q: %w", doing, name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s webhook %q: %w", doing, name, webhook.ErrNotFound)
	}
	return nil
}
