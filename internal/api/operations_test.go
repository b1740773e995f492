package api_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// operations is a large deployment's snapshot: 50 banks of 10 M entries
// in all, 10 exchanges, every queue.
func operations() api.Operations {
	o := api.Operations{At: time.Now(), EvidenceKept: true, EvidenceWritable: true, EvidenceProbe: time.Millisecond,
		BankEntries: map[string]int64{}, Index: match.Stats{PDQ: 8_000_000, Exact: 2_000_000, Seq: 10_000_000, Synced: time.Now()},
		IndexLoad: 2 * time.Second}
	for _, q := range review.Queues() {
		o.Queues = append(o.Queues, review.QueueStatus{Queue: q, Target: time.Hour, Cases: 1000, Overdue: 3, NextDue: time.Now().Add(time.Minute)})
	}
	for i := range 50 {
		o.BankEntries[fmt.Sprintf("bank_%d", i)] = 200_000
	}
	for i := range 10 {
		o.Exchanges = append(o.Exchanges, exchange.Status{Name: fmt.Sprintf("ex_%d", i), Kind: "ncmec", Succeeded: true, UpToDate: true,
			LastSuccess: time.Now().Add(-time.Minute), Records: 1_000_000})
	}
	return o
}

// A scrape reads the snapshot only: its answer is what was set, and its
// cost does not grow with the banks (BenchmarkScrapeOperations).
func TestOperationsScrape(t *testing.T) {
	m := api.NewMetrics(nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), "safeguard_review_queue_cases") {
		t.Error("operations metrics before any were gathered")
	}
	m.SetOperations(operations())
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`safeguard_review_queue_overdue{queue="appeals"} 3`,
		`safeguard_bank_entries{bank="bank_7"} 200000`,
		`safeguard_exchange_up_to_date{exchange="ex_3",kind="ncmec"} 1`,
		`safeguard_index_entries{signal="pdq"} 8e+06`,
		`safeguard_index_load_seconds 2`,
		`safeguard_evidence_writable 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(body, `safeguard_exchange_lag_seconds{exchange="ex_0",kind="ncmec"} 6`) {
		t.Errorf("lag is not about a minute:\n%s", body)
	}
}

// TestOperationsDocumented keeps docs/operations.md's table true: every
// operations metric a scrape shows has its row.
func TestOperationsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	m := api.NewMetrics(nil)
	o := operations()
	o.Failed = []string{"queues"}
	m.SetOperations(o)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	seen := 0
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		name, ok := strings.CutPrefix(l, "# TYPE ")
		if !ok || !strings.HasPrefix(name, "safeguard_") {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		seen++
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/operations.md does not describe %s", name)
		}
	}
	if seen < 20 {
		t.Errorf("only %d metrics seen", seen)
	}
}

// BenchmarkScrapeOperations is one /metrics scrape with a large
// deployment's operations snapshot: no store is read.
func BenchmarkScrapeOperations(b *testing.B) {
	m := api.NewMetrics(nil)
	m.SetOperations(operations())
	h := m.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	}
}
