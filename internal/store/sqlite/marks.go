package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// StoreIdentity implements match.Marks.
func (s *Store) StoreIdentity(ctx context.Context) (string, error) {
	var id string
	if err := s.r().QueryRowContext(ctx, `SELECT value FROM store_meta WHERE name = 'identity'`).Scan(&id); err != nil {
		return "", fmt.Errorf("reading the store's identity: %w", err)
	}
	return id, nil
}

// PutIndexMark implements match.Marks.
func (s *Store) PutIndexMark(ctx context.Context, token string, seq int64) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO index_marks (token, seq, made_at) VALUES (?, ?, ?)`, token, seq, micros(time.Now()))
		return err
	})
}

// IndexMark implements match.Marks.
func (s *Store) IndexMark(ctx context.Context, token string) (int64, bool, error) {
	var seq int64
	err := s.r().QueryRowContext(ctx, `SELECT seq FROM index_marks WHERE token = ?`, token).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading an index mark: %w", err)
	}
	return seq, true, nil
}

// DropIndexMark implements match.Marks.
func (s *Store) DropIndexMark(ctx context.Context, token string) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM index_marks WHERE token = ?`, token)
		return err
	})
}
