package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
)

// BenchmarkReporterView is GET /v1/reports/mine's work on SQLite: a
// trusted flagger's 1,000 reports (each its own case) among 10,000 from
// users, read with their cases, the figures over all 1,000, 100 listed.
func BenchmarkReporterView(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	for i := range 11_000 {
		src, who := review.User, fmt.Sprint("u", i%500)
		if i%11 == 0 {
			src, who = review.Flagger, "ngo"
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		c := review.Case{State: review.Open, Category: review.Other, Queue: review.Queue(review.Other), OpenedAt: at, DueAt: at.Add(24 * time.Hour),
			ContentIDs: []string{fmt.Sprint("p", i)}, Signals: review.Signals{Reports: 1, Reporters: 1}}
		r := review.Report{Source: src, Reporter: who, Category: review.Other, ContentID: c.ContentIDs[0], ReceivedAt: at, Status: review.Received}
		if _, _, err := s.FileReport(ctx, r, c); err != nil {
			b.Fatal(err)
		}
	}
	d := review.NewDesk(s, s, review.Config{Now: func() time.Time { return t0.Add(30 * 24 * time.Hour) }})
	b.ReportAllocs()
	for b.Loop() {
		v, err := d.Reporter(ctx, review.Flagger, "ngo", 100)
		if err != nil || v.Tally.Sent != 1000 || len(v.Outcomes) != 100 {
			b.Fatal(v.Tally, err)
		}
	}
}
