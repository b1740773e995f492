package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
	"github.com/safeguard-oss/safeguard/internal/console"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// figuresWorld is the API and console over a SQLite store holding four
// weeks of reports (users' and trusted flaggers'), most decided, on a
// fake clock; it returns the world and the period's query.
func figuresWorld(t *testing.T) (*world, string) {
	ctx := context.Background()
	start := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	w := &world{t: t, keys: new(authtest.Memory), audit: new(audittest.Memory), clock: testkit.NewClock(start),
		secrets: map[auth.Role]string{}, ids: map[auth.Role]string{}}
	w.addKeys()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.desk = review.NewDesk(st, st, review.Config{Now: w.clock.Now})
	for i := range 120 {
		w.clock.Set(start.Add(time.Duration(i) * 5 * time.Hour))
		r := review.Report{Source: review.User, Reporter: fmt.Sprint("user-", i%7), Category: review.Categories[1+i%6], ContentID: fmt.Sprint("post-", i)}
		if i%4 == 0 {
			r.Source, r.Reporter = review.Flagger, "hotline"
		}
		_, c, _, err := w.desk.File(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if i%5 == 4 {
			continue // left undecided: the backlog
		}
		w.clock.Advance(time.Duration(i%9) * 47 * time.Minute)
		dec := review.Decision{Reviewer: "r1", Verdict: review.Confirm, Classification: review.B2, Actions: []review.Action{review.Remove}}
		if i%3 == 0 {
			dec = review.Decision{Reviewer: "r1", Verdict: review.Dismiss, Reason: "no violation"}
		}
		if _, _, err := w.desk.Decide(ctx, c.ID, dec); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.Set(start.Add(30 * 24 * time.Hour))
	log := audit.NewLog(w.audit)
	a := api.New(api.Config{Keys: w.keys, Audit: w.audit, Log: log, Review: w.desk, Now: w.clock.Now,
		Banks: st, Rules: st, Transparency: st})
	c := console.New(console.Config{API: a, Keys: w.keys, Log: log, Now: w.clock.Now})
	mux := http.NewServeMux()
	mux.Handle("/console/", c)
	mux.Handle("/", a)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	return w, "from=2026-10-05&to=2026-11-02"
}

// TestTransparencyPage: the figures page for auditors and admins, with
// its plots as inline SVG and its CSV downloads; reviewers are refused.
func TestTransparencyPage(t *testing.T) {
	w, q := figuresWorld(t)
	for _, role := range []auth.Role{auth.Auditor, auth.Admin} {
		b := w.browser()
		if home := b.signIn(role); !strings.Contains(home.body, `href="/console/transparency"`) {
			t.Errorf("%s: no link to the figures", role)
		}
		p := b.get("/console/transparency?" + q)
		if p.status != 200 || !strings.Contains(p.body, `<tr data-figure="received"><td>received</td><td class="num">120</td>`) ||
			strings.Count(p.body, "<svg") != 3 || !strings.Contains(p.body, "decided reports") {
			t.Fatalf("%s: the page (%d):\n%s", role, p.status, p.body)
		}
		csv := b.get("/console/transparency/figures.csv?" + q)
		if csv.status != 200 || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") || !strings.Contains(csv.body, "\nall,received,120,reports,,") {
			t.Errorf("%s: CSV (%d) %.300s", role, csv.status, csv.body)
		}
		if dsa := b.get("/console/transparency/dsa.csv?" + q); dsa.status != 200 || !strings.Contains(dsa.body, "outside Safeguard") {
			t.Errorf("%s: DSA export (%d) %.300s", role, dsa.status, dsa.body)
		}
	}
	b := w.browser()
	if home := b.signIn(auth.Reviewer); strings.Contains(home.body, `href="/console/transparency"`) {
		t.Error("a reviewer is shown the figures' link")
	}
	if p := b.get("/console/transparency?" + q); p.status != http.StatusForbidden {
		t.Errorf("a reviewer's figures page: %d", p.status)
	}
}

// TestBrowserTransparency opens the figures page and its printable page in
// headless Chromium: the plots render under the console's CSP, the print
// media drops the console's chrome. Screenshots go to the directory it logs.
func TestBrowserTransparency(t *testing.T) {
	ch := newChrome(t)
	w, q := figuresWorld(t)
	ch.signIn(w, auth.Auditor)
	ch.run("the figures", chromedp.Navigate(w.srv.URL+"/console/transparency?"+q), chromedp.WaitVisible(`#plot-tta svg`, chromedp.ByQuery))
	// The plots are drawn: bars with a size, the CDF reaching 100 %.
	var bars int
	var wide bool
	ch.run("measure the plots",
		chromedp.Evaluate(`document.querySelectorAll("#plot-weekly svg rect title").length`, &bars),
		chromedp.Evaluate(`document.querySelector("#plot-tta svg").getBoundingClientRect().width > 300`, &wide))
	if bars < 8 || !wide {
		t.Errorf("weekly plot has %d bars; time-to-action plot wide: %v", bars, wide)
	}
	var received string
	ch.run("read the figure", chromedp.Text(`tr[data-figure="received"] td.num`, &received, chromedp.ByQuery))
	if received != "120" {
		t.Errorf("received reads %q", received)
	}
	ch.shot("console-transparency.png")

	ch.run("the printable page", chromedp.Navigate(w.srv.URL+"/console/transparency/print?"+q), chromedp.WaitVisible(`#plot-backlog svg`, chromedp.ByQuery),
		emulation.SetEmulatedMedia().WithMedia("print"))
	var hidden bool
	ch.run("print hides the chrome", chromedp.Evaluate(`getComputedStyle(document.querySelector("header.top")).display === "none" && !document.querySelector("form.period-form")`, &hidden))
	if !hidden {
		t.Error("the printable page shows the console's header or the form in print")
	}
	ch.shot("console-transparency-print.png")
	ch.check(func(string) bool { return false })
}
