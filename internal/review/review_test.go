package review_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

var t0 = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)

func newDesk(t *testing.T) (*review.Desk, *testkit.Clock, *reviewtest.Memory) {
	t.Helper()
	clk := testkit.NewClock(t0)
	m := new(reviewtest.Memory)
	return review.NewDesk(m, m, review.Config{Now: clk.Now}), clk, m
}

// userReport is a valid report from a user.
func userReport(reporter string, cat review.Category, content string) review.Report {
	return review.Report{Source: review.User, Reporter: reporter, Category: cat, ContentID: content}
}

func mustFile(t *testing.T, d *review.Desk, r review.Report) (review.Report, review.Case, review.Effects) {
	t.Helper()
	rep, c, fx, err := d.File(context.Background(), r)
	if err != nil {
		t.Fatalf("File(%+v): %v", r, err)
	}
	return rep, c, fx
}

func TestReportValidate(t *testing.T) {
	h := pdq.Hash{}
	ok := userReport("u1", review.Grooming, "post-1")
	for _, tc := range []struct {
		name   string
		change func(r *review.Report)
		want   []string // substrings of the error; none: valid
	}{
		{"valid", func(*review.Report) {}, nil},
		{"account only", func(r *review.Report) { r.ContentID, r.AccountID = "", "acct-1" }, nil},
		{"hashes only", func(r *review.Report) { r.ContentID, r.Hashes.PDQ = "", &h }, nil},
		{"flagger", func(r *review.Report) { r.Source = review.Flagger }, nil},
		{"unknown category", func(r *review.Report) { r.Category = "spam" }, []string{`unknown category "spam": want one of known_csam`}},
		{"unknown source", func(r *review.Report) { r.Source = "bot" }, []string{`unknown source "bot"`}},
		{"no target", func(r *review.Report) { r.ContentID = "" }, []string{"no target"}},
		{"no reporter", func(r *review.Report) { r.Reporter = "" }, []string{"reporter is required"}},
		{"oversized text", func(r *review.Report) { r.Text = strings.Repeat("x", review.MaxText+1) }, []string{"text is 8193 bytes, more than 8192"}},
		{"text not UTF-8", func(r *review.Report) { r.Text = "\xff" }, []string{"text is not UTF-8"}},
		{"control in id", func(r *review.Report) { r.ContentID = "a\nb" }, []string{"content_id holds a control character"}},
		{"long id", func(r *review.Report) { r.AccountID = strings.Repeat("a", 300) }, []string{"account_id is 300 bytes"}},
		{"bad md5", func(r *review.Report) { r.Hashes.MD5 = "ABC" }, []string{"hashes.md5"}},
		{"bad sha256", func(r *review.Report) { r.Hashes.SHA256 = strings.Repeat("g", 64) }, []string{"hashes.sha256"}},
		{"bad visibility", func(r *review.Report) { r.Reach.Visibility = "world" }, []string{"reach.visibility"}},
		{"negative audience", func(r *review.Report) { r.Reach.Audience = -1 }, []string{"reach.audience -1"}},
		{"user with priority", func(r *review.Report) { r.Priority = 50 }, []string{"rule and priority belong to reports from rules"}},
		{"rule without rule", func(r *review.Report) { r.Source = review.Rule }, []string{"names its rule"}},
		{"rule priority range", func(r *review.Report) {
			r.Source, r.Rule, r.Priority = review.Rule, &rules.RuleRef{ID: 1}, 101
		}, []string{"priority 101 out of range 0..100"}},
		{"every problem at once", func(r *review.Report) { r.Category, r.ContentID, r.Reporter = "x", "", "" },
			[]string{"unknown category", "no target", "reporter is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.change(&r)
			err := r.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, review.ErrInvalid) {
				t.Fatalf("Validate = %v, want an ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to say %q", err, w)
				}
			}
		})
	}
}

