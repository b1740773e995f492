package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
)

var _ exchange.Store = (*Store)(nil)

// ExchangeCheckpoint implements exchange.Store.
func (s *Store) ExchangeCheckpoint(ctx context.Context, name string) (exchange.Checkpoint, error) {
	var cp exchange.Checkpoint
	err := s.db.QueryRow(ctx, `SELECT position, updated_at FROM exchange_checkpoints WHERE exchange = $1`, name).Scan(&cp.Position, &cp.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return exchange.Checkpoint{}, nil
	}
	if err != nil {
		return cp, notFound(err, "checkpoint of exchange %q", name)
	}
	cp.UpdatedAt = cp.UpdatedAt.UTC()
	return cp, nil
}

// SetExchangeCheckpoint implements exchange.Store.
func (s *Store) SetExchangeCheckpoint(ctx context.Context, name string, cp exchange.Checkpoint) error {
	at := cp.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	_, err := s.db.Exec(ctx, `INSERT INTO exchange_checkpoints (exchange, position, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (exchange) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
		name, cp.Position, at)
	return err
}

// SourceEntries implements exchange.Store.
func (s *Store) SourceEntries(ctx context.Context, bankName, source string, ids []string) ([]bank.Entry, error) {
	bankID, err := liveBankID(ctx, s.db, bankName)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + entryCols + ` FROM entries WHERE bank_id = $1 AND source = $2 AND NOT removed`
	args := []any{bankID, source}
	if ids != nil {
		// One index probe per id, all three columns equal (OFFSET 0 keeps
		// the planner from flattening the subquery): with external_id =
		// ANY($3), or a plain join, the planner used only (bank_id,
		// source) of the index when the table's statistics were stale (a
		// backfill into a new bank), scanning every entry of the source
		// for each page, which made a backfill quadratic.
		q = `SELECT e.` + strings.ReplaceAll(entryCols, ", ", ", e.") + ` FROM unnest($3::text[]) AS ids(id),
			LATERAL (SELECT * FROM entries WHERE bank_id = $1 AND source = $2 AND external_id = ids.id AND NOT removed OFFSET 0) e`
		args = append(args, ids)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bank.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// exchangeLock is the first key of exchanges' advisory locks (the second is
// the hash of the exchange's name), apart from the migration lock's.
const exchangeLock = 0x5afe_e8c0

// TryLockExchange implements exchange.Store with a session advisory lock
// on a connection held until release: if this node dies, its connection
// drops and the lock frees itself.
func (s *Store) TryLockExchange(ctx context.Context, name string) (func(), bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, err
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, int32(exchangeLock), name).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, err
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1, hashtext($2))`, int32(exchangeLock), name); err != nil {
				// The lock's state is unknown: drop the connection, which frees it.
				conn.Conn().Close(context.Background())
			}
			conn.Release()
		})
	}, true, nil
}

// QueueFeedback implements exchange.FeedbackStore.
func (s *Store) QueueFeedback(ctx context.Context, fbs []exchange.Feedback) error {
	now := time.Now()
	b := &pgx.Batch{}
	for _, f := range fbs {
		at := now
		if !f.QueuedAt.IsZero() {
			at = f.QueuedAt
		}
		b.Queue(`INSERT INTO exchange_feedback (exchange, record_id, kind, value, confirmed, case_id, queued_at, next_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING`,
			f.Exchange, f.RecordID, string(f.Kind), f.Value, f.Confirmed, f.CaseID, at)
	}
	return s.db.SendBatch(ctx, b).Close()
}

// DueFeedback implements exchange.FeedbackStore.
func (s *Store) DueFeedback(ctx context.Context, now time.Time, limit int) ([]exchange.Feedback, error) {
	rows, err := s.db.Query(ctx, `SELECT id, exchange, record_id, kind, value, confirmed, case_id, queued_at, attempts, last_error, next_at
		FROM exchange_feedback WHERE NOT done AND next_at <= $1 ORDER BY next_at, id LIMIT $2`, now, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []exchange.Feedback
	for rows.Next() {
		var f exchange.Feedback
		if err := rows.Scan(&f.ID, &f.Exchange, &f.RecordID, &f.Kind, &f.Value, &f.Confirmed, &f.CaseID, &f.QueuedAt, &f.Attempts, &f.LastError, &f.NextAt); err != nil {
			return nil, err
		}
		f.QueuedAt, f.NextAt = f.QueuedAt.UTC(), f.NextAt.UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}

// SettleFeedback implements exchange.FeedbackStore.
func (s *Store) SettleFeedback(ctx context.Context, id int64, attempts int, lastErr string, done bool, next time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE exchange_feedback SET attempts = $1, last_error = $2, done = $3, next_at = $4 WHERE id = $5`,
		attempts, lastErr, done, next, id)
	return err
}

// ExchangeStatus implements exchange.StatusStore.
func (s *Store) ExchangeStatus(ctx context.Context, name string) (exchange.Status, bool, error) {
	var doc string
	err := s.db.QueryRow(ctx, `SELECT doc FROM exchange_status WHERE exchange = $1`, name).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return exchange.Status{}, false, nil
	}
	if err != nil {
		return exchange.Status{}, false, err
	}
	var st exchange.Status
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		return exchange.Status{}, false, fmt.Errorf("status of exchange %q: %w", name, err)
	}
	return st, true, nil
}

// SetExchangeStatus implements exchange.StatusStore.
func (s *Store) SetExchangeStatus(ctx context.Context, st exchange.Status) error {
	doc, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO exchange_status (exchange, doc, updated_at) VALUES ($1, $2, now())
		ON CONFLICT (exchange) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`, st.Name, string(doc))
	return err
}
