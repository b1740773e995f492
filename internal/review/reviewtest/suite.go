package reviewtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// Run checks that the stores open makes (a fresh, empty one per call) keep
// the promises of review.Store, and of review.Index when they implement
// it. Times it stores are whole microseconds in UTC; an empty list may
// come back nil.
func Run(t *testing.T, open func(t *testing.T) review.Store) {
	t.Run("FileAndRead", func(t *testing.T) { testFile(t, open(t)) })
	t.Run("FileJoinsVersioned", func(t *testing.T) { testJoin(t, open(t)) })
	t.Run("SaveCase", func(t *testing.T) { testSave(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("Related", func(t *testing.T) { testRelated(t, open(t)) })
	t.Run("OpenCasesReportsReporter", func(t *testing.T) { testQueries(t, open(t)) })
	t.Run("CasesSince", func(t *testing.T) { testCasesSince(t, open(t)) })
	t.Run("ConcurrentSaves", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("NearCases", func(t *testing.T) {
		s := open(t)
		ix, ok := s.(review.Index)
		if !ok {
			t.Skip("the store is not a review.Index")
		}
		testNear(t, s, ix)
	})
}

var t0 = time.Date(2026, 11, 25, 2, 30, 0, 654321000, time.UTC)

// fullReport is a report with every field set, unicode included.
func fullReport() review.Report {
	h := pdq.Hash{0: 0xf0, 31: 0x0f}
	return review.Report{
		Source: review.Rule, Reporter: "rule:7", Category: review.KnownCSAM,
		Text: "signalé — « urgent »", ContentID: "post-1", AccountID: "acct-1",
		Hashes: review.Hashes{
			PDQ: &h, MD5: "0123456789abcdef0123456789abcdef",
			SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		},
		MinorSuspected: true,
		Reach:          review.Reach{Visibility: rules.Public, Audience: 12345},
		Rule:           &rules.RuleRef{ID: 7, Version: 3, Name: "Known CSAM"},
		Priority:       90,
		Matches:        []match.Match{{Bank: "iwf", EntryID: 4411, Signal: bank.PDQ, Distance: 6, Category: "A"}},
		ReceivedAt:     t0,
		Status:         review.Received,
	}
}

// fullCase is a case with every field set.
func fullCase() review.Case {
	h := pdq.Hash{1: 0xaa}
	return review.Case{
		State: review.Appealed, Category: review.SuspectedCSAM, Queue: review.Appeals,
		ContentIDs: []string{"post-1", "post-2"}, AccountIDs: []string{"acct-1"},
		PDQ: []pdq.Hash{h}, Digests: []string{"md5:0123456789abcdef0123456789abcdef"},
		Signals: review.Signals{
			Reports: 2, Reporters: 2,
			Matches:        []match.Match{{Bank: "iwf", EntryID: 1, Signal: bank.MD5}},
			Earlier:        []review.Earlier{{CaseID: 3, Distance: 4, Verdict: review.Confirm}},
			Flagged:        true,
			RulePriority:   90,
			Accuracy:       []review.Accuracy{{Reporter: "u1", Confirmed: 3, Dismissed: 1}},
			Account:        review.History{Confirmed: 1, Dismissed: 2, Cases: []int64{3, 4, 5}},
			MinorSuspected: true,
			Reach:          review.Reach{Visibility: rules.Unlisted, Audience: 99},
		},
		OpenedAt: t0, DueAt: t0.Add(time.Hour), Escalated: true,
		Decisions: []review.Decision{
			{Reviewer: "k1", Verdict: review.Dismiss, Reason: "adult", At: t0, Pending: true},
			{Reviewer: "k2", Verdict: review.Confirm, Classification: review.B2,
				Actions: []review.Action{review.Remove, review.AddToBank}, At: t0.Add(time.Minute)},
		},
		Appeal: &review.Appeal{Appellant: "acct-1", Reason: "it is me, I am 19", At: t0.Add(time.Hour)},
	}
}

// same compares values, taking nil and empty lists as equal and times by
// instant.
func same(got, want any) error {
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		return fmt.Errorf("got\n\t%+v\nwant\n\t%+v", g, w)
	}
	return nil
}

// norm makes empty slices nil and times UTC, recursively.
func norm(x any) any {
	v := reflect.New(reflect.TypeOf(x)).Elem()
	v.Set(reflect.ValueOf(x))
	normValue(v)
	return v.Interface()
}

var timeType = reflect.TypeOf(time.Time{})

func normValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			c := reflect.New(v.Elem().Type())
			c.Elem().Set(v.Elem())
			normValue(c.Elem())
			v.Set(c)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			normValue(c.Index(i))
		}
		v.Set(c)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normValue(v.Field(i))
			}
		}
	}
}

