package transparency_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/transparency"
)

// BenchmarkQuarterSQLite reads and counts a quarter of 20,000 reports
// (each in its case, most decided, some appealed) from a SQLite store:
// the cost of one GET /v1/transparency.
func BenchmarkQuarterSQLite(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const n = 20000
	for i := range n {
		at := start.Add(time.Duration(i) * (91 * 24 * time.Hour / n))
		r := review.Report{Source: review.Sources[i%4], Reporter: fmt.Sprint("u", i%500), Category: review.Categories[i%7],
			ContentID: fmt.Sprint("post-", i), ReceivedAt: at, Status: review.Received}
		c := review.Case{State: review.Open, Category: r.Category, Queue: review.Queue(r.Category), OpenedAt: at, DueAt: at.Add(time.Hour),
			ContentIDs: []string{r.ContentID}, Signals: review.Signals{Reports: 1, Reporters: 1}}
		if i%10 != 0 {
			d := review.Decision{Reviewer: "r1", Verdict: review.Confirm, Classification: review.B2, Actions: []review.Action{review.Remove}, At: at.Add(time.Duration(i%300) * time.Minute)}
			r.Status, r.DecidedAt = review.Actioned, d.At
			if i%3 == 0 {
				d.Verdict, d.Classification, d.Actions, d.Reason, r.Status = review.Dismiss, "", nil, "no violation", review.NoAction
			}
			c.State, c.Decisions = review.Decided, []review.Decision{d}
			if i%3 == 0 && i > 100 {
				c.Signals.Earlier = []review.Earlier{{CaseID: int64(i - 99), Verdict: review.Dismiss}}
			}
		}
		if _, _, err := st.FileReport(ctx, r, c); err != nil {
			b.Fatal(err)
		}
	}
	p := transparency.Period{From: start, To: end}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		in, err := transparency.Gather(ctx, st, p.From, asOf)
		if err != nil {
			b.Fatal(err)
		}
		rep := transparency.Compute(in, p, transparency.Config{})
		if g, _ := rep.Group("all"); g.Figures[0].Value != n {
			b.Fatalf("received %v, want %d", g.Figures[0].Value, n)
		}
	}
	b.ReportMetric(n, "reports/op")
}
