// Package postgres is the store for larger installations: PostgreSQL through
// pgx's connection pool. Bulk imports go through COPY into a temporary table
// and one INSERT ... ON CONFLICT DO NOTHING, which keeps them all or nothing
// and tells new entries from ones already there.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/safeguard-oss/safeguard/internal/store"
)

// Store is the PostgreSQL store. Its methods are safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// db is where statements go: the pool, or in the view Atomically
	// hands its function, the one transaction (Begin then makes a
	// savepoint, so a failed step undoes only itself).
	db conn
	// scans gathers scan records to commit together (scans.go); nil in a
	// view, whose records go in its transaction.
	scans *scanBatch
}

// conn is what the methods need of a pool or a transaction.
type conn interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Atomically implements store.Store.
func (s *Store) Atomically(ctx context.Context, fn func(store.Store) error) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		return fn(&Store{pool: s.pool, db: tx})
	})
}

var _ store.Store = (*Store)(nil)

//go:embed schema/*.sql
var schema embed.FS

// migrateLock is the advisory lock key that makes servers starting together
// migrate one after the other.
const migrateLock = 0x5afe_9a4d_0001

// Open connects to the database at url (postgres://...) and brings its
// schema up to date. Tables go in the connection's search_path, so a URL
// with search_path=... keeps Safeguard in its own schema.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	s := &Store{pool: pool, db: pool, scans: &scanBatch{}}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	steps, err := store.Migrations(schema, "schema")
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// A session lock, not a transaction's: it spans all the steps.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("waiting for the migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if have > len(steps) {
		return fmt.Errorf("schema version %d is newer than this program's %d: upgrade safeguard", have, len(steps))
	}
	for _, m := range steps[have:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// lockSeq locks the change counter for the rest of tx and returns its
// value: the last change number handed out.
func lockSeq(ctx context.Context, tx pgx.Tx) (int64, error) {
	var last int64
	if err := tx.QueryRow(ctx, `SELECT value FROM counters WHERE name = 'entry_seq' FOR UPDATE`).Scan(&last); err != nil {
		return 0, fmt.Errorf("locking the change counter: %w", err)
	}
	return last, nil
}

func setSeq(ctx context.Context, tx pgx.Tx, last int64) error {
	if _, err := tx.Exec(ctx, `UPDATE counters SET value = $1 WHERE name = 'entry_seq'`, last); err != nil {
		return fmt.Errorf("advancing the change counter: %w", err)
	}
	return nil
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound with what was sought.
func notFound(err error, what string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", fmt.Sprintf(what, args...), store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(what, args...), err)
}

// stored is a time as PostgreSQL keeps it: to the microsecond. PostgreSQL
// rounds; truncating here makes both stores keep the same time.
func stored(t time.Time) time.Time { return store.Time(t) }
