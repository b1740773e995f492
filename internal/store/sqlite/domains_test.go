package sqlite

import (
	"context"
	"github.com/safeguard-oss/safeguard/internal/network/networktest"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/rules/rulestest"
	"github.com/safeguard-oss/safeguard/internal/session"
	"github.com/safeguard-oss/safeguard/internal/session/sessiontest"
)

// openEmpty opens a new store in a directory of the test's own.
func openEmpty(t testing.TB) *Store { return openAt(t, t.TempDir()) }

func TestAudit(t *testing.T) {
	audittest.TestStore(t, func(t *testing.T) audit.Store { return openEmpty(t) })
}

func TestKeys(t *testing.T) {
	authtest.TestStore(t, func(t *testing.T) auth.Store { return openEmpty(t) })
}

func TestRules(t *testing.T) {
	rulestest.Run(t, func(t *testing.T) rules.Store { return openEmpty(t) })
}

// TestAuditTwoProcesses appends from two stores on one database file, as a
// server and a CLI command would: BEGIN IMMEDIATE, not the store's own
// writer semaphore, must keep the chain from forking.
func TestAuditTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	var logs []*audit.Log
	for range 2 {
		s, err := Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		logs = append(logs, audit.NewLog(s))
	}
	var wg sync.WaitGroup
	for _, l := range logs {
		wg.Go(func() {
			for i := range 20 {
				if _, err := l.Record(t.Context(), audit.System, audit.ScanDecision, "c", map[string]int{"i": i}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	s := openAt(t, dir)
	if r, err := audit.Verify(s.AuditEntries(t.Context(), 1)); err != nil || r.Entries != 40 {
		t.Errorf("after 2×20 appends from two stores: %d entries, %v", r.Entries, err)
	}
}

// TestAuditRefuses checks what the store refuses beyond the suite: an
// entry that would fork the chain (right Seq, wrong Prev), and one whose
// time the store cannot keep exactly, so its hash would not survive.
func TestAuditRefuses(t *testing.T) {
	s := openEmpty(t)
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

func openAt(t testing.TB, dir string) *Store {
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkAppendAudit appends scan decisions from 16 goroutines, as a busy
// server would:
//
//	go test -run - -bench AppendAudit ./internal/store/sqlite
func BenchmarkAppendAudit(b *testing.B) {
	benchAppendAudit(b, openEmpty(b))
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
	networktest.Run(t, func(t *testing.T) networktest.Store { return openEmpty(t) })
}

func TestSessionStore(t *testing.T) {
	sessiontest.TestStore(t, func(t *testing.T) session.Store { return openEmpty(t) })
}
