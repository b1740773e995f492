package usecase_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/exchangetest"
	"github.com/safeguard-oss/safeguard/internal/exchange/list"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/signal"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/postgres"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/testkit"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// backends open a fresh store of each kind (PostgreSQL only where
// SAFEGUARD_TEST_POSTGRES is set).
var backends = []struct {
	name string
	open func(t testing.TB) store.Store
}{
	{"sqlite", func(t testing.TB) store.Store {
		st, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t testing.TB) store.Store {
		st, err := postgres.Open(context.Background(), testkit.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// sink is the use case over st with the matcher indexing it, and a bank
// of the exchange's name.
func sink(t testing.TB, st store.Store, name string) (*usecase.Exchanges, *match.Matcher) {
	t.Helper()
	stores, tx := usecase.Over(st)
	m := match.New(st)
	u := &usecase.Exchanges{Banks: &usecase.Banks{Stores: stores, Tx: tx, Log: audit.NewLog(st), Matcher: m}}
	if _, err := u.Banks.Create(context.Background(), "test", bank.Bank{Name: name}); err != nil {
		t.Fatal(err)
	}
	return u, m
}

func TestExchangeSinkOnStores(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			exchangetest.TestSink(t, func(t *testing.T) exchangetest.Target {
				st := be.open(t)
				u, _ := sink(t, st, "ex")
				return exchangetest.Target{Sink: u, Checkpoints: u, Entries: func(ctx context.Context, name string) ([]bank.Entry, error) {
					var out []bank.Entry
					for e, err := range st.Entries(ctx, name) {
						if err != nil {
							return nil, err
						}
						out = append(out, e)
					}
					return out, nil
				}}
			})
		})
	}
}

func TestExchangeStoreOnStores(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			exchangetest.TestStore(t, func(t *testing.T) exchangetest.Store { return be.open(t) })
		})
	}
}

func md5Of(i int) string { return fmt.Sprintf("%032x", i) }

func matches(t *testing.T, m *match.Matcher, value string) []match.Match {
	t.Helper()
	raw, _ := hex.DecodeString(value)
	d := [16]byte(raw)
	res, err := m.Match(context.Background(), match.Query{Set: signal.Set{MD5: &d, Quality: -1}, Radius: -1})
	if err != nil {
		t.Fatal(err)
	}
	return res.Matches
}

// pages is a Fetcher of n records in pages of size, from its checkpoint
// (the number of records read); record i is deleted if gone(i).
type pages struct {
	n, size int
	gone    func(i int) bool
}

func (p *pages) Fetch(ctx context.Context, from exchange.Checkpoint, page func(exchange.Page) error) error {
	var at int
	if err := exchange.ReadPosition(from, &at); err != nil {
		return err
	}
	for at < p.n {
		var pg exchange.Page
		end := min(at+p.size, p.n)
		for i := at; i < end; i++ {
			r := exchange.Record{ID: fmt.Sprintf("r%d", i), Classification: "A1", Note: "member 7"}
			if p.gone != nil && p.gone(i) {
				r.Deleted = true
			} else {
				r.Fingerprints = []exchange.Fingerprint{{Kind: exchange.MD5, Value: md5Of(i)}, {Kind: exchange.TMK, Value: "tmk"}}
			}
			pg.Records = append(pg.Records, r)
		}
		pg.Checkpoint = exchange.PositionOf(end)
		if err := page(pg); err != nil {
			return err
		}
		at = end
	}
	return nil
}

// crashing fails the Apply of one batch, as a process dying between two
// pages would, after the pages before it were applied.
type crashing struct {
	exchange.Sink
	at, n int
}

func (c *crashing) Apply(ctx context.Context, b exchange.Batch) error {
	c.n++
	if c.n == c.at {
		return errors.New("crash")
	}
	return c.Sink.Apply(ctx, b)
}

