package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/server"
)

// TestServed checks that safeguard serve mounts the console beside the API.
func TestServed(t *testing.T) {
	ctx := context.Background()
	cfg := server.Config{Listen: "127.0.0.1:0", Data: t.TempDir()}
	st, err := server.OpenStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := auth.Create(ctx, st, auth.Reviewer, "reviewer", "test")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	defer func() { stop(); <-done }()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	w := &world{t: t, srv: ts, secrets: map[auth.Role]string{auth.Reviewer: secret}}
	b := w.browser()
	if a := b.get("/console"); a.url != "/console/signin" {
		t.Fatalf("/console landed on %s (%d)", a.url, a.status)
	}
	a := b.signIn(auth.Reviewer)
	if a.status != http.StatusOK || a.url != "/console/" || !strings.Contains(a.body, "/console/queues/suspected_csam") {
		t.Fatalf("signed in: %d at %s\n%s", a.status, a.url, a.body)
	}
	// The API is still served beside it.
	if a := b.get("/healthz"); a.status != http.StatusOK {
		t.Fatalf("/healthz: %d", a.status)
	}
}

// TestAppeal: an appealed confirmation waits in the appeals queue, and a
// second reviewer upholds it from the console; the form's actions are not
// sent on appeal.
func TestAppeal(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	b := w.browser()
	b.signIn(auth.Reviewer)
	page := b.get(fmt.Sprintf("/console/cases/%d", w.user))
	if a := b.post(fmt.Sprintf("/console/cases/%d/decision", w.user), url.Values{"csrf": {csrf(t, page.body)},
		"verdict": {"confirm"}, "takedown": {"restrict"}, "classification": {"B2"}}); a.status != http.StatusOK {
		t.Fatalf("confirming: %d\n%s", a.status, a.body)
	}
	req, _ := http.NewRequest("POST", w.srv.URL+fmt.Sprintf("/v1/cases/%d/appeal", w.user), strings.NewReader(`{"appellant":"acct-2","reason":"that is not me"}`))
	req.Header.Set("Authorization", "Bearer "+w.secrets[auth.Integrator])
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("appeal: %v %v", res, err)
	}

	secret, _, err := auth.Create(ctx, w.keys, auth.Reviewer, "second reviewer", "test")
	if err != nil {
		t.Fatal(err)
	}
	w.secrets["second"] = secret
	b2 := w.browser()
	b2.signIn("second")
	q := b2.get("/console/queues/appeals")
	if !strings.Contains(q.body, fmt.Sprintf(`data-case="%d"`, w.user)) {
		t.Fatalf("the appeals queue lacks case %d:\n%s", w.user, q.body)
	}
	page = b2.get(fmt.Sprintf("/console/cases/%d", w.user))
	if !strings.Contains(page.body, "Uphold (c)") || !strings.Contains(page.body, "that is not me") {
		t.Fatalf("appealed case page:\n%s", page.body)
	}
	a := b2.post(fmt.Sprintf("/console/cases/%d/decision", w.user), url.Values{"csrf": {csrf(t, page.body)}, "appeal": {"1"},
		"verdict": {"confirm"}, "takedown": {"remove"}, "reason": {"it is the account's"}})
	if a.status != http.StatusOK {
		t.Fatalf("upholding: %d\n%s", a.status, a.body)
	}
	c, _, _, _ := w.desk.Case(ctx, w.user)
	last := c.Decisions[len(c.Decisions)-1]
	if c.State != review.Decided || !last.OnAppeal || last.Verdict != review.Confirm || len(last.Actions) != 0 {
		t.Fatalf("after upholding: %+v", c)
	}

	// The stats page counts the decided report.
	s := b2.get("/console/stats")
	if s.status != http.StatusOK || !strings.Contains(s.body, "<td>known_csam</td><td>user</td>") {
		t.Fatalf("stats page:\n%s", s.body)
	}
}

