package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/webhook"
)

var _ webhook.Store = (*Store)(nil)

const deliveryCols = `id, webhook, event, body, created_at, state, attempts, next_attempt, last_error, done_at`

func scanDelivery(row interface{ Scan(...any) error }) (webhook.Delivery, error) {
	var d webhook.Delivery
	var created, next int64
	var done sql.NullInt64
	if err := row.Scan(&d.ID, &d.Webhook, &d.Event, &d.Body, &created, &d.State, &d.Attempts, &next, &d.LastError, &done); err != nil {
		return d, err
	}
	d.CreatedAt, d.NextAttempt = fromMicros(created), fromMicros(next)
	if done.Valid {
		d.DoneAt = fromMicros(done.Int64)
	}
	return d, nil
}

// optTime is a time for a nullable column: NULL for the zero time.
func optTime(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

func queryDeliveries(ctx context.Context, q querier, query string, args ...any) ([]webhook.Delivery, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ds []webhook.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// EnqueueDeliveries implements webhook.Outbox.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds ...webhook.Delivery) error {
	if len(ds) == 0 {
		return nil // a decision without notify actions: not worth a transaction
	}
	for _, d := range ds {
		if d.ID == "" {
			return fmt.Errorf("enqueueing deliveries: a delivery to webhook %q has no id", d.Webhook)
		}
	}
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (`+deliveryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, d := range ds {
			body := d.Body
			if body == nil {
				body = []byte{} // an empty BLOB, not NULL
			}
			if _, err := ins.ExecContext(ctx, d.ID, d.Webhook, d.Event, body, micros(d.CreatedAt), string(d.State), d.Attempts,
				micros(d.NextAttempt), d.LastError, optTime(d.DoneAt)); err != nil {
				return fmt.Errorf("delivery %q: %w", d.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("enqueueing %d deliveries: %w", len(ds), err)
	}
	return nil
}

// DueDeliveries implements webhook.Outbox. Writers are serialised, so
// selecting and leasing in one write transaction hands each delivery to
// one poller.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int, skip []string) ([]webhook.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	// skip goes in as a JSON array, so the statement is the same whatever
	// its length. (Not null: json_each would yield a NULL, and NOT IN a
	// list holding NULL is never true.)
	if skip == nil {
		skip = []string{}
	}
	skipJSON, err := json.Marshal(skip)
	if err != nil {
		return nil, err
	}
	var due []webhook.Delivery
	err = s.inWrite(ctx, func(tx *sql.Tx) error {
		var err error
		due, err = queryDeliveries(ctx, tx, `SELECT `+deliveryCols+` FROM deliveries
			WHERE state = 'pending' AND next_attempt <= ? AND webhook NOT IN (SELECT value FROM json_each(?))
			ORDER BY next_attempt, id LIMIT ?`, micros(now), string(skipJSON), limit)
		if err != nil || len(due) == 0 {
			return err
		}
		until := now.Add(lease)
		ids := make([]any, 0, len(due)+1)
		ids = append(ids, micros(until))
		for i := range due {
			due[i].NextAttempt = fromMicros(micros(until))
			ids = append(ids, due[i].ID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt = ? WHERE id IN (?`+strings.Repeat(", ?", len(due)-1)+`)`, ids...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("leasing due deliveries: %w", err)
	}
	return due, nil
}

// setDelivery runs an UPDATE of one delivery whose last argument is its
// id. If it changed nothing, the delivery is either missing (ErrNotFound)
// or, when only says so, not in a state the update applies to (no error).
func (s *Store) setDelivery(ctx context.Context, id, doing string, onlyIf bool, query string, args ...any) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n > 0 {
			return nil
		}
		exists := false
		if onlyIf {
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = ?)`, id).Scan(&exists); err != nil {
				return err
			}
		}
		if !exists {
			return webhook.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s delivery %q: %w", doing, id, err)
	}
	return nil
}

// MarkDelivered implements webhook.Outbox.
func (s *Store) MarkDelivered(ctx context.Context, id string, attempts int, at time.Time) error {
	return s.setDelivery(ctx, id, "marking delivered", false,
		`UPDATE deliveries SET state = 'delivered', attempts = ?, done_at = ? WHERE id = ?`, attempts, micros(at), id)
}

// MarkDeliveryFailed implements webhook.Outbox.
func (s *Store) MarkDeliveryFailed(ctx context.Context, id string, attempts int, next time.Time, reason string) error {
	return s.setDelivery(ctx, id, "recording a failed attempt of", true,
		`UPDATE deliveries SET attempts = ?, next_attempt = ?, last_error = ? WHERE id = ? AND state = 'pending'`,
		attempts, micros(next), reason, id)
}

// MarkDeliveryDead implements webhook.Outbox.
func (s *Store) MarkDeliveryDead(ctx context.Context, id string, attempts int, at time.Time, reason string) error {
	return s.setDelivery(ctx, id, "giving up on", true,
		`UPDATE deliveries SET state = 'dead', attempts = ?, done_at = ?, last_error = ? WHERE id = ? AND state = 'pending'`,
		attempts, micros(at), reason, id)
}

// DeadLetters implements webhook.Outbox.
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]webhook.Delivery, error) {
	ds, err := queryDeliveries(ctx, s.r(), `SELECT `+deliveryCols+` FROM deliveries WHERE state = 'dead' ORDER BY done_at, id LIMIT ?`, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("listing dead letters: %w", err)
	}
	return ds, nil
}

// ReplayDeadLetter implements webhook.Outbox.
func (s *Store) ReplayDeadLetter(ctx context.Context, id string, now time.Time) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt = ?, done_at = NULL
			WHERE id = ? AND state = 'dead'`, micros(now), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return webhook.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replaying dead letter %q: %w", id, err)
	}
	return nil
}

