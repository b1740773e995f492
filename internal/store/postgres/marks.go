package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// StoreIdentity implements match.Marks.
func (s *Store) StoreIdentity(ctx context.Context) (string, error) {
	var id string
	if err := s.db.QueryRow(ctx, `SELECT value FROM store_meta WHERE name = 'identity'`).Scan(&id); err != nil {
		return "", fmt.Errorf("reading the store's identity: %w", err)
	}
	return id, nil
}

// PutIndexMark implements match.Marks.
func (s *Store) PutIndexMark(ctx context.Context, token string, seq int64) error {
	_, err := s.db.Exec(ctx, `INSERT INTO index_marks (token, seq, made_at) VALUES ($1, $2, $3)`, token, seq, time.Now())
	return err
}

// IndexMark implements match.Marks.
func (s *Store) IndexMark(ctx context.Context, token string) (int64, bool, error) {
	var seq int64
	err := s.db.QueryRow(ctx, `SELECT seq FROM index_marks WHERE token = $1`, token).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading an index mark: %w", err)
	}
	return seq, true, nil
}

// DropIndexMark implements match.Marks.
func (s *Store) DropIndexMark(ctx context.Context, token string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM index_marks WHERE token = $1`, token)
	return err
}
