package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/session"
)

var _ session.Store = (*Store)(nil)

// CreateSession implements session.Store.
func (s *Store) CreateSession(ctx context.Context, x session.Session) error {
	_, err := s.db.Exec(ctx, `INSERT INTO console_sessions (id, key_id, sealed, started_at, seen_at, break_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		x.ID[:], x.KeyID, x.Sealed, stored(x.Start), stored(x.Seen), stored(x.BreakAt))
	if err != nil {
		return fmt.Errorf("creating session %s: %w", x.ID, err)
	}
	return nil
}

// Session implements session.Store.
func (s *Store) Session(ctx context.Context, id session.ID) (session.Session, error) {
	x := session.Session{ID: id}
	err := s.db.QueryRow(ctx, `SELECT key_id, sealed, started_at, seen_at, break_at FROM console_sessions WHERE id = $1`, id[:]).
		Scan(&x.KeyID, &x.Sealed, &x.Start, &x.Seen, &x.BreakAt)
	if err != nil {
		return session.Session{}, sessionError(err, id)
	}
	x.Start, x.Seen, x.BreakAt = x.Start.UTC(), x.Seen.UTC(), x.BreakAt.UTC()
	return x, nil
}

func sessionError(err error, id session.ID) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("session %s: %w", id, session.ErrNotFound)
	}
	return fmt.Errorf("session %s: %w", id, err)
}

func (s *Store) setSession(ctx context.Context, id session.ID, col string, t time.Time) error {
	tag, err := s.db.Exec(ctx, `UPDATE console_sessions SET `+col+` = $2 WHERE id = $1`, id[:], stored(t))
	if err != nil {
		return fmt.Errorf("session %s: setting %s: %w", id, col, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("session %s: %w", id, session.ErrNotFound)
	}
	return nil
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
	if _, err := s.db.Exec(ctx, `DELETE FROM console_sessions WHERE id = $1`, id[:]); err != nil {
		return fmt.Errorf("deleting session %s: %w", id, err)
	}
	return nil
}

// SweepSessions implements session.Store.
func (s *Store) SweepSessions(ctx context.Context, idleBefore, startedBefore time.Time) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM console_sessions WHERE seen_at < $1 OR started_at < $2`, stored(idleBefore), stored(startedBefore))
	if err != nil {
		return 0, fmt.Errorf("sweeping expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// OfferContent implements session.Store.
func (s *Store) OfferContent(ctx context.Context, id session.ID, caseID int64, items []string) error {
	if items == nil {
		items = []string{}
	}
	// The INSERT ... SELECT finds no row for a session that is gone, so
	// no foreign-key failure needs telling apart from a real one.
	tag, err := s.db.Exec(ctx, `INSERT INTO console_session_offers (session, case_id, items)
		SELECT id, $2, $3 FROM console_sessions WHERE id = $1
		ON CONFLICT (session, case_id) DO UPDATE SET items = EXCLUDED.items`, id[:], caseID, items)
	if err != nil {
		return fmt.Errorf("session %s: recording what case %d offered: %w", id, caseID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("session %s: %w", id, session.ErrNotFound)
	}
	return nil
}

// OfferedContent implements session.Store.
func (s *Store) OfferedContent(ctx context.Context, id session.ID, caseID int64) ([]string, error) {
	var items []string
	err := s.db.QueryRow(ctx, `SELECT items FROM console_session_offers WHERE session = $1 AND case_id = $2`, id[:], caseID).Scan(&items)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session %s: reading what case %d offered: %w", id, caseID, err)
	}
	return items, nil
}
