package console_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// consolePages are the console's pages and GET forms, with the query
// parameters each takes, and the role that may see them.
var consolePages = []struct {
	role    auth.Role
	pattern string // as the console's mux writes it: the message names it
	path    string
	takes   []string
}{
	{auth.Reviewer, "GET /console/{$}", "/console/", nil},
	{auth.Reviewer, "GET /console/queues/{queue}", "/console/queues/appeals", []string{"decided", "verdict"}},
	{auth.Reviewer, "GET /console/cases/{id}", "/console/cases/1", nil},
	{auth.Reviewer, "GET /console/cases/{id}/content/{item}", "/console/cases/1/content/x", nil},
	{auth.Reviewer, "GET /console/cases/{id}/content/{item}/strip", "/console/cases/1/content/x/strip", nil},
	{auth.Reviewer, "GET /console/stats", "/console/stats", nil},
	{auth.Reviewer, "GET /console/notices", "/console/notices", nil},
	{auth.Flagger, "GET /console/mine", "/console/mine", nil},
	{auth.LELiaison, "GET /console/le", "/console/le", nil},
	{auth.LELiaison, "GET /console/le/{id}", "/console/le/1", []string{"done"}},
	{auth.Auditor, "GET /console/transparency", "/console/transparency", []string{"from", "to", "category"}},
	{auth.Auditor, "GET /console/transparency/print", "/console/transparency/print", []string{"from", "to", "category"}},
	{auth.Auditor, "GET /console/transparency/figures.csv", "/console/transparency/figures.csv", []string{"from", "to", "category"}},
	{auth.Auditor, "GET /console/transparency/dsa.csv", "/console/transparency/dsa.csv", []string{"from", "to", "category"}},
	{auth.Admin, "GET /console/admin/{$}", "/console/admin/", nil},
	{auth.Admin, "GET /console/admin/banks", "/console/admin/banks", []string{"done"}},
	{auth.Admin, "GET /console/admin/rules", "/console/admin/rules", []string{"done"}},
	{auth.Admin, "GET /console/admin/webhooks", "/console/admin/webhooks", []string{"done"}},
	{auth.Admin, "GET /console/admin/keys", "/console/admin/keys", []string{"done"}},
	{auth.Admin, "GET /console/admin/audit", "/console/admin/audit", []string{"done", "verify", "from"}},
	{"", "GET /console/signin", "/console/signin", []string{"next"}},
}

// errorText is the message of the console's error page.
func errorText(page string) string { return html.UnescapeString(text(page)) }

// Every page and form refuses a query parameter it does not take, and one
// given twice, with the console's error page, 400, naming it, as the API
// refuses its own: a misspelt ?decidde= would otherwise show the page
// without its notice, a ?from= given twice the figures of one of them.
func TestQueryParameters(t *testing.T) {
	w, _ := adminWorld(t)
	browsers := map[auth.Role]*browser{"": w.browser()}
	for _, p := range consolePages {
		b, ok := browsers[p.role]
		if !ok {
			b = w.browser()
			b.signIn(p.role)
			browsers[p.role] = b
		}
		a := b.get(p.path + "?contnet_id=x")
		msg := errorText(a.body)
		if a.status != http.StatusBadRequest || !strings.Contains(msg, `unknown query parameter "contnet_id"`) {
			t.Errorf("%s?contnet_id=x: %d, want 400 naming it: %.300s", p.path, a.status, msg)
			continue
		}
		if len(p.takes) == 0 && !strings.Contains(msg, p.pattern+" takes none") {
			t.Errorf("%s: %q does not say it takes none", p.path, msg)
		}
		for _, name := range p.takes {
			if !strings.Contains(msg, name) {
				t.Errorf("%s: %q does not list %s, which it takes", p.path, msg, name)
			}
			q := url.Values{name: {"1", "2"}}.Encode()
			if a := b.get(p.path + "?" + q); a.status != http.StatusBadRequest || !strings.Contains(errorText(a.body), "query parameter "+name+" is given twice") {
				t.Errorf("%s?%s: %d, want 400 saying %s is given twice", p.path, q, a.status, name)
			}
		}
	}
	// A value not of its kind: the audit screen's first entry, the queue's
	// notice.
	for path, want := range map[string]string{
		"/console/admin/audit?from=zero":           `query parameter from "zero": want a whole number of at least 1`,
		"/console/queues/appeals?verdict=confirmd": `query parameter verdict "confirmd": want one of confirm, dismiss, dismiss_first`,
	} {
		b := browsers[auth.Admin]
		if strings.HasPrefix(path, "/console/queues") {
			b = browsers[auth.Reviewer]
		}
		if a := b.get(path); a.status != http.StatusBadRequest || !strings.Contains(errorText(a.body), want) {
			t.Errorf("%s: %d %.300s, want 400 saying %s", path, a.status, errorText(a.body), want)
		}
	}
	// Forms take no query parameters: their fields are the form's.
	b := browsers[auth.Reviewer]
	page := b.get("/console/stats")
	if a := b.post("/console/break?back=/console/stats", url.Values{"csrf": {csrf(t, page.body)}}); a.status != http.StatusBadRequest ||
		!strings.Contains(errorText(a.body), `unknown query parameter "back": POST /console/break takes none`) {
		t.Errorf("POST /console/break?back=: %d %.300s", a.status, errorText(a.body))
	}
	s := w.browser()
	form := s.get("/console/signin")
	if a := s.post("/console/signin?next=/console/stats", url.Values{"csrf": {csrf(t, form.body)}, "key": {w.secrets[auth.Reviewer]}}); a.status != http.StatusBadRequest {
		t.Errorf("POST /console/signin?next=: %d, want 400", a.status)
	}
}

// Well-formed addresses still show their pages.
func TestQueryParametersTaken(t *testing.T) {
	w, _ := adminWorld(t)
	admin := w.browser()
	admin.signIn(auth.Admin)
	// TestTransparencyPage asks for the figures of a period.
	for _, path := range []string{"/console/admin/audit?from=1&verify=1", "/console/admin/keys?done=revoked", "/console/admin/audit?from="} {
		if a := admin.get(path); a.status != http.StatusOK {
			t.Errorf("%s: %d %.300s", path, a.status, errorText(a.body))
		}
	}
	if a := admin.get("/console/admin/keys?done=revoked"); !strings.Contains(a.body, "Key revoked") {
		t.Errorf("the notice of ?done=revoked is not shown")
	}
	reviewer := w.browser()
	reviewer.signIn(auth.Reviewer)
	if a := reviewer.get("/console/queues/appeals?decided=7&verdict=confirm"); a.status != http.StatusOK || !strings.Contains(a.body, "Case 7") {
		t.Errorf("the queue after a decision: %d %.300s", a.status, errorText(a.body))
	}
	s := w.browser()
	if a := s.get("/console/signin?next=/console/stats"); a.status != http.StatusOK || !strings.Contains(a.body, `value="/console/stats"`) {
		t.Errorf("the sign-in page with next: %d", a.status)
	}
}
