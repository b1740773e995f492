package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
)

// Issue 12, finding 8: a full database is Unavailable (503 with
// Retry-After), not an error of no kind (500).
func TestFullIsUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// One connection, capped at the pages it has: the next page it needs
	// is "database or disk is full", as on a full volume.
	s.db.SetMaxOpenConns(1)
	if _, err := s.db.ExecContext(ctx, "PRAGMA max_page_count = 1"); err != nil {
		t.Fatal(err)
	}
	var last error
	for i := 0; i < 200 && last == nil; i++ {
		_, last = s.CreateBank(ctx, bank.Bank{Name: fmt.Sprintf("b%d", i), Description: strings.Repeat("x", 2000)})
	}
	if last == nil {
		t.Fatal("a capped database took every write")
	}
	if !errors.Is(derrors.Kind(last), derrors.Unavailable) {
		t.Errorf("full database: %v has kind %v, want unavailable", last, derrors.Kind(last))
	}
}

// Refused input is not a fault: a constraint violation keeps no kind of
// Unavailable.
func TestConstraintIsNotUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.db.ExecContext(ctx, "INSERT INTO no_such_table VALUES (1)")
	if err == nil || derrors.Kind(err) != nil {
		t.Errorf("a bad statement: %v has kind %v, want none", err, derrors.Kind(err))
	}
}

// A database file SQLite may not write is named as such at Open.
func TestReadOnlyDatabaseSaysSo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.db.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	ro.db.SetMaxOpenConns(1)
	_, err = ro.db.ExecContext(ctx, "INSERT INTO banks (name) VALUES ('x')")
	if err == nil {
		t.Fatal("a query-only connection wrote")
	}
	if got := notWritable(dir, err); !strings.Contains(got.Error(), "read-only") || !strings.Contains(got.Error(), dir) {
		t.Errorf("notWritable(%v) = %v, want a message naming %s read-only", err, got, dir)
	}
}

// The database file and its directory are the owner's alone.
func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
}
