package console_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/schema"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// tipline is a CyberTipline in memory that refuses what the schema does.
type tipline struct {
	mu    sync.Mutex
	calls []string
}

func (f *tipline) call(c string) { f.mu.Lock(); f.calls = append(f.calls, c); f.mu.Unlock() }

func (f *tipline) Submit(_ context.Context, report []byte) (string, error) {
	if err := schema.CyberTip.Validate(report); err != nil {
		return "", err
	}
	f.call("submit")
	return "901", nil
}
func (f *tipline) Upload(_ context.Context, _, name string, _ []byte) (string, error) {
	f.call("upload " + name)
	return "F-1", nil
}
func (f *tipline) FileInfo(_ context.Context, d []byte) error {
	f.call("fileinfo")
	return schema.CyberTip.Validate(d)
}
func (f *tipline) Finish(_ context.Context, id string) error  { f.call("finish " + id); return nil }
func (f *tipline) Retract(_ context.Context, id string) error { f.call("retract " + id); return nil }

// confirmTop has a reviewer confirm the world's top case (a known-CSAM
// match a rule filed), which opens its draft.
func (w *world) confirmTop() {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.api.Review().Decide(ctx, w.ids[auth.Reviewer], w.top, 0, review.Decision{
		Reviewer: w.ids[auth.Reviewer], Verdict: review.Confirm, Classification: review.A1, Actions: []review.Action{review.Remove}, At: w.clock.Now(),
	}); err != nil {
		w.t.Fatal(err)
	}
}

var reportLink = regexp.MustCompile(`href="/console/le/(\d+)"`)

// The liaison's pages over HTTP: the queue, the editor naming a problem at
// its field, ready, submission with the recipient's receipt, the package.
func TestLiaisonPages(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	if home := b.signIn(auth.LELiaison); home.url != "/console/le" || !strings.Contains(home.body, "No report is waiting") {
		t.Fatalf("before any decision the liaison lands on %s:\n%s", home.url, home.body)
	}
	w.confirmTop()
	home := b.get("/console/")
	m := reportLink.FindStringSubmatch(home.body)
	if home.status != 200 || home.url != "/console/le" || m == nil || !strings.Contains(home.body, fmt.Sprintf("case %d", w.top)) {
		t.Fatalf("the liaison lands on %s (%d):\n%s", home.url, home.status, home.body)
	}
	id := m[1]
	page := b.get("/console/le/" + id)
	for _, want := range []string{`<span class="tag" id="state">draft</span>`, string(lereport.ChildPornography), w.item, "a confirmed match of known CSAM"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	token := csrf(t, page.body)
	path := "/console/le/" + id

	// Clearing the incident type: the problem is shown at its field.
	saved := b.post(path+"/edit", url.Values{"csrf": {token}, "incidentType": {""}, "incidentDateTime": {"2026-11-25T09:00:00Z"}, "espIdentifier": {"acct-post-1"}})
	if saved.status != 200 || !strings.Contains(saved.body, `id="problem-incidentType"`) {
		t.Fatalf("after clearing the incident type (%d):\n%s", saved.status, saved.body)
	}
	refused := b.post(path+"/ready", url.Values{"csrf": {token}})
	if refused.status != 422 || !strings.Contains(refused.body, "incidentType") {
		t.Errorf("ready with no incident type: %d", refused.status)
	}
	b.post(path+"/edit", url.Values{"csrf": {token}, "incidentType": {string(lereport.ChildPornography)}, "incidentDateTime": {"2026-11-25T09:00:00Z"}, "espIdentifier": {"acct-post-1"}})
	if a := b.post(path+"/ready", url.Values{"csrf": {token}}); !strings.Contains(a.body, `id="state">ready<`) {
		t.Fatalf("after ready (%d):\n%s", a.status, a.body)
	}
	// The edit kept the file (a partial edit).
	if a := b.get(path); !strings.Contains(a.body, w.item) {
		t.Error("the file is gone after an edit")
	}
	// Without the token, nothing moves.
	if a := b.post(path+"/submit", url.Values{}); a.status != 403 {
		t.Errorf("submit without the form's token: %d", a.status)
	}
	done := b.post(path+"/submit", url.Values{"csrf": {token}})
	if !strings.Contains(done.body, `id="state">acknowledged<`) || !strings.Contains(done.body, `<strong id="receipt">901</strong>`) {
		t.Fatalf("after submission (%d):\n%s", done.status, done.body)
	}

	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	pkg := b.post(path+"/package", url.Values{"csrf": {token}, "recipient_key": {base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes())}})
	if pkg.status != 200 || pkg.header.Get("Content-Type") != "application/zip" || pkg.header.Get("X-Manifest-SHA256") == "" {
		t.Fatalf("package: %d %v", pkg.status, pkg.header)
	}
	if _, err := zip.NewReader(bytes.NewReader([]byte(pkg.body)), int64(len(pkg.body))); err != nil {
		t.Errorf("package is not a ZIP: %v", err)
	}
	if a := b.post(path+"/package", url.Values{"csrf": {token}, "recipient_key": {"nope"}}); a.status != 400 || !strings.Contains(a.body, "recipient_key") {
		t.Errorf("package with a bad key: %d", a.status)
	}
	// A reviewer's key sees no liaison page.
	r := w.browser()
	r.signIn(auth.Reviewer)
	if a := r.get(path); a.status != 403 {
		t.Errorf("a reviewer on the report page: %d", a.status)
	}
}

