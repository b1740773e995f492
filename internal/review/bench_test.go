package review_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// BenchmarkQueue10k ranks 10,000 open cases, what the console asks for
// on every refresh of the whole queue (the store's reads included: here
// the in-memory one, so this is the domain's cost).
func BenchmarkQueue10k(b *testing.B) {
	m := new(reviewtest.Memory)
	ctx := context.Background()
	for i := range 10_000 {
		cat := review.Categories[i%len(review.Categories)]
		opened := t0.Add(time.Duration(i) * time.Second)
		c := review.Case{State: review.Open, Category: cat, Queue: review.Queue(cat), OpenedAt: opened, DueAt: opened.Add(time.Hour),
			ContentIDs: []string{fmt.Sprint("p", i)},
			Signals: review.Signals{Reports: 1, Reporters: 1, MinorSuspected: i%3 == 0, Flagged: i%7 == 0,
				Reach:    review.Reach{Visibility: rules.Public, Audience: int64(i * 10)},
				Accuracy: []review.Accuracy{{Reporter: "u", Confirmed: i % 5, Dismissed: 2}}}}
		r := review.Report{Source: review.User, Reporter: "u", Category: cat, ContentID: c.ContentIDs[0], ReceivedAt: opened, Status: review.Received}
		if _, _, err := m.FileReport(ctx, r, c); err != nil {
			b.Fatal(err)
		}
	}
	d := review.NewDesk(m, m, review.Config{Now: func() time.Time { return t0.Add(3 * time.Hour) }})
	b.ReportAllocs()
	for b.Loop() {
		q, err := d.Queue(ctx, "")
		if err != nil || len(q) != 10_000 {
			b.Fatal(len(q), err)
		}
	}
}
