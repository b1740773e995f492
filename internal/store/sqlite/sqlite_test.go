package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkStore measures imports of 1M entries and reading them back:
//
//	go test -run - -bench Store -benchtime 1x ./internal/store/sqlite
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, 1_000_000, func(b *testing.B) store.Store {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, nil)
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBank(ctx, bank.Bank{Name: "kept"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Several processes (here goroutines) opening an existing store at once.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			s, err := Open(ctx, dir)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			if _, err := s.Bank(ctx, "kept"); err != nil {
				t.Errorf("after reopening: %v", err)
			}
		})
	}
	wg.Wait()
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n)
	steps, _ := store.Migrations(schema, "schema")
	if n != len(steps) {
		t.Errorf("%d migrations recorded, want %d", n, len(steps))
	}
	// A store migrated by a newer program is refused, not damaged.
	if _, err := s.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "newer than this program") {
		t.Errorf("opening a store of a newer schema: %v", err)
	}
}

func TestOpenConcurrently(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			s, err := Open(ctx, dir)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
}

func TestOpenOddDirectory(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data?x=1#frag %41 ü")
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBank(ctx, bank.Bank{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("the database is not where it belongs: %v", err)
	}
}

func TestOpenError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(file, nil, 0o600)
	if _, err := Open(context.Background(), file); err == nil {
		t.Errorf("Open of a file as the data directory succeeded")
	}
}