// TestLiaisonBrowser works a report in real headless Chromium: sign in as
// the liaison, find the draft in the queue, clear a field and see its
// problem at the field, fix it, make it ready and submit it, and see the
// recipient's receipt; no page reports a script error or a CSP refusal.
func TestLiaisonBrowser(t *testing.T) {
	h := newChrome(t)
	w := newWorld(t)
	w.confirmTop()
	h.run("sign in",
		chromedp.Navigate(w.srv.URL+"/console/"),
		chromedp.WaitVisible(`#key`, chromedp.ByQuery),
		chromedp.SendKeys(`#key`, w.secrets[auth.LELiaison], chromedp.ByQuery),
		chromedp.Submit(`#key`, chromedp.ByQuery),
		chromedp.WaitVisible(`#lequeue`, chromedp.ByQuery))
	h.run("open the draft",
		chromedp.Click(`#lequeue a`, chromedp.ByQuery),
		chromedp.WaitVisible(`#leform`, chromedp.ByQuery))
	h.run("clear the incident type and save",
		chromedp.SetValue(`#f-incidentType`, "", chromedp.ByQuery),
		chromedp.Click(`#save`, chromedp.ByQuery),
		chromedp.WaitVisible(`#problem-incidentType`, chromedp.ByQuery))
	var problem string
	h.run("the problem", chromedp.Text(`#problem-incidentType`, &problem, chromedp.ByQuery))
	if !strings.Contains(problem, "not one of") {
		t.Errorf("the incident type's problem reads %q", problem)
	}
	h.run("fix it, save, mark ready",
		chromedp.SetValue(`#f-incidentType`, string(lereport.ChildPornography), chromedp.ByQuery),
		chromedp.Click(`#save`, chromedp.ByQuery),
		// The page saved with the problem has a notice too: wait for the
		// next, or #ready is clicked there and the save never sent.
		chromedp.WaitNotPresent(`#problem-incidentType`, chromedp.ByQuery),
		chromedp.WaitVisible(`.notice`, chromedp.ByQuery),
		chromedp.Click(`#ready`, chromedp.ByQuery),
		chromedp.WaitVisible(`#submit`, chromedp.ByQuery))
	var receipt string
	h.run("submit",
		chromedp.Click(`#submit`, chromedp.ByQuery),
		chromedp.WaitVisible(`#receipt`, chromedp.ByQuery),
		chromedp.Text(`#receipt`, &receipt, chromedp.ByQuery))
	if receipt != "901" {
		t.Errorf("receipt %q", receipt)
	}
	h.check(func(string) bool { return false })
}
