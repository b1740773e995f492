package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/session"
)

var _ session.Store = (*Store)(nil)

// CreateSession implements session.Store.
func (s *Store) CreateSession(ctx context.Context, x session.Session) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO console_sessions (id, key_id, sealed, started_at, seen_at, break_at) VALUES (?, ?, ?, ?, ?, ?)`,
			x.ID[:], x.KeyID, x.Sealed, micros(x.Start), micros(x.Seen), micros(x.BreakAt))
		if err != nil {
			return fmt.Errorf("creating session %s: %w", x.ID, err)
		}
		return nil
	})
}

// Session implements session.Store.
func (s *Store) Session(ctx context.Context, id session.ID) (session.Session, error) {
	x := session.Session{ID: id}
	var start, seen, brk int64
	err := s.r().QueryRowContext(ctx, `SELECT key_id, sealed, started_at, seen_at, break_at FROM console_sessions WHERE id = ?`, id[:]).
		Scan(&x.KeyID, &x.Sealed, &start, &seen, &brk)
	if errors.Is(err, sql.ErrNoRows) {
		return session.Session{}, fmt.Errorf("session %s: %w", id, session.ErrNotFound)
	}
	if err != nil {
		return session.Session{}, fmt.Errorf("session %s: %w", id, err)
	}
	x.Start, x.Seen, x.BreakAt = fromMicros(start), fromMicros(seen), fromMicros(brk)
	return x, nil
}

func (s *Store) setSession(ctx context.Context, id session.ID, col string, t time.Time) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE console_sessions SET `+col+` = ? WHERE id = ?`, micros(t), id[:])
		if err != nil {
			return fmt.Errorf("session %s: setting %s: %w", id, col, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("session %s: %w", id, session.ErrNotFound)
		}
		return nil
	})
}

// TouchSession implements session.Store.
func (s *Store) TouchSession(ctx context.Context, id session.ID, seen time.Time) error {
	return s.setSession(ctx, id, "seen_at", seen)
}

// PutOffBreak implements session.Store.
func (s *Store) PutOffBreak(ctx context.Context, id session.ID, at time.Time) error {
	return s.setSession(ctx, id, "break_at", at)
}

// DeleteSession implements session.Store; its offers go with it (ON
// DELETE CASCADE).
func (s *Store) DeleteSession(ctx context.Context, id session.ID) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE id = ?`, id[:]); err != nil {
			return fmt.Errorf("deleting session %s: %w", id, err)
		}
		return nil
	})
}

// SweepSessions implements session.Store.
func (s *Store) SweepSessions(ctx context.Context, idleBefore, startedBefore time.Time) (n int64, err error) {
	err = s.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE seen_at < ? OR started_at < ?`, micros(idleBefore), micros(startedBefore))
		if err != nil {
			return fmt.Errorf("sweeping expired sessions: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// OfferContent implements session.Store.
func (s *Store) OfferContent(ctx context.Context, id session.ID, caseID int64, items []string) error {
	if items == nil {
		items = []string{}
	}
	js, err := json.Marshal(items)
	if err != nil {
		return err
	}
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO console_session_offers (session, case_id, items)
			SELECT id, ?, ? FROM console_sessions WHERE id = ?
			ON CONFLICT (session, case_id) DO UPDATE SET items = excluded.items`, caseID, string(js), id[:])
		if err != nil {
			return fmt.Errorf("session %s: recording what case %d offered: %w", id, caseID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("session %s: %w", id, session.ErrNotFound)
		}
		return nil
	})
}

// OfferedContent implements session.Store.
func (s *Store) OfferedContent(ctx context.Context, id session.ID, caseID int64) ([]string, error) {
	var js string
	err := s.r().QueryRowContext(ctx, `SELECT items FROM console_session_offers WHERE session = ? AND case_id = ?`, id[:], caseID).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session %s: reading what case %d offered: %w", id, caseID, err)
	}
	var items []string
	if err := json.Unmarshal([]byte(js), &items); err != nil {
		return nil, fmt.Errorf("session %s: what case %d offered: %w", id, caseID, err)
	}
	return items, nil
}
