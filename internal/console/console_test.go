package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/console"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/review"
)

func TestSignIn(t *testing.T) {
	w := newWorld(t)
	b := w.browser()

	// Not signed in: every page leads to the sign-in form.
	if a := b.get("/console/queues/known_csam"); a.url != "/console/signin" || !strings.Contains(a.body, `name="key"`) {
		t.Fatalf("unsigned GET landed on %s (%d)", a.url, a.status)
	}
	if a := b.get("/console"); a.url != "/console/signin" {
		t.Fatalf("/console landed on %s", a.url)
	}

	for _, tc := range []struct {
		name, key string
		status    int
		says      string
	}{
		{"garbage", "hello", http.StatusUnauthorized, "not an API key"},
		{"unknown", "sg_aaaaaaaaaaaaaaaa_" + strings.Repeat("a", 52), http.StatusUnauthorized, ""},
		{"integrator", w.secrets[auth.Integrator], http.StatusForbidden, "role integrator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := b.get("/console/signin")
			a := b.post("/console/signin", url.Values{"csrf": {csrf(t, form.body)}, "key": {tc.key}})
			if a.status != tc.status || !strings.Contains(a.body, tc.says) {
				t.Fatalf("sign-in with %s key: %d, want %d saying %q:\n%s", tc.name, a.status, tc.status, tc.says, a.body)
			}
			if strings.Contains(a.body, tc.key) {
				t.Error("the page echoes the key")
			}
		})
	}
	if n := len(w.entries(console.ActionSignIn)); n != 0 {
		t.Fatalf("%d sign-ins recorded for refused keys", n)
	}

	a := b.signIn(auth.Reviewer)
	if a.status != http.StatusOK || a.url != "/console/" || !strings.Contains(a.body, "known_csam") {
		t.Fatalf("reviewer's sign-in: %d at %s:\n%s", a.status, a.url, a.body)
	}
	if a.header.Get("Content-Security-Policy") == "" || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", a.header)
	}
	e := w.entries(console.ActionSignIn)
	if len(e) != 1 || e[0].Actor != w.ids[auth.Reviewer] {
		t.Fatalf("sign-in entries: %+v", e)
	}

	// An auditor may sign in to read.
	if a := w.browser().signIn(auth.Auditor); a.status != http.StatusOK || a.url != "/console/" {
		t.Fatalf("auditor's sign-in: %d at %s", a.status, a.url)
	}
}

