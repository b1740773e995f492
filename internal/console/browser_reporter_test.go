package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/notice/noticetest"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// TestBrowserReporterAndNotices, in headless Chromium: a trusted flagger
// signs in and lands on its own reports: the figures, a decided report
// with its decision, one joined by another reporter (a count, no name),
// one past its target shown as escalated. A reviewer sees the notice
// register's per-host table. Screenshots go where the test logs.
func TestBrowserReporterAndNotices(t *testing.T) {
	ch := newChrome(t)
	ctx := context.Background()
	mem := new(noticetest.Memory)
	w := newWorld(t, func(c *api.Config) {
		c.Notices = &usecase.Notices{Tx: usecase.Separately(usecase.Stores{Notices: mem, Audit: c.Audit}), Log: c.Log, Store: mem,
			Chaser: &notice.Chaser{Now: c.Now}}
	})
	// The world's flagger reported post-3; a user reports it too, the
	// flagger reports post-4, which a reviewer confirms, then five hours
	// pass and the desk escalates post-3 (an hour's target).
	w.file(review.Report{Source: review.User, Reporter: "user-secret", Category: review.KnownCSAM, ContentID: "post-3"})
	w.file(review.Report{Source: review.Flagger, Reporter: w.ids[auth.Flagger], Category: review.Grooming, ContentID: "post-4"})
	w.clock.Advance(40 * time.Minute)
	if _, _, err := w.desk.Decide(ctx, w.caseOf("post-4"), review.Decision{Reviewer: w.ids[auth.Reviewer], Verdict: review.Confirm, Actions: []review.Action{review.Remove}}); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(5 * time.Hour)
	if _, err := w.desk.Escalate(ctx); err != nil {
		t.Fatal(err)
	}
	for i, n := range []notice.Notice{
		{URL: "https://img.example/a.jpg", Contact: "abuse@img.example", Category: review.SuspectedCSAM, LegalBasis: "Art. 16 DSA"},
		{URL: "https://files.example/b.jpg", Contact: "abuse@files.example", Category: review.SuspectedCSAM, LegalBasis: "Art. 16 DSA"},
	} {
		n.Validate()
		n.State, n.CreatedAt, n.NextAt = notice.Open, w.clock.Now(), w.clock.Now().Add(time.Hour)
		n, err := mem.CreateNotice(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		n.Sends, n.FirstSentAt, n.LastSentAt = 3, w.clock.Now().Add(-72*time.Hour), w.clock.Now().Add(-time.Hour)
		if i == 1 {
			n.State, n.RemovedAt = notice.Removed, w.clock.Now().Add(-30*time.Hour)
		}
		if _, err := mem.SaveNotice(ctx, n, nil); err != nil {
			t.Fatal(err)
		}
	}

	ch.signIn(w, auth.Flagger)
	ch.run("the flagger's page", chromedp.Navigate(w.srv.URL+"/console/"), chromedp.WaitVisible(`#mine`, chromedp.ByQuery))
	if got := ch.text("#tally"); got != "2 sent, 1 actioned, 0 dismissed, 1 pending — oldest 5 hours (1 past target, 1 escalated)" {
		t.Errorf("the figures read %q", got)
	}
	rows := ch.text("#mine tbody")
	for _, want := range []string{"post-3", "past target, escalated", "1 other (1 report)", "post-4", "confirm · remove"} {
		if !strings.Contains(rows, want) {
			t.Errorf("the reports lack %q:\n%s", want, rows)
		}
	}
	for _, leak := range []string{"user-secret", w.ids[auth.Reviewer], "user-9"} {
		if strings.Contains(rows, leak) {
			t.Errorf("the flagger's page shows %q", leak)
		}
	}
	ch.shot("console-flagger-reports.png")

	ch.signIn(w, auth.Reviewer)
	ch.run("the notices page", chromedp.Navigate(w.srv.URL+"/console/notices"), chromedp.WaitVisible(`#hosts`, chromedp.ByQuery))
	hosts := ch.text("#hosts tbody")
	if !strings.Contains(hosts, "files.example") || !strings.Contains(hosts, "img.example") || !strings.Contains(hosts, "42h") {
		t.Errorf("the per-host table reads:\n%s", hosts)
	}
	ch.shot("console-notices.png")
	ch.check(nil)
}
