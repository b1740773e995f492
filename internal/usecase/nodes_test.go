package usecase_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/postgres"
	"github.com/safeguard-oss/safeguard/internal/testkit"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// nodes returns n review use cases over one PostgreSQL schema, each with
// its own connection pool and Desk, as n servers have.
func nodes(t *testing.T, n int) []*usecase.Review {
	t.Helper()
	url := testkit.PostgresURL(t)
	var out []*usecase.Review
	for range n {
		st, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		_, tx := usecase.Over(st)
		out = append(out, &usecase.Review{Tx: tx, Log: audit.NewLog(st), Desk: review.NewDesk(st, st, review.Config{})})
	}
	return out
}

// Reports of the same new content sent to several servers at once open
// one case: each filing takes the store's intake lock in its transaction,
// so the later ones find the first's case and join it.
func TestNodesFileOneCase(t *testing.T) {
	rvs := nodes(t, 3)
	ctx := context.Background()
	for round := range 5 {
		content := fmt.Sprintf("content-%d", round)
		var wg sync.WaitGroup
		cases := make([]int64, 3*len(rvs))
		for i := range cases {
			wg.Go(func() {
				rep, err := rvs[i%len(rvs)].File(ctx, "platform", review.Report{Source: review.User, Reporter: fmt.Sprintf("u%d", i),
					Category: review.SuspectedCSAM, ContentID: content})
				if err != nil {
					t.Error(err)
				}
				cases[i] = rep.CaseID
			})
		}
		wg.Wait()
		for i, c := range cases {
			if c != cases[0] {
				t.Fatalf("round %d: report %d went to case %d, report 0 to case %d: two cases for one content", round, i, c, cases[0])
			}
		}
	}
}

// A decision made against a version the case has left is refused, also
// when the change that moved it comes from another server while the
// decision is being made: exactly one of decisions racing on one version
// wins, the others are conflicts.
func TestNodesDecideVersion(t *testing.T) {
	rvs := nodes(t, 3)
	ctx := context.Background()
	for round := range 5 {
		rep, err := rvs[0].File(ctx, "platform", review.Report{Source: review.User, Reporter: "u", Category: review.SuspectedCSAM,
			ContentID: fmt.Sprintf("c%d", round)})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, conflicts := 0, 0
		for i := range 6 {
			wg.Go(func() {
				_, err := rvs[i%len(rvs)].Decide(ctx, "rev", rep.CaseID, 1, review.Decision{Reviewer: fmt.Sprintf("rev%d", i),
					Verdict: review.Dismiss, Reason: "not CSAM"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, review.ErrConflict), errors.Is(err, review.ErrState):
					conflicts++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if won != 1 || conflicts != 5 {
			t.Fatalf("round %d: %d decisions on version 1 succeeded and %d were refused; want 1 and 5", round, won, conflicts)
		}
	}
}

var _ store.Store = (*postgres.Store)(nil)