func testFile(t *testing.T, s review.Store) {
	ctx := context.Background()
	r, c := fullReport(), fullCase()
	r.ID, r.CaseID = 55, 66 // ignored: the store assigns them
	gr, gc, err := s.FileReport(ctx, r, c)
	if err != nil {
		t.Fatal(err)
	}
	if gr.ID <= 0 || gc.ID <= 0 || gr.CaseID != gc.ID || gc.Version != 1 {
		t.Fatalf("FileReport gave report %d in case %d, case %d version %d", gr.ID, gr.CaseID, gc.ID, gc.Version)
	}
	r.ID, r.CaseID = gr.ID, gc.ID
	c.ID, c.Version = gc.ID, 1
	if err := same(gr, r); err != nil {
		t.Errorf("FileReport returned: %v", err)
	}
	if err := same(gc, c); err != nil {
		t.Errorf("FileReport returned: %v", err)
	}
	if got, err := s.Report(ctx, r.ID); err != nil {
		t.Error(err)
	} else if err := same(got, r); err != nil {
		t.Errorf("Report: %v", err)
	}
	if got, err := s.Case(ctx, c.ID); err != nil {
		t.Error(err)
	} else if err := same(got, c); err != nil {
		t.Errorf("Case: %v", err)
	}
	// A report with nothing optional set comes back so too.
	bare := review.Report{Source: review.User, Reporter: "u", Category: review.Other, AccountID: "a",
		ReceivedAt: t0, Status: review.Received}
	br, bc, err := s.FileReport(ctx, bare, review.Case{State: review.Open, Category: review.Other,
		Queue: review.Queue(review.Other), OpenedAt: t0, DueAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if br.ID == r.ID || bc.ID == c.ID {
		t.Errorf("second report and case got ids %d, %d; the first had %d, %d", br.ID, bc.ID, r.ID, c.ID)
	}
	bare.ID, bare.CaseID = br.ID, bc.ID
	if got, err := s.Report(ctx, br.ID); err != nil {
		t.Error(err)
	} else if err := same(got, bare); err != nil {
		t.Errorf("Report of a bare report: %v", err)
	}
}

func testJoin(t *testing.T, s review.Store) {
	ctx := context.Background()
	r1, c, err := s.FileReport(ctx, fullReport(), fullCase())
	if err != nil {
		t.Fatal(err)
	}
	c.Signals.Reports = 3
	r2, c2, err := s.FileReport(ctx, fullReport(), c)
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID != c.ID || c2.Version != 2 || r2.CaseID != c.ID || c2.Signals.Reports != 3 {
		t.Fatalf("joining case %d v1 gave case %d v%d (reports %d), report in case %d", c.ID, c2.ID, c2.Version, c2.Signals.Reports, r2.CaseID)
	}
	// A stale version stores nothing: neither case nor report.
	c.Signals.Reports = 99
	if _, _, err := s.FileReport(ctx, fullReport(), c); !errors.Is(err, review.ErrConflict) {
		t.Fatalf("FileReport with version 1 after version 2: %v, want ErrConflict", err)
	}
	rs, err := s.CaseReports(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].ID != r1.ID || rs[1].ID != r2.ID {
		t.Errorf("CaseReports after a conflict = %d reports, want reports %d and %d", len(rs), r1.ID, r2.ID)
	}
	if got, _ := s.Case(ctx, c.ID); got.Version != 2 || got.Signals.Reports != 3 {
		t.Errorf("case after a conflict: version %d, reports %d; want 2, 3", got.Version, got.Signals.Reports)
	}
	if _, err := s.Report(ctx, r2.ID+1); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("the report of a conflicting FileReport was stored (Report(%d): %v)", r2.ID+1, err)
	}
}

func testSave(t *testing.T, s review.Store) {
	ctx := context.Background()
	r, c, err := s.FileReport(ctx, fullReport(), fullCase())
	if err != nil {
		t.Fatal(err)
	}
	c.State = review.Decided
	c.Decisions = append(c.Decisions, review.Decision{Reviewer: "k3", Verdict: review.Confirm, OnAppeal: true, At: t0.Add(2 * time.Hour)})
	r.Status, r.DecidedAt = review.Actioned, t0.Add(2*time.Hour)
	saved, err := s.SaveCase(ctx, c, []review.Report{r})
	if err != nil {
		t.Fatal(err)
	}
	c.Version = 2
	if err := same(saved, c); err != nil {
		t.Errorf("SaveCase returned: %v", err)
	}
	if got, _ := s.Case(ctx, c.ID); same(got, c) != nil {
		t.Errorf("Case after SaveCase: %v", same(got, c))
	}
	if got, _ := s.Report(ctx, r.ID); same(got, r) != nil {
		t.Errorf("Report after SaveCase: %v", same(got, r))
	}

	stale := c
	stale.Version = 1
	r2 := r
	r2.Status = review.NoAction
	if _, err := s.SaveCase(ctx, stale, []review.Report{r2}); !errors.Is(err, review.ErrConflict) {
		t.Errorf("SaveCase of a stale version: %v, want ErrConflict", err)
	}
	if got, _ := s.Report(ctx, r.ID); got.Status != review.Actioned {
		t.Errorf("a conflicting SaveCase changed report status to %q", got.Status)
	}
	missing := c
	missing.ID = c.ID + 100
	if _, err := s.SaveCase(ctx, missing, nil); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("SaveCase of case %d that does not exist: %v, want ErrNotFound", missing.ID, err)
	}
}