// A fetch through the SQL sink: entries live in the index at once, with
// provenance; a crash between pages resumes where it stopped, losing and
// repeating nothing; tombstones remove; the checkpoint survives reopening.
func TestRunnerThroughStores(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			u, m := sink(t, st, "ncmec_test")
			cfg := exchange.Config{Name: "ncmec_test", Kind: "test"}
			fetched := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
			crash := &crashing{Sink: u, at: 3}
			r := &exchange.Runner{Sink: crash, Checkpoints: u, Lock: u, Now: func() time.Time { return fetched }}
			f := &pages{n: 50, size: 10}
			if err := r.Add(cfg, f); err != nil {
				t.Fatal(err)
			}
			if err := r.Fetch(ctx, "ncmec_test"); err == nil || !strings.Contains(err.Error(), "crash") {
				t.Fatalf("fetch with a crash on page 3: %v", err)
			}
			b, err := st.Bank(ctx, "ncmec_test")
			if err != nil {
				t.Fatal(err)
			}
			if b.Entries != 20 {
				t.Errorf("after a crash on page 3: %d entries, want the 20 of pages 1-2", b.Entries)
			}
			if err := r.Fetch(ctx, "ncmec_test"); err != nil {
				t.Fatal(err)
			}
			if b, _ = st.Bank(ctx, "ncmec_test"); b.Entries != 50 {
				t.Errorf("after resuming: %d entries, want 50", b.Entries)
			}
			got := matches(t, m, md5Of(37))
			if len(got) != 1 {
				t.Fatalf("md5 of record 37 matched %d entries, want 1", len(got))
			}
			e := got[0].Entry
			if e.Source != "ncmec_test" || e.ExternalID != "r37" || e.Category != "A1" || !e.AddedAt.Equal(fetched) || e.AddedBy != "exchange:test" {
				t.Errorf("provenance %+v", e)
			}
			// Each record was added exactly once: the audit log counts 50.
			var added int64
			for ev, err := range st.AuditEntries(ctx, 0) {
				if err != nil {
					t.Fatal(err)
				}
				if ev.Actor == "exchange:ncmec_test" {
					var d struct{ Added int64 }
					if err := json.Unmarshal(ev.Detail, &d); err != nil {
						t.Fatal(err)
					}
					added += d.Added
				}
			}
			if added != 50 {
				t.Errorf("audit log counts %d added, want 50", added)
			}

			// Tombstones from the start again: the even records go.
			f.gone = func(i int) bool { return i%2 == 0 }
			if err := st.SetExchangeCheckpoint(ctx, "ncmec_test", exchange.Checkpoint{}); err != nil {
				t.Fatal(err)
			}
			if err := r.Fetch(ctx, "ncmec_test"); err != nil {
				t.Fatal(err)
			}
			if b, _ = st.Bank(ctx, "ncmec_test"); b.Entries != 25 {
				t.Errorf("after tombstones: %d entries, want 25", b.Entries)
			}
			if n := len(matches(t, m, md5Of(36))); n != 0 {
				t.Errorf("a deleted record still matches (%d)", n)
			}
			cp, err := u.Load(ctx, "ncmec_test")
			if err != nil || cp.Position != "50" {
				t.Errorf("checkpoint %q, %v; want 50", cp.Position, err)
			}
		})
	}
}

// A hotline's file list, fetched twice through the SQL sink: the second
// fetch of an unchanged list changes nothing and records nothing; a line
// gone from the list is removed.
func TestListThroughStores(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			u, m := sink(t, st, "hotline")
			path := filepath.Join(t.TempDir(), "list.txt")
			write := func(n int) {
				var sb strings.Builder
				for i := range n {
					fmt.Fprintf(&sb, "md5 %s\n", md5Of(1000+i))
				}
				if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg := exchange.Config{Name: "hotline", Kind: "list", Settings: map[string]string{"path": path}}
			f, err := list.Config(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := &exchange.Runner{Sink: u, Checkpoints: u, Lock: u}
			r.Add(cfg, f)
			write(30)
			if err := r.Fetch(ctx, "hotline"); err != nil {
				t.Fatal(err)
			}
			events := func() int {
				n := 0
				for _, err := range st.AuditEntries(ctx, 0) {
					if err != nil {
						t.Fatal(err)
					}
					n++
				}
				return n
			}
			before := events()
			if err := r.Fetch(ctx, "hotline"); err != nil {
				t.Fatal(err)
			}
			if after := events(); after != before {
				t.Errorf("an unchanged list wrote %d audit entries", after-before)
			}
			write(20)
			if err := r.Fetch(ctx, "hotline"); err != nil {
				t.Fatal(err)
			}
			if b, _ := st.Bank(ctx, "hotline"); b.Entries != 20 {
				t.Errorf("%d entries, want the 20 of the shorter list", b.Entries)
			}
			if len(matches(t, m, md5Of(1025))) != 0 || len(matches(t, m, md5Of(1005))) != 1 {
				t.Error("the index does not hold what the list holds")
			}
		})
	}
}

// One fetcher per exchange: a second TryLock is refused until the first is
// released (on PostgreSQL, from another connection of the pool).
func TestExchangeLock(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			release, ok, err := st.TryLockExchange(ctx, "a")
			if err != nil || !ok {
				t.Fatalf("free lock: %v %v", ok, err)
			}
			if _, ok, _ := st.TryLockExchange(ctx, "a"); ok {
				t.Error("a held lock was given twice")
			}
			if r, ok, _ := st.TryLockExchange(ctx, "b"); !ok {
				t.Error("another exchange's lock was refused")
			} else {
				r()
			}
			release()
			release()
			r, ok, _ := st.TryLockExchange(ctx, "a")
			if !ok {
				t.Fatal("a released lock was refused")
			}
			r()
		})
	}
}
