package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
)

func TestReview(t *testing.T) {
	reviewtest.Run(t, func(t *testing.T) review.Store { return openEmpty(t) })
}

// TestReviewKeysFollowTheCase checks what the suite cannot see: the side
// tables that answer Related and NearCases are rewritten with the case,
// so a content id, account, digest or hash a save drops stops finding it.
func TestReviewKeysFollowTheCase(t *testing.T) {
	ctx := context.Background()
	s := openEmpty(t)
	h := pdq.Hash{0: 0xff}
	_, c, err := s.FileReport(ctx, review.Report{Source: review.User, Reporter: "u", Category: review.Other, ContentID: "p1", Status: review.Received},
		review.Case{State: review.Open, Category: review.Other, ContentIDs: []string{"p1"}, AccountIDs: []string{"a1"},
			Digests: []string{"md5:aa"}, PDQ: []pdq.Hash{h}})
	if err != nil {
		t.Fatal(err)
	}
	c.ContentIDs, c.AccountIDs, c.Digests, c.PDQ = []string{"p2"}, nil, nil, nil
	if _, err := s.SaveCase(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range [][3][]string{{{"p1"}, nil, nil}, {nil, {"a1"}, nil}, {nil, nil, {"md5:aa"}}} {
		if cs, err := s.Related(ctx, q[0], q[1], q[2]); err != nil || len(cs) != 0 {
			t.Errorf("Related%v after the case dropped it = %d cases, %v", q, len(cs), err)
		}
	}
	if cs, err := s.Related(ctx, []string{"p2"}, nil, nil); err != nil || len(cs) != 1 {
		t.Errorf("Related(p2) after the case gained it = %d cases, %v", len(cs), err)
	}
	if ns, err := s.NearCases(ctx, h, 0); err != nil || len(ns) != 0 {
		t.Errorf("NearCases of a dropped hash = %v, %v", ns, err)
	}
}

// TestReviewControlText: free text may hold any UTF-8, NUL included (the
// JSON document keeps it escaped).
func TestReviewControlText(t *testing.T) {
	ctx := context.Background()
	s := openEmpty(t)
	text := "a\x00b\x1b[31m\u2028"
	r, _, err := s.FileReport(ctx, review.Report{Source: review.User, Reporter: "u", Category: review.Other, AccountID: "a", Text: text, Status: review.Received},
		review.Case{State: review.Open, Category: review.Other, Decisions: []review.Decision{{Reviewer: "k", Verdict: review.Dismiss, Reason: text}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Report(ctx, r.ID)
	if err != nil || got.Text != text {
		t.Errorf("Report(%d).Text = %q, %v; want %q", r.ID, got.Text, err, text)
	}
}

// TestReviewDesk runs the Desk over the store as the server does: a
// near-duplicate joins the first report's case, a decision actions both
// reports, and the reporter's record counts them.
func TestReviewDesk(t *testing.T) {
	ctx := context.Background()
	s := openEmpty(t)
	now := time.Date(2026, 11, 25, 3, 0, 0, 123456789, time.UTC) // nanoseconds: the store keeps microseconds
	d := review.NewDesk(s, s, review.Config{Now: func() time.Time { return now }})
	h := pdq.Hash{0: 0xf0, 9: 0x3c}
	near := h
	near[31] ^= 0x07
	r1, c1, _, err := d.File(ctx, review.Report{Source: review.User, Reporter: "u1", Category: review.Grooming, ContentID: "post-1", Hashes: review.Hashes{PDQ: &h}})
	if err != nil {
		t.Fatal(err)
	}
	r2, c2, _, err := d.File(ctx, review.Report{Source: review.User, Reporter: "u1", Category: review.Grooming, ContentID: "post-2", Hashes: review.Hashes{PDQ: &near}})
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID != c1.ID || c2.Version != 2 || c2.Signals.Reports != 2 {
		t.Fatalf("a near-duplicate (3 bits) went to case %d v%d with %d reports; want case %d v2 with 2", c2.ID, c2.Version, c2.Signals.Reports, c1.ID)
	}
	decided, _, err := d.Decide(ctx, c1.ID, review.Decision{Reviewer: "k1", Verdict: review.Confirm, Actions: []review.Action{review.Remove}})
	if err != nil {
		t.Fatal(err)
	}
	if !decided.Decided() || decided.Version != 3 {
		t.Errorf("decided case: state %s version %d", decided.State, decided.Version)
	}
	for _, id := range []int64{r1.ID, r2.ID} {
		if r, err := d.Report(ctx, id); err != nil || r.Status != review.Actioned || !r.DecidedAt.Equal(now.Truncate(time.Microsecond)) {
			t.Errorf("report %d after the decision: %s decided at %v (%v)", id, r.Status, r.DecidedAt, err)
		}
	}
	if a, err := s.Reporter(ctx, "u1"); err != nil || a.Confirmed != 2 {
		t.Errorf("Reporter(u1) = %+v, %v; want 2 confirmed", a, err)
	}
	if open, err := s.OpenCases(ctx); err != nil || len(open) != 0 {
		t.Errorf("OpenCases after the decision = %d cases, %v", len(open), err)
	}
}

// TestPDQDistance checks the SQL function NearCases counts bits with,
// and that it refuses a hash of the wrong length rather than call it far.
func TestPDQDistance(t *testing.T) {
	s := openEmpty(t)
	a, b := pdq.Hash{0: 0x0f, 31: 0x80}, pdq.Hash{31: 0x01}
	var d int
	if err := s.db.QueryRowContext(t.Context(), `SELECT pdq_distance(?, ?)`, a[:], b[:]).Scan(&d); err != nil || d != 6 {
		t.Errorf("pdq_distance = %d, %v; want 6", d, err)
	}
	if err := s.db.QueryRowContext(t.Context(), `SELECT pdq_distance(?, ?)`, a[:31], b[:]).Scan(&d); err == nil {
		t.Error("pdq_distance of a 31-byte hash: no error")
	}
}

// BenchmarkNearCases measures a near-duplicate lookup over n cases of one
// hash each, the cost every report with a PDQ hash pays:
//
//	go test -run - -bench NearCases ./internal/store/sqlite
func BenchmarkNearCases(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openEmpty(b)
			fillCases(b, s, n)
			var h pdq.Hash
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.NearCases(context.Background(), h, 31); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fillCases stores n cases with one pseudo-random PDQ hash each, in one
// transaction (a report each would take minutes).
func fillCases(b *testing.B, s *Store, n int) {
	ctx := context.Background()
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var h pdq.Hash
		for i := range n {
			for j := range h {
				h[j] = byte((i + 1) * (j + 7) * 2654435761 >> 13)
			}
			if _, err := insertCase(ctx, tx, review.Case{State: review.Decided, Category: review.Other, PDQ: []pdq.Hash{h}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
