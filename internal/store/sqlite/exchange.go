package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
)

var _ exchange.Store = (*Store)(nil)

// ExchangeCheckpoint implements exchange.Store.
func (s *Store) ExchangeCheckpoint(ctx context.Context, name string) (exchange.Checkpoint, error) {
	var cp exchange.Checkpoint
	var at int64
	err := s.r().QueryRowContext(ctx, `SELECT position, updated_at FROM exchange_checkpoints WHERE exchange = ?`, name).Scan(&cp.Position, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return exchange.Checkpoint{}, nil
	}
	if err != nil {
		return cp, notFound(err, "checkpoint of exchange %q", name)
	}
	cp.UpdatedAt = fromMicros(at)
	return cp, nil
}

// SetExchangeCheckpoint implements exchange.Store.
func (s *Store) SetExchangeCheckpoint(ctx context.Context, name string, cp exchange.Checkpoint) error {
	at := cp.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO exchange_checkpoints (exchange, position, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (exchange) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
			name, cp.Position, micros(at))
		return err
	})
}

// sourceChunk bounds the ids of one query (SQLite allows 32766 parameters).
const sourceChunk = 500

// SourceEntries implements exchange.Store.
func (s *Store) SourceEntries(ctx context.Context, bankName, source string, ids []string) ([]bank.Entry, error) {
	bankID, err := liveBankID(ctx, s.r(), bankName)
	if err != nil {
		return nil, err
	}
	query := func(extra string, args ...any) ([]bank.Entry, error) {
		rows, err := s.r().QueryContext(ctx, `SELECT `+entryCols+` FROM entries WHERE bank_id = ? AND source = ? AND removed = 0`+extra,
			append([]any{bankID, source}, args...)...)
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
	if ids == nil {
		return query("")
	}
	var out []bank.Entry
	for len(ids) > 0 {
		n := min(len(ids), sourceChunk)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		es, err := query(` AND external_id IN (?`+strings.Repeat(",?", n-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
		ids = ids[n:]
	}
	return out, nil
}

// locks are the exchange locks of one process. SQLite serves one node, so
// a lock within the process is all that is needed; a second process on the
// same file (a CLI fetch while the server runs) is not kept out, and its
// fetch is idempotent with the server's.
type locks struct {
	mu   sync.Mutex
	held map[string]bool
}

// TryLockExchange implements exchange.Store.
func (s *Store) TryLockExchange(ctx context.Context, name string) (func(), bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	l := s.locks
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, false, nil
	}
	l.held[name] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			delete(l.held, name)
		})
	}, true, nil
}

// QueueFeedback implements exchange.FeedbackStore.
func (s *Store) QueueFeedback(ctx context.Context, fbs []exchange.Feedback) error {
	now := micros(time.Now())
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		for _, f := range fbs {
			at := now
			if !f.QueuedAt.IsZero() {
				at = micros(f.QueuedAt)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO exchange_feedback (exchange, record_id, kind, value, confirmed, case_id, queued_at, next_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				f.Exchange, f.RecordID, string(f.Kind), f.Value, f.Confirmed, f.CaseID, at, at); err != nil {
				return err
			}
		}
		return nil
	})
}

// DueFeedback implements exchange.FeedbackStore.
func (s *Store) DueFeedback(ctx context.Context, now time.Time, limit int) ([]exchange.Feedback, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id, exchange, record_id, kind, value, confirmed, case_id, queued_at, attempts, last_error, next_at
		FROM exchange_feedback WHERE done = 0 AND next_at <= ? ORDER BY next_at, id LIMIT ?`, micros(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []exchange.Feedback
	for rows.Next() {
		var f exchange.Feedback
		var queued, next int64
		if err := rows.Scan(&f.ID, &f.Exchange, &f.RecordID, &f.Kind, &f.Value, &f.Confirmed, &f.CaseID, &queued, &f.Attempts, &f.LastError, &next); err != nil {
			return nil, err
		}
		f.QueuedAt, f.NextAt = fromMicros(queued), fromMicros(next)
		out = append(out, f)
	}
	return out, rows.Err()
}

// SettleFeedback implements exchange.FeedbackStore.
func (s *Store) SettleFeedback(ctx context.Context, id int64, attempts int, lastErr string, done bool, next time.Time) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE exchange_feedback SET attempts = ?, last_error = ?, done = ?, next_at = ? WHERE id = ?`,
			attempts, lastErr, done, micros(next), id)
		return err
	})
}

// ExchangeStatus implements exchange.StatusStore.
func (s *Store) ExchangeStatus(ctx context.Context, name string) (exchange.Status, bool, error) {
	var doc string
	err := s.r().QueryRowContext(ctx, `SELECT doc FROM exchange_status WHERE exchange = ?`, name).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
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
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO exchange_status (exchange, doc, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (exchange) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`,
			st.Name, string(doc), micros(time.Now()))
		return err
	})
}