// Delivery implements webhook.Outbox.
func (s *Store) Delivery(ctx context.Context, id string) (webhook.Delivery, error) {
	d, err := scanDelivery(s.r().QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return webhook.Delivery{}, fmt.Errorf("delivery %q: %w", id, webhook.ErrNotFound)
	}
	if err != nil {
		return webhook.Delivery{}, fmt.Errorf("delivery %q: %w", id, err)
	}
	return d, nil
}

// pruneBatch is how many rows one pruning transaction deletes: small
// enough that scans waiting to write are held up for milliseconds, not for
// the whole of a day's deliveries.
const pruneBatch = 5000

// PruneDeliveries implements webhook.Outbox.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.deleteBatches(ctx, `DELETE FROM deliveries WHERE id IN (
		SELECT id FROM deliveries WHERE state = 'delivered' AND done_at < ? LIMIT ?)`, micros(before))
	if err != nil {
		return n, fmt.Errorf("pruning deliveries done before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

// deleteBatches runs del, whose last parameter is a LIMIT, with args and
// pruneBatch, one transaction at a time until it deletes fewer, and
// counts what it deleted.
func (s *Store) deleteBatches(ctx context.Context, del string, args ...any) (int64, error) {
	args = append(args, pruneBatch)
	var total int64
	for {
		var n int64
		err := s.inWrite(ctx, func(tx *sql.Tx) error {
			r, err := tx.ExecContext(ctx, del, args...)
			if err != nil {
				return err
			}
			n, err = r.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// DeliveryBacklog implements webhook.Outbox. Each count reads its own
// partial index.
func (s *Store) DeliveryBacklog(ctx context.Context) (pending, dead int64, err error) {
	err = s.r().QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM deliveries WHERE state = 'pending'),
		(SELECT count(*) FROM deliveries WHERE state = 'dead')`).Scan(&pending, &dead)
	if err != nil {
		return 0, 0, fmt.Errorf("counting the delivery backlog: %w", err)
	}
	return pending, dead, nil
}

const webhookCols = `name, url, secret, enabled, created_at, previous_secret, previous_until`

func scanWebhook(row interface{ Scan(...any) error }) (webhook.Endpoint, error) {
	var e webhook.Endpoint
	var created, until int64
	err := row.Scan(&e.Name, &e.URL, &e.Secret, &e.Enabled, &created, &e.PreviousSecret, &until)
	e.CreatedAt = fromMicros(created)
	if until != 0 {
		e.PreviousUntil = fromMicros(until)
	}
	return e, err
}

// untilMicros is PreviousUntil as stored: 0 for none.
func untilMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// Webhook implements webhook.Webhooks.
func (s *Store) Webhook(ctx context.Context, name string) (webhook.Endpoint, error) {
	e, err := scanWebhook(s.r().QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return webhook.Endpoint{}, fmt.Errorf("webhook %q: %w", name, webhook.ErrNotFound)
	}
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("webhook %q: %w", name, err)
	}
	return e, nil
}

// ListWebhooks implements webhook.Webhooks.
func (s *Store) ListWebhooks(ctx context.Context) ([]webhook.Endpoint, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+webhookCols+` FROM webhooks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing webhooks: %w", err)
	}
	defer rows.Close()
	var es []webhook.Endpoint
	for rows.Next() {
		e, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("listing webhooks: %w", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing webhooks: %w", err)
	}
	return es, nil
}

// CreateWebhook implements webhook.Webhooks.
func (s *Store) CreateWebhook(ctx context.Context, e webhook.Endpoint) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO webhooks (`+webhookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
			e.Name, e.URL, e.Secret, e.Enabled, micros(e.CreatedAt), e.PreviousSecret, untilMicros(e.PreviousUntil))
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return webhook.ErrExists
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("creating webhook %q: %w", e.Name, err)
	}
	return nil
}

// UpdateWebhook implements webhook.Webhooks.
func (s *Store) UpdateWebhook(ctx context.Context, e webhook.Endpoint) error {
	return s.changeWebhook(ctx, e.Name, "updating",
		`UPDATE webhooks SET url = ?, secret = ?, enabled = ?, previous_secret = ?, previous_until = ? WHERE name = ?`,
		e.URL, e.Secret, e.Enabled, e.PreviousSecret, untilMicros(e.PreviousUntil), e.Name)
}

// DeleteWebhook implements webhook.Webhooks.
func (s *Store) DeleteWebhook(ctx context.Context, name string) error {
	return s.changeWebhook(ctx, name, "deleting", `DELETE FROM webhooks WHERE name = ?`, name)
}

// changeWebhook runs an UPDATE or DELETE of the named webhook.
func (s *Store) changeWebhook(ctx context.Context, name, doing, query string, args ...any) error {
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return webhook.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s webhook %q: %w", doing, name, err)
	}
	return nil
}
