package postgres

import (
	"context"
	"errors"
	"fmt"
	"github.com/safeguard-oss/safeguard/internal/network/networktest"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/ratelimit/ratelimittest"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/rules/rulestest"
	"github.com/safeguard-oss/safeguard/internal/session"
	"github.com/safeguard-oss/safeguard/internal/session/sessiontest"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// Each suite opens a store in a schema of its own per test (openTest), and
// skips when SAFEGUARD_TEST_POSTGRES is not set.

func TestAudit(t *testing.T) {
	testURL(t)
	audittest.TestStore(t, func(t *testing.T) audit.Store { return openTest(t) })
}

func TestKeys(t *testing.T) {
	testURL(t)
	authtest.TestStore(t, func(t *testing.T) auth.Store { return openTest(t) })
}

func TestRules(t *testing.T) {
	testURL(t)
	rulestest.Run(t, func(t *testing.T) rules.Store { return openTest(t) })
}

// TestAuditRefuses checks what the store refuses beyond the suite: an
// entry that would fork the chain (right Seq, wrong Prev), and one whose
// time the store cannot keep exactly, so its hash would not survive.
func TestAuditRefuses(t *testing.T) {
	s := openTest(t)
	first, err := audit.NewLog(s).Record(t.Context(), audit.System, audit.KeyCreate, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(e *audit.Entry){
		"wrong prev":      func(e *audit.Entry) { e.Prev = audit.Sum{1} },
		"nanosecond time": func(e *audit.Entry) { e.Time = e.Time.Add(time.Nanosecond) },
	} {
		_, err := s.AppendAudit(t.Context(), func(last *audit.Entry) (audit.Entry, error) {
			e := audit.Next(last, time.Now(), "k", audit.KeyRevoke, "k", nil)
			edit(&e)
			e.Hash = e.Sum()
			return e, nil
		})
		if err == nil {
			t.Errorf("AppendAudit accepted entry 2 with a %s", name)
		}
	}
	if last, err := s.LastAudit(t.Context()); err != nil || last == nil || last.Hash != first.Hash {
		t.Errorf("after refused appends LastAudit = %v, %v; want entry 1", last, err)
	}
}

// BenchmarkAppendAudit appends scan decisions from 16 goroutines, as a busy
// server would:
//
//	SAFEGUARD_TEST_POSTGRES=postgres://... go test -run - -bench AppendAudit ./internal/store/postgres
func BenchmarkAppendAudit(b *testing.B) {
	benchAppendAudit(b, openTest(b))
}

// scanDetail is the size of a typical scan decision's audit detail.
var scanDetail = map[string]any{
	"content_id": "post-8812731", "account_id": "acct-99123", "signal": "pdq",
	"matches": []map[string]any{{"bank": "ncmec", "entry": 1234567, "distance": 12}},
	"rule":    "block-known", "actions": []string{"block", "quarantine", "report"},
}

func benchAppendAudit(b *testing.B, s audit.Store) {
	l := audit.NewLog(s)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Record(context.Background(), audit.System, audit.ScanDecision, "post-8812731", scanDetail); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

func TestNetworkEvents(t *testing.T) {
	testURL(t)
	networktest.Run(t, func(t *testing.T) networktest.Store { return openTest(t) })
}

func TestSessionStore(t *testing.T) {
	sessiontest.TestStore(t, func(t *testing.T) session.Store { return openTest(t) })
}

var testRateKey = []byte("a key of thirty-two bytes, for tests")

func TestSharedRateLimit(t *testing.T) {
	s := openTest(t)
	n := 0
	ratelimittest.TestLimiter(t, func(t *testing.T, l ratelimit.Limit) ratelimit.Limiter {
		n++
		return ratelimit.New(l, fmt.Sprintf("test.%d", n), s, testRateKey)
	})
}

// TestKeyedRateLimit runs the per-key limiter (API keys) over the table;
// the pair are two stores on one schema, as two servers on one database.
func TestKeyedRateLimit(t *testing.T) {
	u := testkit.PostgresSchema(t, testURL(t))
	open := func() *Store {
		s, err := Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	n := 0
	ratelimittest.TestKeyed(t, func(*testing.T) ratelimit.Keyed {
		n++
		return ratelimit.NewKeyed(fmt.Sprintf("test.%d", n), a)
	})
	ratelimittest.TestKeyedShared(t, func(*testing.T) (ratelimit.Keyed, ratelimit.Keyed) {
		n++
		scope := fmt.Sprintf("test.%d", n)
		return ratelimit.NewKeyed(scope, a), ratelimit.NewKeyed(scope, b)
	})
}

// BenchmarkKeyLimit is what the per-key limit costs an API request on
// PostgreSQL: "one token a take" reaches the table every request (a limit
// too small to lease), "leased" once in ratelimit.DefaultBatch.
//
//	SAFEGUARD_TEST_POSTGRES=postgres://... go test -run - -bench KeyLimit ./internal/store/postgres
func BenchmarkKeyLimit(b *testing.B) {
	s := openTest(b)
	for _, c := range []struct {
		name  string
		batch int
	}{{"one token a take", 1}, {"leased", 0}} {
		b.Run(c.name, func(b *testing.B) {
			lim := &ratelimit.Leased{Scope: "bench." + c.name, Store: s, Batch: c.batch}
			l := ratelimit.Limit{What: "requests", Burst: 1 << 30, Per: time.Second}
			for b.Loop() {
				if err := lim.AllowWith(b.Context(), "k_1234567890abcdef", l, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSharedRateLimit is the cost a request pays for a limit every
// server counts against: one UPSERT (docs/scale.md). "address" spreads the
// takes over many keys, as Report Remove's clients are; "one key" takes
// from a single row (which refuses once empty, the refused path).
//
//	SAFEGUARD_TEST_POSTGRES=postgres://... go test -run - -bench SharedRateLimit ./internal/store/postgres
func BenchmarkSharedRateLimit(b *testing.B) {
	s := openTest(b)
	ctx := b.Context()
	l := ratelimit.Limit{What: "tries", Burst: 10, Per: time.Hour}
	b.Run("address", func(b *testing.B) {
		lim := ratelimit.New(l, "bench.address", s, testRateKey)
		now := time.Now()
		i := 0
		for b.Loop() {
			i++
			if err := lim.Allow(ctx, fmt.Sprintf("198.51.%d.%d", i/250%250, i%250), now); err != nil {
				var le *ratelimit.LimitError
				if !errors.As(err, &le) {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("one key", func(b *testing.B) {
		lim := ratelimit.New(l, "bench.one", s, testRateKey)
		now := time.Now()
		for b.Loop() {
			if err := lim.Allow(ctx, "198.51.100.1", now); err != nil {
				var le *ratelimit.LimitError
				if !errors.As(err, &le) {
					b.Fatal(err)
				}
			}
		}
	})
}