func testNotFound(t *testing.T, s review.Store) {
	ctx := context.Background()
	if _, err := s.Case(ctx, 1); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("Case(1) on an empty store: %v", err)
	}
	if _, err := s.Report(ctx, 1); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("Report(1) on an empty store: %v", err)
	}
	if rs, err := s.CaseReports(ctx, 1); err != nil || len(rs) != 0 {
		t.Errorf("CaseReports(1) on an empty store = %v, %v", rs, err)
	}
	if cs, err := s.OpenCases(ctx); err != nil || len(cs) != 0 {
		t.Errorf("OpenCases on an empty store = %v, %v", cs, err)
	}
	if a, err := s.Reporter(ctx, "nobody"); err != nil || a.Confirmed != 0 || a.Dismissed != 0 {
		t.Errorf("Reporter on an empty store = %+v, %v", a, err)
	}
}

// file stores a one-report case about the given content, account and
// digest; empty ones are left out.
func file(t *testing.T, s review.Store, content, account, digest string, state review.State) review.Case {
	t.Helper()
	c := review.Case{State: state, Category: review.Other, Queue: review.Queue(review.Other), OpenedAt: t0, DueAt: t0}
	r := review.Report{Source: review.User, Reporter: "u", Category: review.Other, ContentID: content, AccountID: account, ReceivedAt: t0, Status: review.Received}
	if content != "" {
		c.ContentIDs = []string{content, content + "-copy"}
	}
	if account != "" {
		c.AccountIDs = []string{account}
	}
	if digest != "" {
		c.Digests = []string{digest}
	}
	_, c, err := s.FileReport(context.Background(), r, c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ids(cs []review.Case) []int64 {
	out := []int64{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func testRelated(t *testing.T, s review.Store) {
	ctx := context.Background()
	a := file(t, s, "p1", "acct-1", "md5:aa", review.Open)
	b := file(t, s, "p2", "acct-1", "", review.Decided)
	c := file(t, s, "p3", "acct-2", "md5:bb", review.Open)
	file(t, s, "p4", "", "", review.Open)
	for _, tc := range []struct {
		name                       string
		contents, accounts, digest []string
		want                       []int64
	}{
		{"nothing", nil, nil, nil, []int64{}},
		{"content", []string{"p3"}, nil, nil, []int64{c.ID}},
		{"a content's second id", []string{"p1-copy"}, nil, nil, []int64{a.ID}},
		{"account, decided included", nil, []string{"acct-1"}, nil, []int64{a.ID, b.ID}},
		{"digest", nil, nil, []string{"md5:bb"}, []int64{c.ID}},
		{"each once, by id", []string{"p3", "p1"}, []string{"acct-1", "acct-2"}, []string{"md5:aa"}, []int64{a.ID, b.ID, c.ID}},
		{"unknown", []string{"p9"}, []string{"acct-9"}, []string{"md5:cc"}, []int64{}},
	} {
		got, err := s.Related(ctx, tc.contents, tc.accounts, tc.digest)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(got), tc.want) {
			t.Errorf("%s: Related = cases %v, want %v", tc.name, ids(got), tc.want)
		}
	}
}

func testQueries(t *testing.T, s review.Store) {
	ctx := context.Background()
	var cs []review.Case
	for i, st := range []review.State{review.Open, review.Decided, review.PendingSecond, review.Appealed, review.Decided} {
		c := review.Case{State: st, Category: review.Other, Queue: review.Queue(review.Other), OpenedAt: t0, DueAt: t0.Add(time.Duration(i) * time.Hour)}
		r := review.Report{Source: review.User, Reporter: "u1", Category: review.Other, AccountID: "a",
			ReceivedAt: t0.Add(time.Duration(i) * time.Minute), Status: review.Received}
		switch i {
		case 1:
			r.Status = review.Actioned
		case 4:
			r.Status, r.Reporter = review.NoAction, "u2"
		case 3:
			r.Status = review.NoAction
		}
		_, c, err := s.FileReport(ctx, r, c)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	open, err := s.OpenCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{cs[0].ID, cs[2].ID, cs[3].ID}; !reflect.DeepEqual(ids(open), want) {
		t.Errorf("OpenCases = %v, want %v", ids(open), want)
	}
	// The open cases are due at t0, t0+2h and t0+3h.
	counts, err := s.CountOpenCases(ctx, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := []review.QueueCount{{Queue: review.Queue(review.Other), Cases: 3, Overdue: 1, NextDue: t0.Add(2 * time.Hour)}}; len(counts) != 1 ||
		counts[0].Queue != want[0].Queue || counts[0].Cases != 3 || counts[0].Overdue != 1 || !counts[0].NextDue.Equal(want[0].NextDue) {
		t.Errorf("CountOpenCases at t0+1h = %+v, want %+v", counts, want)
	}
	if counts, err := s.CountOpenCases(ctx, t0.Add(3*time.Hour)); err != nil || len(counts) != 1 || counts[0].Overdue != 3 || !counts[0].NextDue.IsZero() {
		t.Errorf("CountOpenCases at t0+3h = %+v, %v, want 3 overdue and no next due", counts, err)
	}
	rs, err := s.Reports(ctx, t0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || !rs[0].ReceivedAt.Equal(t0.Add(2*time.Minute)) || rs[0].ID > rs[1].ID || rs[1].ID > rs[2].ID {
		t.Errorf("Reports since the third = %d reports %+v, want the last 3 by id", len(rs), rs)
	}
	if mine, err := s.ReporterReports(ctx, review.User, "u1"); err != nil || len(mine) != 4 || mine[0].ID != 1 || mine[3].Status != review.NoAction {
		t.Errorf("ReporterReports(user, u1) = %+v, %v; want its 4 reports by id", mine, err)
	}
	if mine, err := s.ReporterReports(ctx, review.Flagger, "u1"); err != nil || len(mine) != 0 {
		t.Errorf("ReporterReports(flagger, u1) = %+v, %v; want none (u1 reported as a user)", mine, err)
	}
	for _, tc := range []struct {
		who  string
		want review.Accuracy
	}{
		{"u1", review.Accuracy{Reporter: "u1", Confirmed: 1, Dismissed: 1}},
		{"u2", review.Accuracy{Reporter: "u2", Dismissed: 1}},
		{"u3", review.Accuracy{Reporter: "u3"}},
	} {
		if got, err := s.Reporter(ctx, tc.who); err != nil || got != tc.want {
			t.Errorf("Reporter(%q) = %+v, %v; want %+v", tc.who, got, err, tc.want)
		}
	}
}

// testCasesSince: cases by their opening time, whatever their state, with
// a since between two microseconds rounded up.
func testCasesSince(t *testing.T, s review.Store) {
	ctx := context.Background()
	var cs []review.Case
	for i, st := range []review.State{review.Decided, review.Open, review.Decided, review.Appealed} {
		at := t0.Add(time.Duration(i) * time.Minute)
		c := review.Case{State: st, Category: review.Other, Queue: review.Queue(review.Other), OpenedAt: at, DueAt: at}
		r := review.Report{Source: review.User, Reporter: "u1", Category: review.Other, ContentID: fmt.Sprint("c", i),
			ReceivedAt: at, Status: review.Received}
		_, c, err := s.FileReport(ctx, r, c)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	for _, tc := range []struct {
		since time.Time
		want  []int64
	}{
		{t0.Add(time.Minute), []int64{cs[1].ID, cs[2].ID, cs[3].ID}},
		{t0.Add(time.Minute + time.Nanosecond), []int64{cs[2].ID, cs[3].ID}},
		{t0.Add(time.Hour), []int64{}},
	} {
		got, err := s.CasesSince(ctx, tc.since)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(got), tc.want) {
			t.Errorf("CasesSince(%s) = %v, want %v", tc.since.Format(time.RFC3339Nano), ids(got), tc.want)
		}
	}
}

// testConcurrent: reviewers deciding one case at once; exactly one wins.
func testConcurrent(t *testing.T, s review.Store) {
	ctx := context.Background()
	_, c, err := s.FileReport(ctx, fullReport(), fullCase())
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			x := c
			x.Signals.Reports = 100 + i
			_, errs[i] = s.SaveCase(ctx, x, nil)
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, review.ErrConflict):
			t.Errorf("save %d: %v", i, err)
		}
	}
	got, _ := s.Case(ctx, c.ID)
	if won != 1 || got.Version != 2 {
		t.Errorf("%d of %d concurrent saves of version 1 won, case is version %d; want 1 and 2", won, n, got.Version)
	}
}

func testNear(t *testing.T, s review.Store, ix review.Index) {
	ctx := context.Background()
	var h0 pdq.Hash
	flip := func(h pdq.Hash, bits int) pdq.Hash {
		for i := range bits {
			h[i/8] ^= 1 << (i % 8)
		}
		return h
	}
	mk := func(hs ...pdq.Hash) int64 {
		c := review.Case{State: review.Decided, Category: review.Other, PDQ: hs, OpenedAt: t0, DueAt: t0}
		_, c, err := s.FileReport(ctx, review.Report{Source: review.User, Reporter: "u", Category: review.Other, ReceivedAt: t0, Status: review.Received}, c)
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	a := mk(flip(h0, 3))
	b := mk(flip(h0, 40), flip(h0, 10)) // nearest counts
	mk(flip(h0, 32))
	mk()
	for _, tc := range []struct {
		d    int
		want []review.Near
	}{
		{31, []review.Near{{CaseID: a, Distance: 3}, {CaseID: b, Distance: 10}}},
		{5, []review.Near{{CaseID: a, Distance: 3}}},
		{2, nil},
	} {
		got, err := ix.NearCases(ctx, h0, tc.d)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("NearCases(d=%d) = %v, want %v", tc.d, got, tc.want)
		}
	}
}
