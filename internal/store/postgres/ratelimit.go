package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/ratelimit"
)

var _ ratelimit.Buckets = (*Store)(nil)

// refill is the bucket's tokens at $4 (microseconds), refilled at $5 a
// microsecond up to $3. A server whose clock is behind the last taker's
// refills nothing rather than draining.
const refill = `least($3::double precision, b.tokens + $5::double precision * greatest(0, $4::bigint - b.at))`

// TakeTokens implements ratelimit.Buckets in one statement: a new key's
// bucket is made full less the tokens; an existing one is refilled and
// taken from only if it holds n, so a refused request changes nothing and
// returns no row. Rows of one key serialise on its row lock.
func (s *Store) TakeTokens(ctx context.Context, scope, key string, l ratelimit.Limit, n int, now time.Time) (bool, float64, error) {
	if n < 1 || n > l.Burst {
		return false, 0, fmt.Errorf("taking %d tokens of %s from a bucket of %d: want 1..%d", n, key, l.Burst, l.Burst)
	}
	rate := float64(l.Burst) / float64(l.Per.Microseconds())
	at := now.UnixMicro()
	var tokens float64
	err := s.db.QueryRow(ctx, `INSERT INTO rate_buckets AS b (scope, key, tokens, at) VALUES ($1, $2, $3::double precision - $6::double precision, $4)
		ON CONFLICT (scope, key) DO UPDATE SET tokens = `+refill+` - $6::double precision, at = greatest(b.at, $4)
		WHERE `+refill+` >= $6::double precision
		RETURNING tokens`, scope, key, float64(l.Burst), at, rate, float64(n)).Scan(&tokens)
	if err == nil {
		return true, tokens, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, 0, fmt.Errorf("taking %d tokens of %s: %w", n, key, err)
	}
	// Refused: read what the bucket holds, for when to come back.
	err = s.db.QueryRow(ctx, `SELECT `+refill+` FROM rate_buckets b WHERE scope = $1 AND key = $2`,
		scope, key, float64(l.Burst), at, rate).Scan(&tokens)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, 0, fmt.Errorf("reading the bucket of %s: %w", key, err)
	}
	return false, tokens, nil
}

// ReturnToken implements ratelimit.Buckets.
func (s *Store) ReturnToken(ctx context.Context, scope, key string, l ratelimit.Limit) error {
	if _, err := s.db.Exec(ctx, `UPDATE rate_buckets SET tokens = least($3, tokens + 1) WHERE scope = $1 AND key = $2`,
		scope, key, float64(l.Burst)); err != nil {
		return fmt.Errorf("returning a token of %s: %w", key, err)
	}
	return nil
}

// SweepBuckets implements ratelimit.Buckets.
func (s *Store) SweepBuckets(ctx context.Context, scope string, before time.Time) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM rate_buckets WHERE scope = $1 AND at < $2`, scope, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sweeping full buckets of %s: %w", scope, err)
	}
	return tag.RowsAffected(), nil
}

// SharedKey implements ratelimit.Buckets in store_meta: the first
// server to ask keeps its fresh key; every other gets that one.
func (s *Store) SharedKey(ctx context.Context, fresh string) (string, error) {
	var key string
	err := s.db.QueryRow(ctx, `WITH ins AS (
			INSERT INTO store_meta (name, value) VALUES ('ratelimit_key', $1) ON CONFLICT (name) DO NOTHING RETURNING value)
		SELECT value FROM ins UNION ALL SELECT value FROM store_meta WHERE name = 'ratelimit_key' LIMIT 1`, fresh).Scan(&key)
	if err != nil {
		return "", fmt.Errorf("keeping the rate-limit key: %w", err)
	}
	return key, nil
}