// TestCookie checks the session cookie's attributes, over TLS and not.
func TestCookie(t *testing.T) {
	w := newWorld(t)
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			c := w.console(t)
			form := httptest.NewRecorder()
			c.ServeHTTP(form, httptest.NewRequest("GET", scheme+"://example.org/console/signin", nil))
			pre := form.Result().Cookies()
			body := url.Values{"csrf": {csrf(t, form.Body.String())}, "key": {w.secrets[auth.Reviewer]}}.Encode()
			r := httptest.NewRequest("POST", scheme+"://example.org/console/signin", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, ck := range pre {
				r.AddCookie(ck)
			}
			rec := httptest.NewRecorder()
			c.ServeHTTP(rec, r)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
			}
			var got *http.Cookie
			for _, ck := range rec.Result().Cookies() {
				if ck.Name == "sg_console" {
					got = ck
				}
			}
			if got == nil || len(got.Value) != 64 || strings.Contains(got.Value, w.secrets[auth.Reviewer]) {
				t.Fatalf("session cookie %+v", got)
			}
			if !got.HttpOnly || got.SameSite != http.SameSiteStrictMode || got.Path != "/console/" || got.Secure != (scheme == "https") {
				t.Errorf("cookie attributes: %+v", got)
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	b.signIn(auth.Reviewer)
	page := b.get(fmt.Sprintf("/console/cases/%d", w.user))
	token := csrf(t, page.body)
	decide := func(form url.Values) answer {
		form.Set("verdict", "confirm")
		form.Set("takedown", "remove")
		form.Set("classification", "A1")
		return b.post(fmt.Sprintf("/console/cases/%d/decision", w.user), form)
	}

	if a := decide(url.Values{}); a.status != http.StatusForbidden {
		t.Errorf("decision without a token: %d", a.status)
	}
	if a := decide(url.Values{"csrf": {strings.Repeat("0", 64)}}); a.status != http.StatusForbidden {
		t.Errorf("decision with a wrong token: %d", a.status)
	}
	b.origin = "https://evil.example"
	if a := decide(url.Values{"csrf": {token}}); a.status != http.StatusForbidden {
		t.Errorf("decision from another origin: %d", a.status)
	}
	// Another person's token is no good either.
	other := w.browser()
	other.signIn(auth.Reviewer)
	if a := other.post(fmt.Sprintf("/console/cases/%d/decision", w.user), url.Values{"csrf": {token}, "verdict": {"dismiss"}, "reason": {"x"}}); a.status != http.StatusForbidden {
		t.Errorf("decision with another session's token: %d", a.status)
	}
	b.origin = ""
	if a := b.post(fmt.Sprintf("/console/cases/%d/decision", w.user), url.Values{"csrf": {token}, "verdict": {"dismiss"},
		"reason": {strings.Repeat("x", 100<<10)}}); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 100 KiB form: %d", a.status)
	}
	if n := len(w.entries("case.decide")); n != 0 {
		t.Fatalf("%d decisions recorded from forged forms", n)
	}
	if c, _, _, _ := w.desk.Case(context.Background(), w.user); c.State != "open" {
		t.Fatalf("case %d is %s after forged forms", w.user, c.State)
	}

	// Sign-in itself needs the form's token and its cookie.
	fresh := w.browser()
	if a := fresh.post("/console/signin", url.Values{"key": {w.secrets[auth.Reviewer]}}); a.status != http.StatusForbidden {
		t.Errorf("sign-in without the form's token: %d", a.status)
	}

	b.origin = ""
	if a := decide(url.Values{"csrf": {token}}); a.status != http.StatusOK || a.url != "/console/queues/known_csam" {
		t.Fatalf("the genuine form: %d at %s:\n%s", a.status, a.url, a.body)
	}
}

func TestRoles(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	b.signIn(auth.Auditor)
	page := b.get(fmt.Sprintf("/console/cases/%d", w.top))
	if page.status != http.StatusOK {
		t.Fatalf("auditor's case view: %d", page.status)
	}
	if strings.Contains(page.body, `id="decision"`) || strings.Contains(page.body, "/content/") {
		t.Error("an auditor's case page offers a decision or content")
	}
	if !strings.Contains(page.body, "content is for reviewers only") {
		t.Error("the auditor is not told why there is no preview")
	}
	token := csrf(t, page.body)
	if a := b.get(fmt.Sprintf("/console/cases/%d/content/%s", w.top, w.item)); a.status != http.StatusForbidden {
		t.Errorf("auditor fetching content: %d", a.status)
	}
	if a := b.post(fmt.Sprintf("/console/cases/%d/decision", w.top), url.Values{"csrf": {token}, "verdict": {"dismiss"}, "reason": {"no"}}); a.status != http.StatusForbidden {
		t.Errorf("auditor deciding: %d", a.status)
	}
	if n := len(w.entries(audit.EvidenceRead)); n != 0 {
		t.Errorf("%d content views recorded for an auditor", n)
	}
	if n := len(w.entries("case.decide")); n != 0 {
		t.Errorf("%d decisions recorded for an auditor", n)
	}

	// A reviewer cannot fetch content of a case they have not opened,
	// nor an item that case does not hold.
	r := w.browser()
	r.signIn(auth.Reviewer)
	if a := r.get(fmt.Sprintf("/console/cases/%d/content/%s", w.top, w.item)); a.status != http.StatusNotFound {
		t.Errorf("content of an unopened case: %d", a.status)
	}
	r.get(fmt.Sprintf("/console/cases/%d", w.user))
	if a := r.get(fmt.Sprintf("/console/cases/%d/content/%s", w.user, w.item)); a.status != http.StatusNotFound {
		t.Errorf("another case's content: %d", a.status)
	}
}

