package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/console"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// apiDo sends one JSON request to the API with role's key and returns
// its status.
func (w *world) apiDo(role auth.Role, method, path, body string) int {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+w.secrets[role])
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// row is the queue page's row of case id, tags stripped.
func row(t *testing.T, page string, id int64) string {
	t.Helper()
	m := regexp.MustCompile(fmt.Sprintf(`(?s)<tr data-href="/console/cases/%d".*?</tr>`, id)).FindString(page)
	if m == "" {
		t.Fatalf("no row for case %d:\n%s", id, page)
	}
	return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m, " ")), " ")
}

// TestQueueContext: each queue row shows the strongest signal, the
// report's reason, the account and the count of related cases.
func TestQueueContext(t *testing.T) {
	w := newWorld(t)
	// A case about account acct-7 is decided; a new report about other
	// content of that account opens a case related to it.
	w.file(review.Report{Source: review.User, Reporter: "user-1", Category: review.KnownCSAM, ContentID: "post-7", AccountID: "acct-7"})
	first := w.caseOf("post-7")
	if st := w.apiDo(auth.Reviewer, "POST", fmt.Sprintf("/v1/cases/%d/decision", first), `{"verdict":"confirm","actions":["remove"],"classification":"A1"}`); st != http.StatusOK {
		t.Fatalf("deciding case %d: %d", first, st)
	}
	w.file(review.Report{Source: review.User, Reporter: "user-2", Category: review.KnownCSAM, ContentID: "post-8", AccountID: "acct-7",
		Text: "this account keeps posting   pictures of children from the same school, please look at every one of its posts today"})
	second := w.caseOf("post-8")
	b := w.browser()
	b.signIn(auth.Reviewer)
	q := b.get("/console/queues/known_csam")
	r2 := row(t, q.body, second)
	for _, want := range []string{"acct-7", "account: 1 confirmed before", "this account keeps posting pictures of children from the same school, please…"} {
		if !strings.Contains(r2, want) {
			t.Errorf("the second case's row %q lacks %q", r2, want)
		}
	}
	if !regexp.MustCompile(`acct-7 1 `).MatchString(r2) {
		t.Errorf("the second case's row %q does not count 1 related case after its account", r2)
	}
	top := row(t, q.body, w.top)
	for _, want := range []string{"pdq match in hotline, distance 6", "rule hotline near", "acct-post-1"} {
		if !strings.Contains(top, want) {
			t.Errorf("the rule case's row %q lacks %q", top, want)
		}
	}
	flagged := row(t, q.body, w.flagged)
	for _, want := range []string{"trusted flagger", "hotline report"} {
		if !strings.Contains(flagged, want) {
			t.Errorf("the flagger's row %q lacks %q", flagged, want)
		}
	}
	if strings.Contains(q.body, w.ids[auth.Flagger]) {
		t.Error("the queue shows the flagger's key id")
	}
}

// TestNames: reporters and reviewers appear by key name and role, never
// by key id, to reviewers and auditors alike.
func TestNames(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	b.signIn(auth.Reviewer)
	page := b.get(fmt.Sprintf("/console/cases/%d", w.flagged))
	a := b.post(fmt.Sprintf("/console/cases/%d/decision", w.flagged), url.Values{"csrf": {csrf(t, page.body)},
		"verdict": {"dismiss"}, "reason": {"adult"}})
	if a.status != http.StatusOK {
		t.Fatalf("dismissing: %d\n%s", a.status, a.body)
	}
	for _, role := range []auth.Role{auth.Reviewer, auth.Auditor} {
		b := w.browser()
		b.signIn(role)
		page := b.get(fmt.Sprintf("/console/cases/%d", w.flagged))
		if page.status != http.StatusOK {
			t.Fatalf("%s: case page %d", role, page.status)
		}
		for _, want := range []string{"test flagger (flagger)", "test reviewer (reviewer)"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("%s's case page lacks %q", role, want)
			}
		}
		for _, r := range []auth.Role{auth.Flagger, auth.Reviewer} {
			if strings.Contains(page.body, w.ids[r]) {
				t.Errorf("%s's case page shows the %s's key id", role, r)
			}
		}
	}
}

// TestAppealHistory: after an appeal the history reads decision, appeal,
// decision on appeal, and "opened" is the first report's time with the
// appeal's time beside it.
func TestAppealHistory(t *testing.T) {
	w := newWorld(t, func(c *console.Config) { c.Idle = 24 * time.Hour })
	opened := w.clock.Now()
	b := w.browser()
	b.signIn(auth.Reviewer)
	w.clock.Advance(10 * time.Minute)
	page := b.get(fmt.Sprintf("/console/cases/%d", w.user))
	if a := b.post(fmt.Sprintf("/console/cases/%d/decision", w.user), url.Values{"csrf": {csrf(t, page.body)},
		"verdict": {"confirm"}, "takedown": {"remove"}, "classification": {"A1"}}); a.status != http.StatusOK {
		t.Fatalf("confirming: %d\n%s", a.status, a.body)
	}
	w.clock.Advance(2 * time.Hour)
	appealed := w.clock.Now()
	if st := w.apiDo(auth.Integrator, "POST", fmt.Sprintf("/v1/cases/%d/appeal", w.user), `{"appellant":"acct-2","reason":"that is not me"}`); st != http.StatusOK {
		t.Fatalf("appeal: %d", st)
	}
	w.clock.Advance(time.Hour)
	page = b.get(fmt.Sprintf("/console/cases/%d", w.user))
	secret, _, err := auth.Create(context.Background(), w.keys, auth.Reviewer, "second reviewer", "test")
	if err != nil {
		t.Fatal(err)
	}
	w.secrets["second"] = secret
	b = w.browser()
	b.signIn("second")
	page = b.get(fmt.Sprintf("/console/cases/%d", w.user))
	if a := b.post(fmt.Sprintf("/console/cases/%d/decision", w.user), url.Values{"csrf": {csrf(t, page.body)}, "appeal": {"1"},
		"verdict": {"confirm"}, "reason": {"upheld"}}); a.status != http.StatusOK {
		t.Fatalf("upholding: %d\n%s", a.status, a.body)
	}
	page = b.get(fmt.Sprintf("/console/cases/%d", w.user))

	hist := regexp.MustCompile(`(?s)<ol class="history" id="history">(.*?)</ol>`).FindStringSubmatch(page.body)
	if hist == nil {
		t.Fatalf("no history:\n%s", page.body)
	}
	items := regexp.MustCompile(`<li class="(\w+)">([^\n]*?)</li>`).FindAllStringSubmatch(hist[1], -1)
	var kinds []string
	for _, it := range items {
		kinds = append(kinds, it[1])
	}
	if strings.Join(kinds, ",") != "decision,appeal,decision" || !strings.Contains(items[2][2], "on appeal") {
		t.Fatalf("history in the order %v:\n%s", kinds, hist[1])
	}
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }
	if !strings.Contains(page.body, `opened <time id="opened">`+stamp(opened)+`</time>`) {
		t.Errorf("opened is not the first report's time %s", stamp(opened))
	}
	if !strings.Contains(page.body, `appealed <time id="appealed">`+stamp(appealed)+`</time>`) {
		t.Errorf("the appeal's time %s is not shown apart", stamp(appealed))
	}
}
