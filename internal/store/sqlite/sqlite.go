// Package sqlite is the embedded store: one SQLite database file in a data
// directory, through the pure-Go modernc.org/sqlite driver (no cgo; see
// docs/store.md for the comparison with the cgo driver).
//
// SQLite allows one writer at a time. The Store serialises its own writers,
// so goroutines queue instead of failing with "database is locked", and
// opens write transactions with BEGIN IMMEDIATE; the busy timeout covers
// other processes (a CLI import while a server runs).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database's file in the data directory.
const FileName = "safeguard.db"

// busyTimeout is how long a write waits for another process's transaction.
const busyTimeout = 30 * time.Second

// Store is the SQLite store. Its methods are safe for concurrent use.
type Store struct {
	db *sql.DB
	// write is a semaphore of one: the right to open a write transaction.
	write chan struct{}
	// tx is set in the view Atomically hands its function: every read and
	// write then goes through the one transaction.
	tx *sql.Tx
	// locks are the exchange locks (exchange.go), shared with the views.
	locks *locks
	// stmts are the statements of hot writes, prepared once (stmt).
	stmts *stmts
}

// stmts caches prepared statements by their text. SQLite parses and plans
// a statement each time it is prepared, and database/sql prepares every
// ExecContext: for a scan's INSERT that was as much work as running it.
type stmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// stmt returns query prepared, for tx. database/sql prepares it once on
// each connection and keeps it there.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.stmts.mu.Lock()
	st := s.stmts.m[query]
	if st == nil {
		var err error
		if st, err = s.db.PrepareContext(ctx, query); err != nil {
			s.stmts.mu.Unlock()
			return nil, err
		}
		s.stmts.m[query] = st
	}
	s.stmts.mu.Unlock()
	return tx.StmtContext(ctx, st), nil
}

// querier is what reads need of a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// r is where reads go: the transaction of a view, else the database.
func (s *Store) r() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.db
}

var _ store.Store = (*Store)(nil)

//go:embed schema/*.sql
var schema embed.FS

// Open opens (creating if need be) the store in directory dir, and brings
// its schema up to date.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite store: %w", notWritable(dir, err))
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(wal)")
	// In WAL mode NORMAL loses at most the last transactions on a power
	// cut, never consistency; FULL would fsync on every commit.
	q.Add("_pragma", "synchronous(normal)")
	q.Add("_pragma", "foreign_keys(1)")
	// A bulk import inserts into an index of random hashes: with SQLite's
	// default 2 MB page cache, each insert reads pages back from the file.
	q.Add("_pragma", "cache_size(-65536)") // pageCache (entry.go)
	// Statement journals (each multi-row INSERT ... ON CONFLICT needs one)
	// in memory rather than in temporary files.
	q.Add("_pragma", "temp_store(memory)")
	q.Set("_txlock", "immediate")
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	// The database holds hash lists and reports: readable by its owner
	// only. SQLite gives the -wal and -shm files the database file's mode,
	// so creating it 0600 here covers all three.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("sqlite store %s: %w", path, notWritable(dir, err))
	}
	// As a URI, so that '?', '#' or '%' in the directory's name are escaped.
	dsn := &url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", dsn.String())
	if err != nil {
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	// database/sql keeps 2 idle connections by default: a server with many
	// clients at once then opens and closes a connection (and re-runs the
	// pragmas) for most reads.
	db.SetMaxIdleConns(8)
	s := &Store{db: db, write: make(chan struct{}, 1), locks: &locks{held: map[string]bool{}},
		stmts: &stmts{m: map[string]*sql.Stmt{}}}
	// Connections that open a new database file at the same moment race to
	// switch it to WAL, and SQLite answers the loser SQLITE_BUSY at once,
	// without the busy timeout: try again for a while.
	err = s.migrate(ctx)
	for try := 0; err != nil && strings.Contains(err.Error(), "SQLITE_BUSY") && try < 50; try++ {
		time.Sleep(20 * time.Millisecond)
		err = s.migrate(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite store %s: %w", path, notWritable(dir, err))
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Atomically implements store.Store: fn's reads and writes go through one
// write transaction, committed if fn returns nil and rolled back otherwise.
func (s *Store) Atomically(ctx context.Context, fn func(store.Store) error) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		return fn(&Store{db: s.db, write: s.write, tx: tx, locks: s.locks, stmts: s.stmts})
	})
}

// inWrite runs fn in a write transaction, committing if it returns nil. In
// a view of Atomically it runs fn in a savepoint of the view's transaction,
// so that a failed step undoes only itself and the caller decides.
func (s *Store) inWrite(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	if s.tx != nil {
		if _, err := s.tx.ExecContext(ctx, `SAVEPOINT step`); err != nil {
			return err
		}
		if err := fn(s.tx); err != nil {
			if _, rerr := s.tx.ExecContext(ctx, `ROLLBACK TO step; RELEASE step`); rerr != nil {
				return errors.Join(err, rerr)
			}
			return err
		}
		_, err := s.tx.ExecContext(ctx, `RELEASE step`)
		return err
	}
	select {
	case s.write <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.write }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Store) migrate(ctx context.Context) error {
	steps, err := store.Migrations(schema, "schema")
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	var have int
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if have > len(steps) {
		return fmt.Errorf("schema version %d is newer than this program's %d: upgrade safeguard", have, len(steps))
	}
	for _, m := range steps[have:] {
		// Each step and its record commit together; BEGIN IMMEDIATE makes
		// a second process opening the store wait, then see the record.
		err := s.inWrite(ctx, func(tx *sql.Tx) error {
			var done bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.Version).Scan(&done); err != nil || done {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// nextSeqs reserves n change sequence numbers and returns the first. The
// caller holds the write transaction, so no one else can take them.
func nextSeqs(ctx context.Context, tx *sql.Tx, n int64) (int64, error) {
	var last int64
	err := tx.QueryRowContext(ctx, `UPDATE counters SET value = value + ? WHERE name = 'entry_seq' RETURNING value`, n).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("reserving change numbers: %w", err)
	}
	return last - n + 1, nil
}

// notFound turns sql.ErrNoRows into store.ErrNotFound with what was sought.
func notFound(err error, what string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", fmt.Sprintf(what, args...), store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(what, args...), err)
}

// micros and fromMicros convert times to and from their stored form.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