// TestReviewRecorded walks a reviewer through a case: the view, the look
// at its content and the decision are each in the audit log, by their key.
func TestReviewRecorded(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	b.signIn(auth.Reviewer)
	reviewer := w.ids[auth.Reviewer]

	q := b.get("/console/queues/known_csam")
	order := []int64{w.top, w.flagged, w.user}
	last := -1
	for _, id := range order {
		i := strings.Index(q.body, fmt.Sprintf(`data-case="%d"`, id))
		if i <= last {
			t.Fatalf("queue order: case %d at %d, after %d; want %v:\n%s", id, i, last, order, q.body)
		}
		last = i
	}

	page := b.get(fmt.Sprintf("/console/cases/%d", w.top))
	if !strings.Contains(page.body, `class="preview"`) || !strings.Contains(page.body, "Why it is here") {
		t.Fatalf("case page:\n%s", page.body)
	}
	views := w.entries("case.view")
	if len(views) != 1 || views[0].Actor != reviewer || views[0].Subject != fmt.Sprintf("case:%d", w.top) {
		t.Fatalf("case.view entries: %+v", views)
	}
	if n := len(w.entries(audit.EvidenceRead)); n != 0 {
		t.Fatalf("%d content views before the content was fetched", n)
	}

	img := b.get(fmt.Sprintf("/console/cases/%d/content/%s", w.top, w.item))
	if img.status != http.StatusOK || img.body != string(w.image) || img.header.Get("Content-Type") != "image/png" {
		t.Fatalf("content: %d %s, %d bytes", img.status, img.header.Get("Content-Type"), len(img.body))
	}
	token := csrf(t, page.body)
	req, _ := http.NewRequest("POST", w.srv.URL+fmt.Sprintf("/console/cases/%d/content/%s/reveal", w.top, w.item), nil)
	req.Header.Set("X-CSRF-Token", token)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("reveal: %d", res.StatusCode)
	}
	reads := w.entries(audit.EvidenceRead)
	if len(reads) != 2 {
		t.Fatalf("evidence.read entries: %+v", reads)
	}
	for _, e := range reads {
		var d struct {
			Purpose string `json:"purpose"`
			Case    int64  `json:"case"`
		}
		json.Unmarshal(e.Detail, &d)
		if e.Actor != reviewer || e.Subject != w.item || d.Purpose != "view" || d.Case != w.top {
			t.Errorf("evidence.read entry %+v", e)
		}
	}
	// The law-enforcement report reads exactly these to say the file
	// was viewed.
	seen, err := lereport.AuditViews{Log: w.audit}.Views(context.Background(), w.item)
	if err != nil || len(seen) != 2 || seen[0].Actor != reviewer {
		t.Fatalf("lereport sees views %+v, %v", seen, err)
	}

	// A refused decision says why and changes nothing.
	a := b.post(fmt.Sprintf("/console/cases/%d/decision", w.top), url.Values{"csrf": {token}, "verdict": {"confirm"}, "takedown": {"remove"}, "version": {"1"}})
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, "classification") {
		t.Fatalf("confirming known CSAM without a classification: %d\n%s", a.status, a.body)
	}
	a = b.post(fmt.Sprintf("/console/cases/%d/decision", w.top), url.Values{"csrf": {token}, "verdict": {"confirm"}, "takedown": {"remove"},
		"classification": {"A2"}, "bank": {"1"}, "version": {"1"}})
	if a.status != http.StatusOK || a.url != "/console/queues/known_csam" || !strings.Contains(a.body, fmt.Sprintf("Case %d confirmed", w.top)) {
		t.Fatalf("decision: %d at %s\n%s", a.status, a.url, a.body)
	}
	if strings.Contains(a.body, fmt.Sprintf(`data-case="%d"`, w.top)) {
		t.Error("the decided case is still in the queue")
	}
	dec := w.entries("case.decide")
	if len(dec) != 1 || dec[0].Actor != reviewer || dec[0].Subject != fmt.Sprintf("case:%d", w.top) {
		t.Fatalf("case.decide entries: %+v", dec)
	}
	c, _, _, _ := w.desk.Case(context.Background(), w.top)
	if c.State != "decided" || len(c.Decisions) != 1 || c.Decisions[0].Classification != "A2" || len(c.Decisions[0].Actions) != 2 {
		t.Fatalf("case after the decision: %+v", c)
	}
}

