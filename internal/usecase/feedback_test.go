package usecase_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/testkit"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// A reviewer's verdict on a match of an NCMEC entry is queued with the
// decision, sent by the feedback worker, retried after a failure, given up
// on after a permanent refusal, and each outcome is in the audit log; a
// match of an entry from elsewhere queues nothing.
func TestFeedbackOnDecisions(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			u, m := sink(t, st, "ncmec_ngo")
			fetched := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
			r := &exchange.Runner{Sink: u, Checkpoints: u, Now: func() time.Time { return fetched }}
			r.Add(exchange.Config{Name: "ncmec_ngo", Kind: "ncmec"}, &pages{n: 3, size: 10})
			if err := r.Fetch(ctx, "ncmec_ngo"); err != nil {
				t.Fatal(err)
			}
			if _, err := u.Banks.Create(ctx, "test", bank.Bank{Name: "own"}); err != nil {
				t.Fatal(err)
			}
			if _, err := u.Banks.Add(ctx, "test", "own", usecase.Slice([]bank.Entry{{Signal: bank.MD5, Value: md5Of(7)}}), nil, nil); err != nil {
				t.Fatal(err)
			}
			_, tx := usecase.Over(st)
			rv := &usecase.Review{Tx: tx, Log: audit.NewLog(st), Desk: review.NewDesk(st, st, review.Config{}), Banks: u.Banks, Matcher: m}
			file := func(content string, i int) int64 {
				t.Helper()
				rep, err := rv.File(ctx, "platform", review.Report{Source: review.User, Reporter: "u1", Category: review.SuspectedCSAM,
					ContentID: content, Matches: matches(t, m, md5Of(i))})
				if err != nil {
					t.Fatal(err)
				}
				return rep.CaseID
			}
			confirmed, dismissed := file("c1", 1), file("c2", 2)
			if _, err := rv.Decide(ctx, "rev", confirmed, 0, review.Decision{Reviewer: "rev", Verdict: review.Confirm, Classification: review.A1,
				Actions: []review.Action{review.Remove}}); err != nil {
				t.Fatal(err)
			}
			if _, err := rv.Decide(ctx, "rev", dismissed, 0, review.Decision{Reviewer: "rev", Verdict: review.Dismiss, Reason: "not CSAM"}); err != nil {
				t.Fatal(err)
			}
			own := file("c4", 7)
			if _, err := rv.Decide(ctx, "rev", own, 0, review.Decision{Reviewer: "rev", Verdict: review.Confirm, Classification: review.A1,
				Actions: []review.Action{review.Remove}}); err != nil {
				t.Fatal(err)
			}
			clock := testkit.NewClock(time.Now())
			var sent []exchange.Feedback
			fail := map[string]error{"r2": errors.New("503 from upstream")}
			fb := &usecase.Feedback{Store: st, Log: audit.NewLog(st), Now: clock.Now, Send: func(_ context.Context, f exchange.Feedback) error {
				if err := fail[f.RecordID]; err != nil {
					return err
				}
				sent = append(sent, f)
				return nil
			}}
			n, err := fb.SendDue(ctx, 10)
			if err != nil || n != 1 {
				t.Fatalf("first send: %d sent, %v; want 1", n, err)
			}
			if sent[0].RecordID != "r1" || !sent[0].Confirmed || sent[0].Kind != exchange.MD5 || sent[0].Value != md5Of(1) || sent[0].CaseID != confirmed {
				t.Errorf("sent %+v", sent[0])
			}
			if n, _ := fb.SendDue(ctx, 10); n != 0 {
				t.Errorf("a failed feedback was retried at once (%d sent)", n)
			}
			clock.Advance(2 * time.Minute)
			delete(fail, "r2")
			if n, err := fb.SendDue(ctx, 10); err != nil || n != 1 || sent[1].RecordID != "r2" || sent[1].Confirmed {
				t.Fatalf("retry: %d sent, %v, %+v", n, err, sent)
			}
			if n, _ := fb.SendDue(ctx, 10); n != 0 {
				t.Errorf("settled feedback sent again (%d)", n)
			}
			// A dismissal whose feedback upstream refuses for good.
			file3 := file("c3", 0)
			if _, err := rv.Decide(ctx, "rev", file3, 0, review.Decision{Reviewer: "rev", Verdict: review.Dismiss, Reason: "no"}); err != nil {
				t.Fatal(err)
			}
			fb.Send = func(context.Context, exchange.Feedback) error {
				return &exchange.PermanentError{Err: errors.New("no feedback key")}
			}
			if n, err := fb.SendDue(ctx, 10); err != nil || n != 0 {
				t.Fatalf("permanent failure: %d sent, %v", n, err)
			}
			clock.Advance(24 * time.Hour)
			if due, _ := st.DueFeedback(ctx, clock.Now(), 10); len(due) != 0 {
				t.Errorf("feedback refused for good is still due: %+v", due)
			}
			counts := map[string]int{}
			for e, err := range st.AuditEntries(ctx, 0) {
				if err != nil {
					t.Fatal(err)
				}
				counts[e.Action]++
			}
			if counts[usecase.FeedbackQueued] != 3 || counts[usecase.FeedbackSent] != 2 || counts[usecase.FeedbackFailed] != 1 {
				t.Errorf("audit counts %v", counts)
			}
		})
	}
}
