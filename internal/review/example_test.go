package review_test

import (
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// The worked example of docs/review.md.
func ExampleWeights_Score() {
	opened := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	c := review.Case{
		State: review.Open, Category: review.SuspectedCSAM,
		OpenedAt: opened, DueAt: opened.Add(time.Hour),
		Signals: review.Signals{
			Reports: 2, Reporters: 2, Flagged: true, MinorSuspected: true,
			Earlier:  []review.Earlier{{CaseID: 12, Distance: 6, Verdict: review.Confirm}},
			Accuracy: []review.Accuracy{{Reporter: "user-81", Confirmed: 4, Dismissed: 1}},
			Reach:    review.Reach{Visibility: rules.Public, Audience: 5000},
		},
	}
	p := review.DefaultWeights.Score(&c, opened.Add(30*time.Minute))
	for _, b := range p.Breakdown {
		fmt.Printf("%-18s %+4d  %s\n", b.Factor, b.Points, b.Why)
	}
	fmt.Println("score", p.Score, "overdue", p.Overdue)
	// Output:
	// severity            +50  category suspected_csam
	// near_confirmed      +20  case 12 confirmed, distance 6
	// minor_suspected     +10  a reporter suspects a child is involved
	// visibility          +10  public
	// audience             +4  audience 5000
	// flagger             +15  a trusted flagger reported it
	// reporter_accuracy    +6  user-81 right 4 of 5
	// reporters            +2  2 distinct reporters
	// waiting             +10  waiting 30m0s
	// score 127 overdue false
}
