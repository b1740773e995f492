package review_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// TestSimulation files a few hundred mixed reports on a fake clock,
// reviewers work the queue top first, and afterwards every report is in
// a case, known-hash items were actioned with no reviewer, and the stats
// agree with the decisions made.
func TestSimulation(t *testing.T) {
	d, clk, m := newDesk(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 400
	known := 0
	for i := range n {
		clk.Advance(time.Duration(rng.IntN(60)) * time.Second)
		r := review.Report{
			Source: review.User, Reporter: fmt.Sprintf("user-%d", rng.IntN(50)),
			Category:  review.Categories[1+rng.IntN(len(review.Categories)-1)],
			ContentID: fmt.Sprintf("post-%d", rng.IntN(300)),
		}
		switch {
		case i%10 == 0: // a network of accounts, from a trusted flagger
			r = review.Report{Source: review.Flagger, Reporter: "hotline", Category: review.Grooming,
				AccountID: fmt.Sprintf("net-%d", rng.IntN(5))}
		case i%25 == 1:
			r = review.RuleReport(rules.Decided{Action: rules.Action{Kind: rules.Enqueue, Priority: 80},
				Rule: rules.RuleRef{ID: 1, Version: 1, Name: "known"}, Match: match.Match{Bank: "ncmec", EntryID: int64(i), Signal: bank.MD5}})
			r.ContentID = fmt.Sprintf("upload-%d", i)
			known++
		}
		if _, _, _, err := d.File(ctx, r); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
		// Every few minutes a reviewer takes the top case.
		if i%3 == 0 {
			q, err := d.Queue(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(q) == 0 {
				continue
			}
			for j := 1; j < len(q); j++ {
				a, b := q[j-1].Priority, q[j].Priority
				if !a.Overdue && b.Overdue || a.Overdue == b.Overdue && a.Score < b.Score {
					t.Fatalf("queue out of order at %d: %+v before %+v", j, a, b)
				}
			}
			top := q[0].Case
			dec := review.Decision{Reviewer: fmt.Sprintf("r%d", rng.IntN(3)), Verdict: review.Dismiss, Reason: "no violation"}
			if rng.IntN(2) == 0 {
				dec = review.Decision{Reviewer: dec.Reviewer, Verdict: review.Confirm, Classification: review.B2, Actions: []review.Action{review.Remove}}
			}
			if _, _, err := d.Decide(ctx, top.ID, dec); err != nil && !errorsIsSecond(err) {
				t.Fatalf("decide case %d: %v", top.ID, err)
			}
		}
	}
	if _, err := d.Escalate(ctx); err != nil {
		t.Fatal(err)
	}
	rs, err := m.Reports(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	actioned, decided, autoKnown := 0, 0, 0
	for _, r := range rs {
		c, err := m.Case(ctx, r.CaseID)
		if err != nil {
			t.Fatalf("report %d is in no case: %v", r.ID, err)
		}
		if r.Status == review.Actioned {
			actioned++
		}
		if !r.DecidedAt.IsZero() {
			decided++
		}
		if r.Source == review.Rule && r.Status == review.Actioned && c.Decisions[0].Reviewer == review.System && r.DecidedAt.Equal(r.ReceivedAt) {
			autoKnown++
		}
	}
	if len(rs) != n || autoKnown != known {
		t.Errorf("%d reports stored of %d filed; %d of %d known-hash reports actioned automatically", len(rs), n, autoKnown, known)
	}
	rows, err := d.Stats(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var sumReceived, sumActioned, sumDecided int
	for _, row := range rows {
		sumReceived += row.Received
		sumActioned += row.Actioned
		sumDecided += row.Decided
	}
	if sumReceived != n || sumActioned != actioned || sumDecided != decided || actioned == 0 || decided == actioned {
		t.Errorf("stats: received %d, actioned %d, decided %d; reports: %d, %d, %d", sumReceived, sumActioned, sumDecided, n, actioned, decided)
	}
}

// errorsIsSecond: the simulated reviewer drew the one who made the first
// dismissal of a flagger's report; another will take it.
func errorsIsSecond(err error) bool { return errors.Is(err, review.ErrSecondReviewer) }
