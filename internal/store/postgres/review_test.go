package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
)

func TestReview(t *testing.T) {
	testURL(t)
	reviewtest.Run(t, func(t *testing.T) review.Store { return openTest(t) })
}

// TestReviewKeysFollowTheCase checks what the suite cannot see: the side
// tables that answer Related and NearCases are rewritten with the case,
// so a content id, account, digest or hash a save drops stops finding it.
func TestReviewKeysFollowTheCase(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
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

// TestReviewControlText: free text may hold any UTF-8, NUL included,
// which a text or jsonb column would refuse; the json document keeps it
// escaped.
func TestReviewControlText(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
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

// TestNearCasesBitOrder checks that bit_count over bit(256) counts the
// same bits as pdq.Distance, bit by bit: each single-bit difference is at
// distance 1, and a hash against its complement at 256.
func TestNearCasesBitOrder(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var h0 pdq.Hash
	for i := range h0 {
		h0[i] = byte(i * 37)
	}
	far := h0
	for i := range far {
		far[i] ^= 0xff
	}
	_, c, err := s.FileReport(ctx, review.Report{Source: review.User, Reporter: "u", Category: review.Other, Status: review.Received},
		review.Case{State: review.Open, Category: review.Other, PDQ: []pdq.Hash{far}})
	if err != nil {
		t.Fatal(err)
	}
	if ns, err := s.NearCases(ctx, h0, 256); err != nil || len(ns) != 1 || ns[0] != (review.Near{CaseID: c.ID, Distance: 256}) {
		t.Errorf("NearCases(complement) = %v, %v; want case %d at 256", ns, err, c.ID)
	}
	for _, bit := range []int{0, 7, 8, 100, 255} {
		q := far
		q[bit/8] ^= 1 << (bit % 8)
		if ns, err := s.NearCases(ctx, q, 1); err != nil || len(ns) != 1 || ns[0].Distance != 1 {
			t.Errorf("NearCases with bit %d flipped = %v, %v; want distance 1", bit, ns, err)
		}
	}
}

// BenchmarkNearCases measures a near-duplicate lookup over n cases of one
// hash each, the cost every report with a PDQ hash pays:
//
//	SAFEGUARD_TEST_POSTGRES=postgres://... go test -run - -bench NearCases ./internal/store/postgres
func BenchmarkNearCases(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openTest(b)
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
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
