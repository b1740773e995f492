package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ auth.Store = (*Store)(nil)

const keyCols = `id, name, role, created_at, created_by, revoked_at, last_used_at, rate_burst, rate_per_second`

func scanKey(row pgx.Row, extra ...any) (auth.Key, error) {
	var k auth.Key
	var burst *int
	var rate *float64
	if err := row.Scan(append([]any{&k.ID, &k.Name, &k.Role, &k.CreatedAt, &k.CreatedBy, &k.RevokedAt, &k.LastUsedAt, &burst, &rate}, extra...)...); err != nil {
		return k, err
	}
	if burst != nil && rate != nil {
		k.Limit = &auth.RateLimit{Burst: *burst, PerSecond: *rate}
	}
	k.CreatedAt = k.CreatedAt.UTC()
	for _, t := range []*time.Time{k.RevokedAt, k.LastUsedAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
	return k, nil
}

// optStored is a nullable time as PostgreSQL keeps it.
func optStored(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := stored(*t)
	return &u
}

// CreateKey implements auth.Store.
func (s *Store) CreateKey(ctx context.Context, k auth.Key, h auth.Hash) error {
	var burst *int
	var rate *float64
	if k.Limit != nil {
		burst, rate = &k.Limit.Burst, &k.Limit.PerSecond
	}
	tag, err := s.db.Exec(ctx, `INSERT INTO api_keys (`+keyCols+`, secret_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO NOTHING`,
		k.ID, k.Name, string(k.Role), stored(k.CreatedAt), k.CreatedBy, optStored(k.RevokedAt), optStored(k.LastUsedAt), burst, rate, h[:])
	if err != nil {
		return fmt.Errorf("creating key %s: %w", k.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("key %s: %w", k.ID, store.ErrExists)
	}
	return nil
}

// KeyByID implements auth.Store.
func (s *Store) KeyByID(ctx context.Context, id string) (auth.Key, auth.Hash, error) {
	var hash []byte
	k, err := scanKey(s.db.QueryRow(ctx, `SELECT `+keyCols+`, secret_hash FROM api_keys WHERE id = $1`, id), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Key{}, auth.Hash{}, fmt.Errorf("key %s: %w", id, auth.ErrUnknown)
	}
	if err != nil {
		return auth.Key{}, auth.Hash{}, fmt.Errorf("key %s: %w", id, err)
	}
	var h auth.Hash
	if len(hash) != len(h) {
		return auth.Key{}, auth.Hash{}, fmt.Errorf("key %s: stored hash is %d bytes, want %d", id, len(hash), len(h))
	}
	copy(h[:], hash)
	return k, h, nil
}

// ListKeys implements auth.Store, ordered by creation time then id.
func (s *Store) ListKeys(ctx context.Context) ([]auth.Key, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+keyCols+` FROM api_keys ORDER BY created_at, id`)
	ks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Key, error) { return scanKey(r) })
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	return ks, nil
}

// RevokeKey implements auth.Store. An earlier revocation stands: least()
// ignores a NULL and keeps the earlier of two times.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return s.updateKey(ctx, id, "revoking", `UPDATE api_keys SET revoked_at = least(revoked_at, $1) WHERE id = $2`, stored(at))
}

// TouchKey implements auth.Store.
func (s *Store) TouchKey(ctx context.Context, id string, at time.Time) error {
	return s.updateKey(ctx, id, "touching", `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, stored(at))
}

// SetKeyLimit implements auth.Store. Its trigger (0025) tells every
// server's key cache at once.
func (s *Store) SetKeyLimit(ctx context.Context, id string, l *auth.RateLimit) error {
	var burst *int
	var rate *float64
	if l != nil {
		burst, rate = &l.Burst, &l.PerSecond
	}
	tag, err := s.db.Exec(ctx, `UPDATE api_keys SET rate_burst = $1, rate_per_second = $2 WHERE id = $3`, burst, rate, id)
	if err != nil {
		return fmt.Errorf("setting the rate limit of key %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("key %s: %w", id, auth.ErrUnknown)
	}
	return nil
}

// updateKey runs query with the time at and the key id, and reports an
// unknown key if it changed no row.
func (s *Store) updateKey(ctx context.Context, id, doing, query string, at time.Time) error {
	tag, err := s.db.Exec(ctx, query, at, id)
	if err != nil {
		return fmt.Errorf("%s key %s: %w", doing, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("key %s: %w", id, auth.ErrUnknown)
	}
	return nil
}
