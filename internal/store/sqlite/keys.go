package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ auth.Store = (*Store)(nil)

const keyCols = `id, name, role, created_at, created_by, revoked_at, last_used_at, rate_burst, rate_per_second`

func scanKey(row interface{ Scan(...any) error }, extra ...any) (auth.Key, error) {
	var k auth.Key
	var created int64
	var revoked, used, burst sql.NullInt64
	var rate sql.NullFloat64
	if err := row.Scan(append([]any{&k.ID, &k.Name, &k.Role, &created, &k.CreatedBy, &revoked, &used, &burst, &rate}, extra...)...); err != nil {
		return k, err
	}
	if burst.Valid && rate.Valid {
		k.Limit = &auth.RateLimit{Burst: int(burst.Int64), PerSecond: rate.Float64}
	}
	k.CreatedAt = fromMicros(created)
	k.RevokedAt = optMicros(revoked)
	k.LastUsedAt = optMicros(used)
	return k, nil
}

func optMicros(us sql.NullInt64) *time.Time {
	if !us.Valid {
		return nil
	}
	t := fromMicros(us.Int64)
	return &t
}

// CreateKey implements auth.Store.
func (s *Store) CreateKey(ctx context.Context, k auth.Key, h auth.Hash) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE id = ?)`, k.ID).Scan(&exists); err != nil {
			return fmt.Errorf("creating key %s: %w", k.ID, err)
		}
		if exists {
			return fmt.Errorf("key %s: %w", k.ID, store.ErrExists)
		}
		var revoked, used sql.NullInt64
		if k.RevokedAt != nil {
			revoked = sql.NullInt64{Int64: micros(*k.RevokedAt), Valid: true}
		}
		if k.LastUsedAt != nil {
			used = sql.NullInt64{Int64: micros(*k.LastUsedAt), Valid: true}
		}
		var burst sql.NullInt64
		var rate sql.NullFloat64
		if k.Limit != nil {
			burst = sql.NullInt64{Int64: int64(k.Limit.Burst), Valid: true}
			rate = sql.NullFloat64{Float64: k.Limit.PerSecond, Valid: true}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+keyCols+`, secret_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Name, string(k.Role), micros(k.CreatedAt), k.CreatedBy, revoked, used, burst, rate, h[:])
		if err != nil {
			return fmt.Errorf("creating key %s: %w", k.ID, err)
		}
		return nil
	})
}

// KeyByID implements auth.Store.
func (s *Store) KeyByID(ctx context.Context, id string) (auth.Key, auth.Hash, error) {
	var hash []byte
	k, err := scanKey(s.r().QueryRowContext(ctx, `SELECT `+keyCols+`, secret_hash FROM api_keys WHERE id = ?`, id), &hash)
	if err != nil {
		return auth.Key{}, auth.Hash{}, keyError(err, id)
	}
	var h auth.Hash
	if len(hash) != len(h) {
		return auth.Key{}, auth.Hash{}, fmt.Errorf("key %s: stored hash is %d bytes, want %d", id, len(hash), len(h))
	}
	copy(h[:], hash)
	return k, h, nil
}

// keyError turns sql.ErrNoRows into auth.ErrUnknown.
func keyError(err error, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("key %s: %w", id, auth.ErrUnknown)
	}
	return fmt.Errorf("key %s: %w", id, err)
}

// ListKeys implements auth.Store, ordered by creation time then id.
func (s *Store) ListKeys(ctx context.Context) ([]auth.Key, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+keyCols+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	defer rows.Close()
	var ks []auth.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("listing keys: %w", err)
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	return ks, nil
}

// RevokeKey implements auth.Store. An earlier revocation stands: min()
// keeps the earlier of the two times.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return s.updateKey(ctx, id, "revoking", `UPDATE api_keys SET revoked_at = min(coalesce(revoked_at, ?1), ?1) WHERE id = ?2`, micros(at))
}

// TouchKey implements auth.Store.
func (s *Store) TouchKey(ctx context.Context, id string, at time.Time) error {
	return s.updateKey(ctx, id, "touching", `UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2`, micros(at))
}

// SetKeyLimit implements auth.Store.
func (s *Store) SetKeyLimit(ctx context.Context, id string, l *auth.RateLimit) error {
	var burst sql.NullInt64
	var rate sql.NullFloat64
	if l != nil {
		burst = sql.NullInt64{Int64: int64(l.Burst), Valid: true}
		rate = sql.NullFloat64{Float64: l.PerSecond, Valid: true}
	}
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE api_keys SET rate_burst = ?, rate_per_second = ? WHERE id = ?`, burst, rate, id)
		if err != nil {
			return fmt.Errorf("setting the rate limit of key %s: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("key %s: %w", id, auth.ErrUnknown)
		}
		return nil
	})
}

// updateKey runs query with the time us and the key id, and reports an
// unknown key if it changed no row.
func (s *Store) updateKey(ctx context.Context, id, doing, query string, us int64) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, query, us, id)
		if err != nil {
			return fmt.Errorf("%s key %s: %w", doing, id, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("key %s: %w", id, auth.ErrUnknown)
		}
		return nil
	})
}