func TestDecisionValidate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cat      review.Category
		onAppeal bool
		dec      review.Decision
		want     string // substring of the error; "": valid
	}{
		{"confirm CSAM", review.SuspectedCSAM, false, review.Decision{Reviewer: "r", Verdict: review.Confirm, Classification: review.A1,
			Actions: []review.Action{review.Remove, review.AddToBank, review.SendToLE}}, ""},
		{"confirm grooming, no classification", review.Grooming, false, review.Decision{Reviewer: "r", Verdict: review.Confirm,
			Actions: []review.Action{review.Restrict}}, ""},
		{"confirm CSAM without classification", review.SuspectedCSAM, false, review.Decision{Reviewer: "r", Verdict: review.Confirm,
			Actions: []review.Action{review.Remove}}, "needs a classification"},
		{"bank without classification", review.Other, false, review.Decision{Reviewer: "r", Verdict: review.Confirm,
			Actions: []review.Action{review.Remove, review.AddToBank}}, "needs a classification"},
		{"remove and restrict", review.Other, false, review.Decision{Reviewer: "r", Verdict: review.Confirm,
			Actions: []review.Action{review.Remove, review.Restrict}}, "exactly one of remove and restrict"},
		{"no takedown", review.Other, false, review.Decision{Reviewer: "r", Verdict: review.Confirm}, "exactly one of remove and restrict"},
		{"action twice", review.Other, false, review.Decision{Reviewer: "r", Verdict: review.Confirm,
			Actions: []review.Action{review.Remove, review.SendToLE, review.SendToLE}}, "action le_report given twice"},
		{"unknown action", review.Other, false, review.Decision{Reviewer: "r", Verdict: review.Confirm,
			Actions: []review.Action{review.Remove, "nuke"}}, `unknown action "nuke"`},
		{"unknown classification", review.SuspectedCSAM, false, review.Decision{Reviewer: "r", Verdict: review.Confirm,
			Classification: "C", Actions: []review.Action{review.Remove}}, `unknown classification "C"`},
		{"dismiss", review.Other, false, review.Decision{Reviewer: "r", Verdict: review.Dismiss, Reason: "not a child"}, ""},
		{"dismiss without reason", review.Other, false, review.Decision{Reviewer: "r", Verdict: review.Dismiss, Reason: "  "}, "needs a reason"},
		{"dismiss with actions", review.Other, false, review.Decision{Reviewer: "r", Verdict: review.Dismiss, Reason: "x",
			Actions: []review.Action{review.Remove}}, "takes no actions"},
		{"no reviewer", review.Other, false, review.Decision{Verdict: review.Dismiss, Reason: "x"}, "reviewer is required"},
		{"unknown verdict", review.Other, false, review.Decision{Reviewer: "r", Verdict: "maybe"}, `unknown verdict "maybe"`},
		{"uphold on appeal", review.SuspectedCSAM, true, review.Decision{Reviewer: "r", Verdict: review.Confirm}, ""},
		{"uphold with actions", review.SuspectedCSAM, true, review.Decision{Reviewer: "r", Verdict: review.Confirm,
			Actions: []review.Action{review.Remove}}, "takes no actions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.dec.Validate(tc.cat, tc.onAppeal)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case tc.want != "" && (!errors.Is(err, review.ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate = %v, want an ErrInvalid saying %q", err, tc.want)
			}
		})
	}
}

