package postgres

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/storetest"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// testURL is the database the suite runs in, from SAFEGUARD_TEST_POSTGRES.
func testURL(t testing.TB) string {
	u := os.Getenv("SAFEGUARD_TEST_POSTGRES")
	if u == "" {
		t.Skip("SAFEGUARD_TEST_POSTGRES not set: skipping the PostgreSQL store suite")
	}
	return u
}

func openTest(t testing.TB) *Store {
	s, err := Open(context.Background(), testkit.PostgresSchema(t, testURL(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) })
}

// BenchmarkStore measures imports of 1M entries and reading them back:
//
//	SAFEGUARD_TEST_POSTGRES=postgres://... go test -run - -bench Store -benchtime 1x ./internal/store/postgres
//
// The pool has one connection, so the server's share of the CPU time is
// that of one backend process, read from /proc when the server is local.
func BenchmarkStore(b *testing.B) {
	u := testkit.PostgresSchema(b, testURL(b)) + "&pool_max_conns=1"
	s, err := Open(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var pid int
	if err := s.pool.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	storetest.Bench(b, 1_000_000, func(b *testing.B) store.Store { return s }, func() time.Duration { return procCPU(pid) })
}

// procCPU is the CPU time process pid has used, or 0 if /proc does not say.
func procCPU(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name: state is the first, utime the 12th,
	// stime the 13th, in clock ticks (USER_HZ, 100 on Linux).
	_, rest, _ := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// TestOpenConcurrently starts several stores on one new schema at once: the
// advisory lock must make them migrate one after the other.
func TestOpenConcurrently(t *testing.T) {
	u := testkit.PostgresSchema(t, testURL(t))
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(ctx, u)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	s, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	steps, _ := store.Migrations(schema, "schema")
	if n != len(steps) {
		t.Errorf("%d migrations recorded, want %d", n, len(steps))
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (999, 'future')`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, u); err == nil || !strings.Contains(err.Error(), "newer than this program") {
		t.Errorf("opening a store of a newer schema: %v", err)
	}
}

func TestOpenError(t *testing.T) {
	testURL(t)
	if _, err := Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"); err == nil {
		t.Errorf("Open of an unreachable server succeeded")
	}
}