// FuzzDecisionForm posts arbitrary decision forms, each on a new case a
// trusted flagger reported: never a 5xx, and the case changes exactly when
// the decision is accepted.
func FuzzDecisionForm(f *testing.F) {
	f.Add("confirm", "remove", "A1", "", "1", true, false)
	f.Add("dismiss", "", "", "not abuse", "1", false, false)
	f.Add("confirm", "restrict", "B2", "x", "0", false, true)
	f.Add("confirm", "remove", "Z9", "", "-3", true, true)
	f.Add("dismiss", "remove", "A1", "", "99999999999999999999", false, false)
	f.Add("", "", "", "\x00", "", false, false)
	w := newWorld(f)
	b := w.browser()
	b.signIn(auth.Reviewer)
	n := 0
	f.Fuzz(func(t *testing.T, verdict, takedown, class, reason, version string, bank, le bool) {
		n++
		content := fmt.Sprintf("fuzz-%d", n)
		rep, _, _, err := w.desk.File(context.Background(), review.Report{Source: review.Flagger, Reporter: w.ids[auth.Flagger],
			Category: review.Grooming, ContentID: content})
		if err != nil {
			t.Fatal(err)
		}
		id := rep.CaseID
		b := &browser{w: w, t: t, c: b.c}
		page := b.get(fmt.Sprintf("/console/cases/%d", id))
		form := url.Values{"csrf": {csrf(t, page.body)}, "verdict": {verdict}, "takedown": {takedown},
			"classification": {class}, "reason": {reason}, "version": {version}}
		if bank {
			form.Set("bank", "1")
		}
		if le {
			form.Set("le_report", "1")
		}
		a := b.post(fmt.Sprintf("/console/cases/%d/decision", id), form)
		if a.status >= 500 {
			t.Fatalf("%v: %d\n%s", form, a.status, a.body)
		}
		c, _, _, err := w.desk.Case(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		accepted := a.status == http.StatusOK && a.url == "/console/queues/grooming"
		if changed := c.Version != 1; changed != accepted {
			t.Fatalf("%v: answered %d at %s, and the case is at version %d (%s)", form, a.status, a.url, c.Version, c.State)
		}
		if !accepted && !strings.Contains(a.body, `class="error"`) {
			t.Fatalf("%v: refused (%d) without saying why", form, a.status)
		}
	})
}

// BenchmarkPages measures the console's own cost over in-memory stores: a
// queue of 1,000 cases (the page lists 200) and a case page with its
// preview's lookup, each through the API in process.
func BenchmarkPages(b *testing.B) {
	w := newWorld(b)
	for i := range 1000 {
		w.file(review.Report{Source: review.User, Reporter: fmt.Sprintf("user-%d", i), Category: review.KnownCSAM, ContentID: fmt.Sprintf("bench-%d", i)})
	}
	br := w.browser()
	br.signIn(auth.Reviewer)
	for _, p := range []struct{ name, path string }{
		{"queue", "/console/queues/known_csam"},
		{"case", fmt.Sprintf("/console/cases/%d", w.top)},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if a := br.get(p.path); a.status != http.StatusOK {
					b.Fatalf("%s: %d", p.path, a.status)
				}
			}
		})
	}
}

// TestConcurrent: one session used from many tabs at once; every look at
// content is recorded, one entry per fetch.
func TestConcurrent(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	b.signIn(auth.Reviewer)
	b.get(fmt.Sprintf("/console/cases/%d", w.top))
	const tabs, each = 8, 5
	errs := make(chan error, tabs*each)
	var wg sync.WaitGroup
	for range tabs {
		wg.Go(func() {
			for range each {
				for _, p := range []string{fmt.Sprintf("/console/cases/%d", w.top), fmt.Sprintf("/console/cases/%d/content/%s", w.top, w.item), "/console/queues/known_csam"} {
					res, err := b.c.Get(w.srv.URL + p)
					if err == nil {
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != http.StatusOK {
							err = fmt.Errorf("%s: %d", p, res.StatusCode)
						}
					}
					if err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(w.entries(audit.EvidenceRead)); n != tabs*each {
		t.Errorf("%d content views recorded, want %d", n, tabs*each)
	}
}

// Issue 12 (low): the console's static files are served, their directory
// is not listed.
func TestStaticNoListing(t *testing.T) {
	b := newWorld(t).browser()
	if a := b.get("/console/static/console.css"); a.status != http.StatusOK {
		t.Errorf("console.css: %d", a.status)
	}
	if a := b.get("/console/static/"); a.status != http.StatusNotFound || strings.Contains(a.body, "console.js") {
		t.Errorf("/console/static/: %d %q, want 404 without a listing", a.status, a.body)
	}
}