func TestFileBulkAllOrNothing(t *testing.T) {
	d, _, m := newDesk(t)
	ctx := context.Background()
	rs := []review.Report{
		{Source: review.Flagger, Reporter: "ngo", Category: review.Grooming, AccountID: "a1"},
		{Source: review.Flagger, Reporter: "ngo", Category: review.Grooming, AccountID: "a2"},
		{Source: review.Flagger, Reporter: "ngo", Category: "nope", AccountID: "a3"},
	}
	_, _, err := d.FileBulk(ctx, rs)
	if !errors.Is(err, review.ErrInvalid) || !strings.Contains(err.Error(), "item 2: report: unknown category") {
		t.Fatalf("FileBulk with item 2 bad = %v", err)
	}
	if got, _ := m.Reports(ctx, time.Time{}); len(got) != 0 {
		t.Fatalf("a refused batch filed %d reports", len(got))
	}
	rs[2].Category = review.Sextortion
	got, fx, err := d.FileBulk(ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(fx.Audit) != 3 {
		t.Fatalf("FileBulk filed %d reports with %d audit entries, want 3 and 3", len(got), len(fx.Audit))
	}
	for i, r := range got {
		if r.ID == 0 || r.CaseID == 0 || r.Status != review.Received || !r.ReceivedAt.Equal(t0) {
			t.Errorf("report %d came back as %+v", i, r)
		}
		if a := fx.Audit[i]; a.Actor != "ngo" || a.Action != "report.create" || a.Subject != "report:"+itoa(r.ID) {
			t.Errorf("audit %d = %+v", i, a)
		}
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func flip(h pdq.Hash, bits int) *pdq.Hash {
	for i := range bits {
		h[i/8] ^= 1 << (i % 8)
	}
	return &h
}

func TestCaseJoining(t *testing.T) {
	var h0 pdq.Hash
	md5 := strings.Repeat("ab", 16)
	first := review.Report{Source: review.User, Reporter: "u1", Category: review.SexualisedChild,
		ContentID: "post-1", AccountID: "acct-1", Hashes: review.Hashes{PDQ: flip(h0, 0), MD5: md5}}
	for _, tc := range []struct {
		name  string
		other review.Report
		join  bool
	}{
		{"same content id", review.Report{ContentID: "post-1"}, true},
		{"same account", review.Report{AccountID: "acct-1"}, true},
		{"same md5 under another id", review.Report{ContentID: "post-2", Hashes: review.Hashes{MD5: md5}}, true},
		{"PDQ 31 bits away", review.Report{ContentID: "post-3", Hashes: review.Hashes{PDQ: flip(h0, 31)}}, true},
		{"PDQ 32 bits away", review.Report{ContentID: "post-4", Hashes: review.Hashes{PDQ: flip(h0, 32)}}, false},
		{"nothing shared", review.Report{ContentID: "post-5", AccountID: "acct-5"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _, _ := newDesk(t)
			_, c1, _ := mustFile(t, d, first)
			r := tc.other
			r.Source, r.Reporter, r.Category = review.User, "u2", review.SuspectedCSAM
			rep, c2, fx := mustFile(t, d, r)
			if got := c2.ID == c1.ID; got != tc.join {
				t.Fatalf("second report joined case %d (first: %d); want joined %v", c2.ID, c1.ID, tc.join)
			}
			if rep.CaseID != c2.ID {
				t.Errorf("report names case %d, is in %d", rep.CaseID, c2.ID)
			}
			if fx.Audit[0].Detail.(map[string]any)["joined"] != tc.join {
				t.Errorf("audit detail %v, want joined %v", fx.Audit[0].Detail, tc.join)
			}
			if !tc.join {
				return
			}
			// The case takes the graver category and its shorter clock, and
			// gathers both reports' targets.
			if c2.Category != review.SuspectedCSAM || c2.Queue != review.Queue(review.SuspectedCSAM) || !c2.DueAt.Equal(t0.Add(time.Hour)) {
				t.Errorf("joined case: category %s, queue %s, due %v; want suspected_csam, due in 1h", c2.Category, c2.Queue, c2.DueAt)
			}
			if c2.Signals.Reports != 2 || c2.Signals.Reporters != 2 {
				t.Errorf("joined case counts %d reports, %d reporters; want 2, 2", c2.Signals.Reports, c2.Signals.Reporters)
			}
			if r.ContentID != "" && !contains(c2.ContentIDs, r.ContentID) {
				t.Errorf("joined case content %v lacks %s", c2.ContentIDs, r.ContentID)
			}
		})
	}
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestSignals: a report about a near-duplicate of confirmed content, from
// an account with a confirmed case, by a reporter who was right before,
// opens a new case carrying all of it.
func TestSignals(t *testing.T) {
	d, clk, _ := newDesk(t)
	ctx := context.Background()
	var h0 pdq.Hash
	for i := range 3 {
		_, c, _ := mustFile(t, d, review.Report{Source: review.User, Reporter: "good-reporter", Category: review.SuspectedCSAM,
			ContentID: "old-" + itoa(int64(i)), AccountID: "acct-" + itoa(int64(i)), Hashes: review.Hashes{PDQ: flip(h0, 40*i)}})
		if _, _, err := d.Decide(ctx, c.ID, confirm("r1")); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour)
	_, c, _ := mustFile(t, d, review.Report{Source: review.User, Reporter: "good-reporter", Category: review.SuspectedCSAM,
		ContentID: "new", AccountID: "acct-2", Hashes: review.Hashes{PDQ: flip(h0, 5)}})
	if c.State != review.Open || c.Signals.Reports != 1 {
		t.Fatalf("a report about a decided case's near-duplicate joined it: %+v", c)
	}
	s := c.Signals
	if len(s.Earlier) != 1 || s.Earlier[0].CaseID != 1 || s.Earlier[0].Distance != 5 || s.Earlier[0].Verdict != review.Confirm {
		t.Errorf("Earlier = %+v, want case 1 at 5 bits, confirmed", s.Earlier)
	}
	if s.Account.Confirmed != 1 || len(s.Account.Cases) != 1 || s.Account.Cases[0] != 3 {
		t.Errorf("Account = %+v, want case 3 confirmed", s.Account)
	}
	if len(s.Accuracy) != 1 || s.Accuracy[0] != (review.Accuracy{Reporter: "good-reporter", Confirmed: 3}) {
		t.Errorf("Accuracy = %+v, want good-reporter right 3 of 3", s.Accuracy)
	}
	p := d.Priority(&c)
	want := map[string]int{"severity": 50, "near_confirmed": 20, "reporter_accuracy": 10, "account_history": 10}
	for _, b := range p.Breakdown {
		if w, ok := want[b.Factor]; !ok || w != b.Points {
			t.Errorf("contribution %+v, want %v", b, want)
		}
		delete(want, b.Factor)
	}
	if len(want) > 0 || p.Score != 90 {
		t.Errorf("priority %+v: missing %v, want score 90", p, want)
	}
}

func confirm(reviewer string) review.Decision {
	return review.Decision{Reviewer: reviewer, Verdict: review.Confirm, Classification: review.A2,
		Actions: []review.Action{review.Remove, review.AddToBank}}
}

func dismiss(reviewer string) review.Decision {
	return review.Decision{Reviewer: reviewer, Verdict: review.Dismiss, Reason: "an adult"}
}

func TestScore(t *testing.T) {
	due := t0.Add(4 * time.Hour)
	base := func() review.Case {
		return review.Case{State: review.Open, Category: review.Grooming, OpenedAt: t0, DueAt: due}
	}
	for _, tc := range []struct {
		name   string
		change func(c *review.Case)
		at     time.Duration // after t0
		want   map[string]int
	}{
		{"category only, just in", func(*review.Case) {}, 0, map[string]int{"severity": 40}},
		{"half way to the target", func(*review.Case) {}, 2 * time.Hour, map[string]int{"severity": 40, "waiting": 10}},
		{"overdue holds the waiting points", func(*review.Case) {}, 9 * time.Hour, map[string]int{"severity": 40, "waiting": 20}},
		{"known match", func(c *review.Case) {
			c.Category = review.KnownCSAM
			c.Signals.Matches = []match.Match{{Bank: "iwf", Signal: bank.PDQ, Distance: 9}, {Bank: "ncmec", Signal: bank.PDQ, Distance: 4}}
		}, 0, map[string]int{"severity": 60, "known_match": 30}},
		{"reach", func(c *review.Case) {
			c.Signals.Reach = review.Reach{Visibility: rules.Public, Audience: 250_000}
		}, 0, map[string]int{"severity": 40, "visibility": 10, "audience": 8}},
		{"audience capped", func(c *review.Case) {
			c.Signals.Reach = review.Reach{Visibility: rules.Unlisted, Audience: 1e12}
		}, 0, map[string]int{"severity": 40, "visibility": 5, "audience": 10}},
		{"small audience", func(c *review.Case) { c.Signals.Reach.Audience = 99 }, 0, map[string]int{"severity": 40}},
		{"flagger, rule and minor", func(c *review.Case) {
			c.Signals.Flagged, c.Signals.RulePriority, c.Signals.MinorSuspected = true, 90, true
		}, 0, map[string]int{"severity": 40, "flagger": 15, "rule": 18, "minor_suspected": 10}},
		{"unreliable reporter", func(c *review.Case) {
			c.Signals.Accuracy = []review.Accuracy{{Reporter: "u", Confirmed: 1, Dismissed: 9}}
		}, 0, map[string]int{"severity": 40, "reporter_accuracy": -8}},
		{"too few decided reports to judge", func(c *review.Case) {
			c.Signals.Accuracy = []review.Accuracy{{Reporter: "u", Dismissed: 2}}
		}, 0, map[string]int{"severity": 40}},
		{"best reporter counts", func(c *review.Case) {
			c.Signals.Accuracy = []review.Accuracy{{Reporter: "u", Dismissed: 5}, {Reporter: "v", Confirmed: 3, Dismissed: 1}}
		}, 0, map[string]int{"severity": 40, "reporter_accuracy": 5}},
		{"many reporters", func(c *review.Case) { c.Signals.Reporters = 20 }, 0, map[string]int{"severity": 40, "reporters": 10}},
		{"near a dismissed item gives nothing", func(c *review.Case) {
			c.Signals.Earlier = []review.Earlier{{CaseID: 1, Distance: 3, Verdict: review.Dismiss}}
		}, 0, map[string]int{"severity": 40}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(&c)
			p := review.DefaultWeights.Score(&c, t0.Add(tc.at))
			sum := 0
			got := map[string]int{}
			for _, b := range p.Breakdown {
				got[b.Factor] = b.Points
				sum += b.Points
				if b.Why == "" {
					t.Errorf("contribution %s has no reason", b.Factor)
				}
			}
			if len(got) != len(tc.want) || sum != p.Score {
				t.Fatalf("breakdown %+v (sum %d, score %d), want %v", p.Breakdown, sum, p.Score, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %d, want %d (breakdown %+v)", k, got[k], v, p.Breakdown)
				}
			}
			if overdue := tc.at >= 4*time.Hour; p.Overdue != overdue {
				t.Errorf("Overdue = %v at +%v, want %v", p.Overdue, tc.at, overdue)
			}
		})
	}
}

// Issue 12, finding 6: a self-reported hash matching uploads from many
// unrelated accounts is flagged as suspected abuse of the form; a few
// accounts, or another bank, are not.
func TestFormAbuseFlag(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bank     string
		accounts int
		flagged  bool
	}{
		{"self-reported, one account", "self-reported", 1, false},
		{"self-reported, four accounts", "self-reported", 4, false},
		{"self-reported, five accounts", "self-reported", 5, true},
		{"hotline list, many accounts", "ncmec", 50, false},
	} {
		c := review.Case{State: review.Open, Category: review.SelfGenerated, OpenedAt: t0, DueAt: t0.Add(time.Hour)}
		c.Signals.Matches = []match.Match{{Bank: tc.bank, Signal: bank.PDQ, Distance: 3}}
		for i := range tc.accounts {
			c.AccountIDs = append(c.AccountIDs, fmt.Sprintf("acct-%d", i))
		}
		p := review.DefaultWeights.Score(&c, t0)
		got := len(p.Flags) == 1 && p.Flags[0].Flag == review.FlagFormAbuse
		if got != tc.flagged || (tc.flagged && !strings.Contains(p.Flags[0].Why, fmt.Sprint(tc.accounts))) {
			t.Errorf("%s: flags %+v, want flagged %v", tc.name, p.Flags, tc.flagged)
		}
	}
}
