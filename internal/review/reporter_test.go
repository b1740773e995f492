package review_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
)

// TestReporterView: a trusted flagger sees each report's state, age and
// decision, that others reported the same content (counts only), the
// escalation of an overdue one, and figures that add up.
func TestReporterView(t *testing.T) {
	d, clk, _ := newDesk(t)
	ctx := context.Background()
	flag := func(cat review.Category, content string) review.Report {
		r, _, _ := mustFile(t, d, review.Report{Source: review.Flagger, Reporter: "ngo", Category: cat, ContentID: content})
		return r
	}
	a := flag(review.SuspectedCSAM, "p1")
	mustFile(t, d, userReport("u1", review.SuspectedCSAM, "p1"))
	mustFile(t, d, userReport("u2", review.Other, "p1"))
	b := flag(review.Other, "p2")
	c := flag(review.Grooming, "p3")
	clk.Advance(30 * time.Minute)
	if _, _, err := d.Decide(ctx, a.CaseID, confirm("r1")); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"r1", "r2"} { // a flagger's dismissal takes two
		if _, _, err := d.Decide(ctx, b.CaseID, dismiss(r)); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(5 * time.Hour) // c is past the grooming queue's 4 h
	dd := flag(review.Other, "p4")
	if _, err := d.Escalate(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)

	v, err := d.Reporter(ctx, review.Flagger, "ngo", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := review.Tally{Sent: 4, Actioned: 1, Dismissed: 1, Pending: 2, Overdue: 1, Escalated: 1, Oldest: 6*time.Hour + 30*time.Minute}
	if v.Tally != want {
		t.Errorf("tally = %+v, want %+v", v.Tally, want)
	}
	if got := []int64{v.Outcomes[0].ID, v.Outcomes[1].ID, v.Outcomes[2].ID, v.Outcomes[3].ID}; !slices.Equal(got, []int64{dd.ID, c.ID, b.ID, a.ID}) {
		t.Fatalf("order = %v, want newest first", got)
	}
	oa, ob, oc, od := v.Outcomes[3], v.Outcomes[2], v.Outcomes[1], v.Outcomes[0]
	if oa.Status != review.Actioned || oa.Verdict != review.Confirm || !slices.Equal(oa.Actions, []review.Action{review.Remove}) ||
		oa.Age != 30*time.Minute || !oa.DecidedAt.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("confirmed report = %+v; want actioned, remove only (no bank), after 30m", oa)
	}
	if oa.OtherReports != 2 || oa.OtherReporters != 2 {
		t.Errorf("joined = %d reports from %d reporters, want 2 from 2", oa.OtherReports, oa.OtherReporters)
	}
	if ob.Status != review.NoAction || ob.Verdict != review.Dismiss || ob.OtherReports != 0 {
		t.Errorf("dismissed report = %+v", ob)
	}
	if !oc.Overdue || !oc.Escalated || oc.Verdict != "" || oc.Age != 6*time.Hour+30*time.Minute {
		t.Errorf("overdue report = %+v; want overdue, escalated, undecided, 6h30m old", oc)
	}
	if od.Overdue || od.Escalated || od.Age != time.Hour {
		t.Errorf("new report = %+v; want neither overdue nor escalated, 1h old", od)
	}
	// The limit bounds the list, not the figures; users are asked by
	// source too, so a user named like the flagger sees nothing of it.
	if v, _ := d.Reporter(ctx, review.Flagger, "ngo", 1); len(v.Outcomes) != 1 || v.Tally.Sent != 4 {
		t.Errorf("limit 1: %d listed, %d sent", len(v.Outcomes), v.Tally.Sent)
	}
	if v, _ := d.Reporter(ctx, review.User, "ngo", 10); v.Tally.Sent != 0 {
		t.Errorf("user ngo: %+v, want nothing", v.Tally)
	}
}
