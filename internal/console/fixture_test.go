package console_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/console"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/scan/scantest"
	"github.com/safeguard-oss/safeguard/internal/testkit"
	"github.com/safeguard-oss/safeguard/internal/webhook/webhooktest"
)

// world is the API and the console over in-memory stores, served over
// HTTP, with one key per role and three cases waiting in the known-CSAM
// queue: a rule's report whose scan kept the image (the highest priority,
// with a preview), a user's report and a trusted flagger's.
type world struct {
	t       testing.TB
	srv     *httptest.Server
	keys    *authtest.Memory
	audit   *audittest.Memory
	desk    *review.Desk
	clock   *testkit.Clock
	secrets map[auth.Role]string
	ids     map[auth.Role]string
	// top is the case with the preview, item its evidence item.
	top, user, flagged int64
	item               string
	image              []byte

	ev    *evidence.Store
	scans *scantest.Memory
	api   *api.API
	hooks *webhooktest.Memory
	scanN int
}

// ruleCase files what a scan of content (kept as evidence) does when a
// rule asks for review: the kept item, the scan record naming it, and the
// rule's report, through the API's Enqueue. It returns the case and item.
func (w *world) ruleCase(contentID string, content []byte, contentType string) (int64, string) {
	w.t.Helper()
	it, err := w.ev.Put(content, evidence.Meta{ContentType: contentType, ContentID: contentID, Source: "scan"})
	if err != nil {
		w.t.Fatal(err)
	}
	return w.ruleCaseOf(contentID, it.ID), it.ID
}

// ruleCaseOf is ruleCase for content kept as item, which may be missing.
func (w *world) ruleCaseOf(contentID, item string) int64 {
	w.t.Helper()
	ctx := context.Background()
	w.scanN++
	m := match.Match{Bank: "hotline", EntryID: 1, Signal: bank.PDQ, Distance: 6}
	rec := scan.Record{ID: fmt.Sprintf("scn_%032d", w.scanN), Time: w.clock.Now(), Kind: "scan", ContentID: contentID,
		AccountID: "acct-" + contentID, Matches: []match.Match{m}, Evidence: item, Quality: -1}
	if err := w.scans.RecordScan(ctx, rec); err != nil {
		w.t.Fatal(err)
	}
	if err := w.api.Review().Enqueue(ctx, rec, rules.Decided{Rule: rules.RuleRef{ID: 3, Version: 1, Name: "hotline near"}, Match: m}); err != nil {
		w.t.Fatal(err)
	}
	return w.caseOf(contentID)
}

// newWorld's options: func(*console.Config) for the console's, and
// func(*api.Config) for the API's.
func newWorld(t testing.TB, opts ...any) *world {
	t.Helper()
	w := &world{t: t, keys: new(authtest.Memory), audit: new(audittest.Memory),
		clock:   testkit.NewClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)),
		secrets: map[auth.Role]string{}, ids: map[auth.Role]string{}}
	w.addKeys()
	kr, err := evidence.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evidence.Open(t.TempDir(), kr)
	if err != nil {
		t.Fatal(err)
	}
	scans := new(scantest.Memory)
	mem := new(reviewtest.Memory)
	w.desk = review.NewDesk(mem, mem, review.Config{Now: w.clock.Now})
	log := audit.NewLog(w.audit)
	w.hooks = new(webhooktest.Memory)
	acfg := api.Config{Keys: w.keys, Webhooks: w.hooks, Audit: w.audit, Log: log,
		Scans: scans, Review: w.desk, Now: w.clock.Now,
		Evidence: ev, LEReports: new(lereporttest.Memory), CyberTip: new(tipline),
		LEReporter: lereport.Reporter{ReportingPerson: lereport.Person{FirstName: "Trust", LastName: "Safety", Email: []string{"safety@example.net"}}}}
	for _, o := range opts {
		if f, ok := o.(func(*api.Config)); ok {
			f(&acfg)
		}
	}
	a := api.New(acfg)

	w.ev, w.scans, w.api = ev, scans, a
	// The content: a picture a rule's quarantine kept, as a scan keeps it.
	w.image = testPNG(t)
	w.top, w.item = w.ruleCase("post-1", w.image, "image/png")
	w.file(review.Report{Source: review.User, Reporter: "user-9", Category: review.KnownCSAM, ContentID: "post-2"})
	w.user = w.caseOf("post-2")
	w.file(review.Report{Source: review.Flagger, Reporter: w.ids[auth.Flagger], Category: review.KnownCSAM, ContentID: "post-3", Text: "hotline report"})
	w.flagged = w.caseOf("post-3")

	cfg := console.Config{API: a, Keys: w.keys, Log: log, Scans: scans, Evidence: ev, Now: w.clock.Now}
	for _, o := range opts {
		if f, ok := o.(func(*console.Config)); ok {
			f(&cfg)
		}
	}
	c := console.New(cfg)
	mux := http.NewServeMux()
	mux.Handle("/console/", c)
	mux.Handle("/console", c)
	mux.Handle("/", a)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	return w
}

// addKeys makes w one key of each role, in w.keys.
func (w *world) addKeys() {
	w.t.Helper()
	for _, r := range auth.Roles() {
		secret, k, err := auth.Create(context.Background(), w.keys, r, "test "+string(r), "test")
		if err != nil {
			w.t.Fatal(err)
		}
		w.secrets[r], w.ids[r] = secret, k.ID
	}
}

func (w *world) file(r review.Report) {
	w.t.Helper()
	if _, _, _, err := w.desk.File(context.Background(), r); err != nil {
		w.t.Fatal(err)
	}
}

// caseOf is the open case about a content id, or an account id (a text
// case is about its author).
func (w *world) caseOf(id string) int64 {
	w.t.Helper()
	ranked, err := w.desk.Queue(context.Background(), "")
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range ranked {
		if slices.Contains(r.Case.ContentIDs, id) || slices.Contains(r.Case.AccountIDs, id) {
			return r.Case.ID
		}
	}
	w.t.Fatalf("no open case about %s", id)
	return 0
}

// testPNG is a small picture with detail (a gradient), enough for a
// browser to draw.
func testPNG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// browser is an HTTP client with its own cookies, like one person's
// browser.
type browser struct {
	w      *world
	t      testing.TB
	c      *http.Client
	origin string // sent as Origin on POSTs when set
}

func (w *world) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{w: w, t: w.t, c: &http.Client{Jar: jar}}
}

type answer struct {
	status int
	body   string
	url    string // after redirects
	header http.Header
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	res, err := b.c.Get(b.w.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, res)
}

func (b *browser) post(path string, form url.Values) answer {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.w.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, res)
}

func read(t testing.TB, res *http.Response) answer {
	t.Helper()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{res.StatusCode, string(body), res.Request.URL.Path, res.Header}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf is the token of the first form on a page.
func csrf(t testing.TB, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	return m[1]
}

// signIn signs b in with role's key and returns the page it lands on.
func (b *browser) signIn(role auth.Role) answer {
	b.t.Helper()
	form := b.get("/console/signin")
	return b.post("/console/signin", url.Values{"csrf": {csrf(b.t, form.body)}, "key": {b.w.secrets[role]}, "next": {"/console/"}})
}

// entries returns the audit entries with action.
func (w *world) entries(action string) []audit.Entry {
	w.t.Helper()
	var out []audit.Entry
	for e, err := range w.audit.AuditEntries(context.Background(), 1) {
		if err != nil {
			w.t.Fatal(err)
		}
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}