// TestStaleVersion: a report that joins after the page was read stops the
// decision, and the page shows the case as it is now.
func TestStaleVersion(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	b.signIn(auth.Reviewer)
	page := b.get(fmt.Sprintf("/console/cases/%d", w.user))
	w.fileMore("post-2")
	a := b.post(fmt.Sprintf("/console/cases/%d/decision", w.user), url.Values{"csrf": {csrf(t, page.body)}, "verdict": {"dismiss"},
		"reason": {"not abuse"}, "version": {"1"}})
	if a.status != http.StatusConflict || !strings.Contains(a.body, "changed since") || !strings.Contains(a.body, `name="version" value="2"`) {
		t.Fatalf("stale decision: %d\n%s", a.status, a.body)
	}
}

func (w *world) fileMore(contentID string) {
	w.t.Helper()
	w.file(reviewReport(contentID))
}

func TestSessionEnds(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	b.signIn(auth.Reviewer)
	if a := b.get("/console/"); a.url != "/console/" {
		t.Fatalf("signed in, landed on %s", a.url)
	}
	// Revoking the key ends the session at once.
	if err := w.keys.RevokeKey(context.Background(), w.ids[auth.Reviewer], time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if a := b.get("/console/"); a.url != "/console/signin" {
		t.Fatalf("after revocation, landed on %s", a.url)
	}

	// An idle session ends.
	b = w.browser()
	b.signIn(auth.Auditor)
	w.clock.Advance(console.DefaultIdle + time.Second)
	if a := b.get("/console/"); a.url != "/console/signin" {
		t.Fatalf("after an idle hour, landed on %s", a.url)
	}

	// Signing out ends it too.
	b = w.browser()
	a := b.signIn(auth.Auditor)
	if a = b.post("/console/signout", url.Values{"csrf": {csrf(t, a.body)}}); a.url != "/console/signin" {
		t.Fatalf("sign-out landed on %s", a.url)
	}
	if a := b.get("/console/"); a.url != "/console/signin" {
		t.Fatalf("after sign-out, landed on %s", a.url)
	}
}

func TestBreakReminder(t *testing.T) {
	w := newWorld(t, func(c *console.Config) { c.BreakAfter = 30 * time.Minute })
	b := w.browser()
	a := b.signIn(auth.Reviewer)
	if !strings.Contains(a.body, `id="break" class="break" role="status" hidden`) {
		t.Fatal("the break reminder shows at sign-in")
	}
	w.clock.Advance(31 * time.Minute)
	a = b.get("/console/queues/known_csam")
	if strings.Contains(a.body, `role="status" hidden`) || !strings.Contains(a.body, "31 minutes") {
		t.Fatalf("no break reminder after 31 minutes:\n%s", a.body)
	}
	a = b.post("/console/break", url.Values{"csrf": {csrf(t, a.body)}, "back": {"/console/queues/known_csam"}})
	if a.url != "/console/queues/known_csam" || !strings.Contains(a.body, `id="break" class="break" role="status" hidden`) {
		t.Fatalf("after putting the reminder off: at %s\n%s", a.url, a.body)
	}
}

// console returns a console over w's stores, to call directly.
func (w *world) console(t *testing.T) http.Handler {
	return w.srv.Config.Handler
}

// reviewReport is another user's report about contentID.
func reviewReport(contentID string) review.Report {
	return review.Report{Source: review.User, Reporter: "user-10", Category: review.KnownCSAM, ContentID: contentID}
}
