package review_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

func queueIDs(t *testing.T, d *review.Desk, q review.Queue) []int64 {
	t.Helper()
	rs, err := d.Queue(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{}
	for _, r := range rs {
		ids = append(ids, r.Case.ID)
	}
	return ids
}

func kinds(fx review.Effects) []review.EventKind {
	var ks []review.EventKind
	for _, e := range fx.Events {
		ks = append(ks, e.Kind)
	}
	return ks
}

func TestQueueOrder(t *testing.T) {
	d, clk, _ := newDesk(t)
	file := func(r review.Report) int64 {
		_, c, _ := mustFile(t, d, r)
		clk.Advance(time.Minute)
		return c.ID
	}
	other := file(userReport("u1", review.Other, "p1"))                    // 10
	groom := file(userReport("u2", review.Grooming, "p2"))                 // 40
	csam := file(userReport("u3", review.SuspectedCSAM, "p3"))             // 50
	flagged := file(review.Report{Source: review.Flagger, Reporter: "ngo", // 40 + 15
		Category: review.Grooming, AccountID: "a4"})
	tie := file(userReport("u5", review.Grooming, "p5")) // 40, due later than groom

	if got, want := queueIDs(t, d, ""), []int64{flagged, csam, groom, tie, other}; !slices.Equal(got, want) {
		t.Errorf("all queues at +5m: %v, want %v", got, want)
	}
	if got, want := queueIDs(t, d, review.Queue(review.Grooming)), []int64{flagged, groom, tie}; !slices.Equal(got, want) {
		t.Errorf("grooming queue: %v, want %v", got, want)
	}
	// At +1h the CSAM case is overdue (1 h target) and goes first,
	// although waiting gives the others points too.
	clk.Set(t0.Add(time.Hour + 2*time.Minute))
	if got, want := queueIDs(t, d, ""), []int64{csam, flagged, groom, tie, other}; !slices.Equal(got, want) {
		t.Errorf("all queues at +62m: %v, want %v", got, want)
	}
	// Deciding a case takes it out of its queue.
	if _, _, err := d.Decide(context.Background(), csam, confirm("r1")); err != nil {
		t.Fatal(err)
	}
	if got := queueIDs(t, d, ""); slices.Contains(got, csam) {
		t.Errorf("decided case %d still queued: %v", csam, got)
	}
}

func TestEscalation(t *testing.T) {
	d, clk, _ := newDesk(t)
	ctx := context.Background()
	_, groom, _ := mustFile(t, d, userReport("u1", review.Grooming, "p1"))     // due +4h
	_, csam, _ := mustFile(t, d, userReport("u2", review.SelfGenerated, "p2")) // due +1h
	_, other, _ := mustFile(t, d, userReport("u3", review.Other, "p3"))        // due +24h
	for _, step := range []struct {
		at   time.Duration
		want []int64 // escalated at this step
	}{
		{59 * time.Minute, nil},
		{time.Hour, []int64{csam.ID}},
		{2 * time.Hour, nil}, // once only
		{4*time.Hour - time.Microsecond, nil},
		{4 * time.Hour, []int64{groom.ID}},
		{48 * time.Hour, []int64{other.ID}},
		{49 * time.Hour, nil},
	} {
		clk.Set(t0.Add(step.at))
		fx, err := d.Escalate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for i, e := range fx.Events {
			if e.Kind != review.CaseEscalated {
				t.Errorf("event %v, want case.escalated", e.Kind)
			}
			got = append(got, e.CaseID)
			if a := fx.Audit[i]; a.Actor != review.System || a.Action != "case.escalate" {
				t.Errorf("audit %+v", a)
			}
		}
		if !slices.Equal(got, step.want) {
			t.Errorf("Escalate at +%v escalated %v, want %v", step.at, got, step.want)
		}
	}
	// The overdue self-generated case (45) heads the queue over the
	// later grooming one (40); a fresh known-hash case (60+30) comes after
	// both, being not yet overdue.
	_, fresh, _ := mustFile(t, d, review.Report{Source: review.User, Reporter: "u4", Category: review.KnownCSAM, ContentID: "p4",
		Matches: []match.Match{{Bank: "iwf", Signal: bank.PDQ, Distance: 8}}})
	if fresh.State != review.Open {
		t.Fatalf("a known-CSAM report with a match 8 bits away was decided automatically")
	}
	got := queueIDs(t, d, "")
	if want := []int64{csam.ID, groom.ID, other.ID, fresh.ID}; !slices.Equal(got, want) {
		t.Errorf("queue after escalations: %v, want %v", got, want)
	}
	c, _, _, _ := d.Case(ctx, csam.ID)
	if !c.Escalated {
		t.Errorf("case %d not marked escalated", csam.ID)
	}
}

func TestKnownCSAMActedOnAutomatically(t *testing.T) {
	d, _, _ := newDesk(t)
	ctx := context.Background()
	r := review.RuleReport(rules.Decided{
		Action: rules.Action{Kind: rules.Enqueue, Priority: 90},
		Rule:   rules.RuleRef{ID: 7, Version: 2, Name: "known"},
		Match:  match.Match{Bank: "ncmec", EntryID: 12, Signal: bank.MD5},
	})
	r.ContentID = "upload-1"
	rep, c, fx, err := d.File(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != review.Decided || rep.Status != review.Actioned || !rep.DecidedAt.Equal(t0) {
		t.Fatalf("known-hash report: case %s, report %s decided %v; want decided, actioned at once", c.State, rep.Status, rep.DecidedAt)
	}
	if dec := c.Decisions[0]; dec.Reviewer != review.System || dec.Verdict != review.Confirm {
		t.Errorf("automatic decision %+v", dec)
	}
	// No law-enforcement intent without a person's decision.
	want := []review.EventKind{review.ContentRemove, review.ReportOutcome}
	if got := kinds(fx); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if got := queueIDs(t, d, ""); len(got) != 0 {
		t.Errorf("queue %v, want empty", got)
	}
	// A rule report carries the rule's priority.
	if c.Signals.RulePriority != 90 || rep.Reporter != "rule:7" {
		t.Errorf("rule priority %d, reporter %q", c.Signals.RulePriority, rep.Reporter)
	}
	// It does not join an open case about the same account (that would
	// decide the case's other reports unseen): it opens its own, and
	// becomes the account's history.
	_, groom, _ := mustFile(t, d, review.Report{Source: review.User, Reporter: "u", Category: review.Grooming, AccountID: "acct-9"})
	r2 := r
	r2.ContentID, r2.AccountID = "upload-2", "acct-9"
	_, c2, _, err := d.File(ctx, r2)
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID == groom.ID || c2.State != review.Decided {
		t.Errorf("known-hash upload by acct-9: case %d %s; the open grooming case is %d", c2.ID, c2.State, groom.ID)
	}
	if g, _, _, _ := d.Case(ctx, groom.ID); g.State != review.Open || g.Signals.Reports != 1 {
		t.Errorf("the grooming case became %s with %d reports", g.State, g.Signals.Reports)
	}
	_, c3, _ := mustFile(t, d, review.Report{Source: review.User, Reporter: "v", Category: review.Other, AccountID: "acct-9", ContentID: "p9"})
	if c3.ID != groom.ID || c3.Signals.Account.Confirmed != 1 {
		t.Errorf("a later report on acct-9: case %d, account history %+v; want case %d, 1 confirmed", c3.ID, c3.Signals.Account, groom.ID)
	}

	// With automatic action off, it waits for a reviewer in the known
	// CSAM queue, on the CSAM hour.
	m := new(reviewtest.Memory)
	manual := review.NewDesk(m, m, review.Config{AutoDistance: -1, Now: func() time.Time { return t0 }})
	_, c, fx, err = manual.File(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != review.Open || c.Queue != review.Queue(review.KnownCSAM) || !c.DueAt.Equal(t0.Add(time.Hour)) || len(fx.Events) != 0 {
		t.Errorf("with AutoDistance -1: case %s in %s due %v, events %v", c.State, c.Queue, c.DueAt, kinds(fx))
	}
}

func TestTwoReviewerRule(t *testing.T) {
	ctx := context.Background()
	flagged := review.Report{Source: review.Flagger, Reporter: "ngo", Category: review.Grooming, AccountID: "a1"}
	for _, tc := range []struct {
		name     string
		report   review.Report
		steps    []review.Decision
		errs     []error // per step
		state    review.State
		status   review.Status
		outcomes int // report.outcome events of the last step
	}{
		{"user report: one dismissal decides", userReport("u", review.Grooming, "p"),
			[]review.Decision{dismiss("r1")}, []error{nil}, review.Decided, review.NoAction, 1},
		{"flagger: first dismissal waits", flagged,
			[]review.Decision{dismiss("r1")}, []error{nil}, review.PendingSecond, review.InReview, 0},
		{"flagger: same reviewer cannot dismiss twice", flagged,
			[]review.Decision{dismiss("r1"), dismiss("r1")}, []error{nil, review.ErrSecondReviewer}, review.PendingSecond, review.InReview, 0},
		{"flagger: second reviewer dismisses", flagged,
			[]review.Decision{dismiss("r1"), dismiss("r2")}, []error{nil, nil}, review.Decided, review.NoAction, 1},
		{"flagger: second reviewer confirms", flagged,
			[]review.Decision{dismiss("r1"), {Reviewer: "r2", Verdict: review.Confirm, Actions: []review.Action{review.Restrict}}},
			[]error{nil, nil}, review.Decided, review.Actioned, 1},
		{"flagger: a confirmation needs one reviewer", flagged,
			[]review.Decision{{Reviewer: "r1", Verdict: review.Confirm, Actions: []review.Action{review.Remove}}},
			[]error{nil}, review.Decided, review.Actioned, 1},
		{"decided case cannot be decided again", userReport("u", review.Other, "p"),
			[]review.Decision{dismiss("r1"), dismiss("r2")}, []error{nil, review.ErrState}, review.Decided, review.NoAction, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, clk, _ := newDesk(t)
			rep, c, _ := mustFile(t, d, tc.report)
			var fx review.Effects
			for i, dec := range tc.steps {
				clk.Advance(10 * time.Minute)
				var err error
				_, fx, err = d.Decide(ctx, c.ID, dec)
				if !errors.Is(err, tc.errs[i]) || (err != nil) != (tc.errs[i] != nil) {
					t.Fatalf("step %d: Decide = %v, want %v", i, err, tc.errs[i])
				}
			}
			got, _, _, err := d.Case(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := d.Report(ctx, rep.ID)
			if got.State != tc.state || r.Status != tc.status {
				t.Errorf("case %s, report %s; want %s, %s", got.State, r.Status, tc.state, tc.status)
			}
			n := 0
			for _, e := range fx.Events {
				if e.Kind == review.ReportOutcome {
					n++
					if e.ReportID != rep.ID || e.Reporter != tc.report.Reporter || e.Status != tc.status {
						t.Errorf("outcome event %+v", e)
					}
				}
			}
			if n != tc.outcomes {
				t.Errorf("%d outcome events, want %d", n, tc.outcomes)
			}
			// Time to action counts to the deciding decision, not a
			// pending first dismissal.
			if tc.state == review.Decided && tc.outcomes == 1 {
				if want := t0.Add(time.Duration(len(tc.steps)) * 10 * time.Minute); !r.DecidedAt.Equal(want) {
					t.Errorf("DecidedAt %v, want %v", r.DecidedAt, want)
				}
			}
		})
	}
}

func TestAppeal(t *testing.T) {
	d, clk, _ := newDesk(t)
	ctx := context.Background()
	rep, c, _ := mustFile(t, d, userReport("u", review.SuspectedCSAM, "p1"))
	if _, _, err := d.Appeal(ctx, c.ID, review.Appeal{Appellant: "uploader", Reason: "x"}); !errors.Is(err, review.ErrState) {
		t.Errorf("appeal of an undecided case: %v, want ErrState", err)
	}
	clk.Advance(time.Minute)
	if _, _, err := d.Decide(ctx, c.ID, confirm("r1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Appeal(ctx, c.ID, review.Appeal{Reason: "x"}); !errors.Is(err, review.ErrInvalid) {
		t.Errorf("appeal without appellant: %v, want ErrInvalid", err)
	}
	clk.Advance(time.Hour)
	c, fx, err := d.Appeal(ctx, c.ID, review.Appeal{Appellant: "uploader", Reason: "that is me as an adult"})
	if err != nil {
		t.Fatal(err)
	}
	if c.State != review.Appealed || c.Queue != review.Appeals || !c.OpenedAt.Equal(clk.Now()) || !c.DueAt.Equal(clk.Now().Add(24*time.Hour)) {
		t.Errorf("appealed case: %s in %s, opened %v due %v", c.State, c.Queue, c.OpenedAt, c.DueAt)
	}
	if got := kinds(fx); !slices.Equal(got, []review.EventKind{review.ReportOutcome}) || fx.Events[0].Status != review.InReview {
		t.Errorf("appeal events %+v", fx.Events)
	}
	if got := queueIDs(t, d, review.Appeals); !slices.Equal(got, []int64{c.ID}) {
		t.Errorf("appeals queue %v", got)
	}
	if _, _, err := d.Appeal(ctx, c.ID, review.Appeal{Appellant: "uploader", Reason: "again"}); !errors.Is(err, review.ErrState) {
		t.Errorf("second appeal: %v, want ErrState", err)
	}
	// The reviewer who decided may not decide the appeal.
	if _, _, err := d.Decide(ctx, c.ID, review.Decision{Reviewer: "r1", Verdict: review.Confirm}); !errors.Is(err, review.ErrSecondReviewer) {
		t.Errorf("appeal decided by the first decider: %v, want ErrSecondReviewer", err)
	}
	clk.Advance(time.Hour)
	c, fx, err = d.Decide(ctx, c.ID, review.Decision{Reviewer: "r2", Verdict: review.Dismiss, Reason: "adult, verified"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []review.EventKind{review.ContentReinstate, review.ReportOutcome}; !slices.Equal(kinds(fx), want) {
		t.Fatalf("overturn events %v, want %v", kinds(fx), want)
	}
	if got := fx.Events[0].Actions; !slices.Equal(got, []review.Action{review.Remove, review.AddToBank}) {
		t.Errorf("reinstate lists actions %v, want the first decision's", got)
	}
	if last := c.Decisions[len(c.Decisions)-1]; c.State != review.Decided || !last.OnAppeal || fx.Audit[0].Action != "case.decide_appeal" {
		t.Errorf("after the appeal: %s, decision %+v, audit %+v", c.State, last, fx.Audit)
	}
	r, _ := d.Report(ctx, rep.ID)
	if r.Status != review.NoAction || !r.DecidedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("report after overturn: %s decided %v; want no_action, first decided at +1m", r.Status, r.DecidedAt)
	}
	// A dismissed case cannot be appealed.
	_, c2, _ := mustFile(t, d, userReport("u", review.Other, "p2"))
	if _, _, err := d.Decide(ctx, c2.ID, dismiss("r1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Appeal(ctx, c2.ID, review.Appeal{Appellant: "x", Reason: "y"}); !errors.Is(err, review.ErrState) {
		t.Errorf("appeal of a dismissal: %v, want ErrState", err)
	}
}

func TestDecisionEffects(t *testing.T) {
	d, _, _ := newDesk(t)
	ctx := context.Background()
	_, c, _ := mustFile(t, d, userReport("u1", review.SuspectedCSAM, "p1"))
	mustFile(t, d, review.Report{Source: review.User, Reporter: "u2", Category: review.SuspectedCSAM, ContentID: "p1", AccountID: "a1"})
	dec := review.Decision{Reviewer: "r1", Verdict: review.Confirm, Classification: review.B1,
		Actions: []review.Action{review.Remove, review.AddToBank, review.SendToLE}}
	c, fx, err := d.Decide(ctx, c.ID, dec)
	if err != nil {
		t.Fatal(err)
	}
	want := []review.EventKind{review.ContentRemove, review.BankAdd, review.LEReport, review.ReportOutcome, review.ReportOutcome}
	if !slices.Equal(kinds(fx), want) {
		t.Fatalf("events %v, want %v", kinds(fx), want)
	}
	bankAdd := fx.Events[1]
	if bankAdd.Classification != review.B1 || !slices.Equal(bankAdd.ContentIDs, []string{"p1"}) || !slices.Equal(bankAdd.AccountIDs, []string{"a1"}) {
		t.Errorf("bank intent %+v", bankAdd)
	}
	if a := fx.Audit[0]; a.Actor != "r1" || a.Action != "case.decide" || a.Subject != "case:"+itoa(c.ID) {
		t.Errorf("audit %+v", a)
	}
	if _, _, err := d.Decide(ctx, 999, dec); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("Decide on a missing case: %v", err)
	} else if n := strings.Count(err.Error(), "999"); n != 1 {
		t.Errorf("Decide on a missing case: %q names the case %d times, want once", err, n)
	}
}

func TestTimeToAction(t *testing.T) {
	var rs []review.Report
	// Ten grooming reports from users decided after 1..10 minutes, the
	// first seven actioned; two undecided.
	for i := 1; i <= 10; i++ {
		st := review.Actioned
		if i > 7 {
			st = review.NoAction
		}
		rs = append(rs, review.Report{Category: review.Grooming, Source: review.User, Status: st,
			ReceivedAt: t0, DecidedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	for range 2 {
		rs = append(rs, review.Report{Category: review.Grooming, Source: review.User, Status: review.Received, ReceivedAt: t0})
	}
	// A flagger's CSAM reports: one decided after 30 s, one on appeal.
	rs = append(rs,
		review.Report{Category: review.SuspectedCSAM, Source: review.Flagger, Status: review.Actioned, ReceivedAt: t0, DecidedAt: t0.Add(30 * time.Second)},
		review.Report{Category: review.SuspectedCSAM, Source: review.Flagger, Status: review.InReview, ReceivedAt: t0, DecidedAt: t0.Add(90 * time.Second)},
		review.Report{Category: review.Other, Source: review.Rule, Status: review.Received, ReceivedAt: t0},
	)
	got := review.TimeToAction(rs)
	want := []review.Row{
		{Category: review.SuspectedCSAM, Source: review.Flagger, Received: 2, Decided: 2, Actioned: 1, Share: 0.5,
			Median: 30 * time.Second, P90: 90 * time.Second},
		{Category: review.Grooming, Source: review.User, Received: 12, Decided: 10, Actioned: 7, Share: 7.0 / 12,
			Median: 5 * time.Minute, P90: 9 * time.Minute},
		{Category: review.Other, Source: review.Rule, Received: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("TimeToAction =\n\t%+v\nwant\n\t%+v", got, want)
	}
	if got := review.TimeToAction(nil); len(got) != 0 {
		t.Errorf("TimeToAction(nil) = %v", got)
	}
}

func TestQueues(t *testing.T) {
	d, clk, _ := newDesk(t)
	mustFile(t, d, userReport("u1", review.Grooming, "p1"))
	clk.Advance(time.Hour)
	mustFile(t, d, userReport("u2", review.Grooming, "p2"))
	mustFile(t, d, userReport("u3", review.SuspectedCSAM, "p3"))
	clk.Advance(3*time.Hour + 30*time.Minute) // the first grooming and the CSAM case are overdue
	got, err := d.Queues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(review.Queues()) {
		t.Fatalf("%d queues, want %d", len(got), len(review.Queues()))
	}
	for _, s := range got {
		want := review.QueueStatus{Queue: s.Queue, Target: s.Target}
		switch s.Queue {
		case review.Queue(review.Grooming):
			want = review.QueueStatus{Queue: s.Queue, Target: 4 * time.Hour, Cases: 2, Overdue: 1, NextDue: t0.Add(5 * time.Hour)}
		case review.Queue(review.SuspectedCSAM):
			want = review.QueueStatus{Queue: s.Queue, Target: time.Hour, Cases: 1, Overdue: 1}
		}
		if s != want {
			t.Errorf("queue %s: %+v, want %+v", s.Queue, s, want)
		}
	}
	if !review.Appeals.Valid() || review.Queue("spam").Valid() {
		t.Error("Queue.Valid is wrong about appeals or spam")
	}
}

// TestConcurrentIntake: reports about the same new content filed at once
// end in one case, and none is lost.
func TestConcurrentIntake(t *testing.T) {
	m := slowStore{new(reviewtest.Memory)}
	d := review.NewDesk(m, m, review.Config{})
	ctx := context.Background()
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, _, _, errs[i] = d.File(ctx, userReport("u"+itoa(int64(i)), review.Grooming, "viral-post"))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("report %d: %v", i, err)
		}
	}
	cs, err := m.OpenCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Signals.Reports != n || cs[0].Signals.Reporters != n {
		t.Fatalf("%d cases; want one with %d reports from %d reporters", len(cs), n, n)
	}
}

// slowStore widens the window between looking for a case to join and
// filing into it, as a database round trip does.
type slowStore struct{ *reviewtest.Memory }

func (s slowStore) Related(ctx context.Context, contentIDs, accountIDs, digests []string) ([]review.Case, error) {
	cs, err := s.Memory.Related(ctx, contentIDs, accountIDs, digests)
	time.Sleep(time.Millisecond)
	return cs, err
}

// failingSave is a store whose SaveCase fails, as a database might.
type failingSave struct{ *reviewtest.Memory }

func (failingSave) SaveCase(context.Context, review.Case, []review.Report) (review.Case, error) {
	return review.Case{}, errors.New("disk full")
}

// TestAutoDecisionFailureKeepsReport: when the automatic decision cannot
// be stored, the report is filed once and its case waits for a reviewer.
func TestAutoDecisionFailureKeepsReport(t *testing.T) {
	m := failingSave{new(reviewtest.Memory)}
	d := review.NewDesk(m, m, review.Config{Now: func() time.Time { return t0 }})
	r := review.Report{Source: review.User, Reporter: "u", Category: review.KnownCSAM, ContentID: "p",
		Matches: []match.Match{{Bank: "b", EntryID: 1, Signal: bank.SHA256}}}
	rep, c, fx, err := d.File(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := m.Reports(context.Background(), time.Time{})
	if len(rs) != 1 || rep.Status != review.Received || c.State != review.Open {
		t.Fatalf("%d reports stored; report %s, case %s; want 1, received, open", len(rs), rep.Status, c.State)
	}
	if last := fx.Audit[len(fx.Audit)-1]; last.Action != "case.auto_failed" || !strings.Contains(last.Detail.(map[string]any)["error"].(string), "disk full") {
		t.Errorf("audit %+v", fx.Audit)
	}
}
