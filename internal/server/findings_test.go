package server_test

// Regression tests for the trial that found decisions' effects living in
// the HTTP handlers (issue 10), each through the HTTP API on every backend.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"os"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// keysFor makes a key per name with the given role.
func keysFor(t *testing.T, st store.Store, roles map[string]auth.Role) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, role := range roles {
		secret, _, err := auth.Create(context.Background(), st, role, name, "test")
		if err != nil {
			t.Fatal(err)
		}
		out[name] = secret
	}
	return out
}

// reportForm is a multipart report carrying its content.
func reportForm(t *testing.T, report map[string]any, content []byte) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	rj, _ := json.Marshal(report)
	if err := mw.WriteField("report", string(rj)); err != nil {
		t.Fatal(err)
	}
	w, err := mw.CreateFormFile("content", "upload.jpg")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content)
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

type caseView struct {
	Case struct {
		ID      int64  `json:"id"`
		State   string `json:"state"`
		Signals struct {
			Matches []struct {
				Bank     string `json:"bank"`
				Distance int    `json:"distance"`
				Claimed  bool   `json:"claimed"`
				Variant  int    `json:"variant"`
			} `json:"matches"`
		} `json:"signals"`
		Decisions []struct {
			Reviewer string   `json:"reviewer"`
			Actions  []string `json:"actions"`
		} `json:"decisions"`
	} `json:"case"`
	Priority struct {
		Breakdown []struct {
			Term string `json:"factor"`
			Why  string `json:"why"`
		} `json:"breakdown"`
	} `json:"priority"`
}

func (v caseView) term(name string) (string, bool) {
	for _, b := range v.Priority.Breakdown {
		if b.Term == name {
			return b.Why, true
		}
	}
	return "", false
}

type lookupAnswer struct {
	Matches []struct {
		Bank     string `json:"bank"`
		Distance int    `json:"distance"`
	} `json:"matches"`
}

func TestFindings(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			cfg, st := be.open(t)
			base, admin := start(t, cfg, st)
			keys := keysFor(t, st, map[string]auth.Role{
				"platform": auth.Integrator, "reviewer": auth.Reviewer, "reviewer2": auth.Reviewer,
				"flagger": auth.Flagger, "liaison": auth.LELiaison, "auditor": auth.Auditor,
			})
			as := func(name string) client { return client{t, base, keys[name]} }
			t.Run("ReversalReverses", func(t *testing.T) { testReversal(t, as) })
			t.Run("ClaimIsNoEvidence", func(t *testing.T) { testClaim(t, as, client{t, base, admin}) })
			t.Run("ReportsMatchAsScans", func(t *testing.T) { testMirroredReport(t, as, client{t, base, admin}) })
			t.Run("NoChangeWithoutItsEntry", func(t *testing.T) { testBounded(t, client{t, base, admin}, as("liaison")) })
			t.Run("HostileStrings", func(t *testing.T) { testHostileStrings(t, as("platform"), as("auditor")) })
		})
	}
}

// Finding 1: an appeal that overturns a confirmation with "add to bank"
// takes the case's hashes out of the review bank again.
func testReversal(t *testing.T, as func(string) client) {
	picture := testkit.JPEG(t, testkit.Picture(41, 256))
	ct, body := reportForm(t, map[string]any{"category": "suspected_csam", "content_id": "post-r1", "account_id": "acct-r1", "reporter": "user-1"}, picture)
	var rep struct {
		CaseID int64 `json:"case_id"`
	}
	as("platform").do("POST", "/v1/reports", ct, body, 201, &rep)
	var scanned struct {
		Hashes struct {
			PDQ string `json:"pdq"`
		} `json:"hashes"`
	}
	// The platform's scan computes the hash the lookups below send.
	as("platform").do("POST", "/v1/scan?content_id=probe", "image/jpeg", picture, 200, &scanned)
	lookup := func() lookupAnswer {
		var a lookupAnswer
		as("platform").json("POST", "/v1/lookup", map[string]any{"pdq": scanned.Hashes.PDQ, "content_id": "probe"}, 200, &a)
		return a
	}
	if a := lookup(); len(a.Matches) != 0 {
		t.Fatalf("before any decision the content matches %+v", a.Matches)
	}
	as("reviewer").json("POST", fmt.Sprintf("/v1/cases/%d/decision", rep.CaseID),
		map[string]any{"verdict": "confirm", "classification": "A2", "actions": []string{"remove", "bank"}}, 200, nil)
	if a := lookup(); len(a.Matches) == 0 || a.Matches[0].Bank != server.DefaultReviewBank || a.Matches[0].Distance != 0 {
		t.Fatalf("after confirmation with bank: lookup %+v, want the review bank at distance 0", a.Matches)
	}
	as("platform").json("POST", fmt.Sprintf("/v1/cases/%d/appeal", rep.CaseID), map[string]any{"appellant": "acct-r1", "reason": "it is my own drawing"}, 200, nil)
	as("reviewer2").json("POST", fmt.Sprintf("/v1/cases/%d/decision", rep.CaseID), map[string]any{"verdict": "dismiss", "reason": "a drawing, not a child"}, 200, nil)
	if a := lookup(); len(a.Matches) != 0 {
		t.Errorf("after the appeal overturned the confirmation the content still matches %+v", a.Matches)
	}
	// A later report of the same content gets no bank match from a
	// decision that no longer stands.
	ct, body = reportForm(t, map[string]any{"category": "suspected_csam", "content_id": "post-r2", "reporter": "user-2"}, picture)
	as("platform").do("POST", "/v1/reports", ct, body, 201, &rep)
	var v caseView
	as("reviewer").do("GET", fmt.Sprintf("/v1/cases/%d", rep.CaseID), "", nil, 200, &v)
	if why, ok := v.term("known_match"); ok {
		t.Errorf("a later case scores known_match (%s) from an overturned decision", why)
	}
}

// Finding 2: a flagger's claimed hash of listed content raises priority and
// is shown as claimed, but confirms nothing and sends nothing.
func testClaim(t *testing.T, as func(string) client, admin client) {
	digest := strings.Repeat("ab", 32)
	admin.json("POST", "/v1/banks", map[string]any{"name": "hotline"}, 201, nil)
	admin.json("POST", "/v1/banks/hotline/entries", map[string]any{"entries": []map[string]any{{"signal": "sha256", "value": digest, "source": "hotline"}}}, 200, nil)
	var rep struct {
		CaseID int64  `json:"case_id"`
		Status string `json:"status"`
	}
	as("flagger").json("POST", "/v1/reports", map[string]any{"category": "known_csam", "content_id": "rival-post-1",
		"account_id": "rival-acct-1", "hashes": map[string]any{"sha256": digest}}, 201, &rep)
	if rep.Status != "received" {
		t.Errorf("claimed known-CSAM report: status %q, want received (waiting for a reviewer)", rep.Status)
	}
	var v caseView
	as("reviewer").do("GET", fmt.Sprintf("/v1/cases/%d", rep.CaseID), "", nil, 200, &v)
	if v.Case.State != "open" || len(v.Case.Decisions) != 0 {
		t.Errorf("claimed known-CSAM case: state %s, decisions %+v; want open and undecided", v.Case.State, v.Case.Decisions)
	}
	if ms := v.Case.Signals.Matches; len(ms) != 1 || !ms[0].Claimed || ms[0].Bank != "hotline" {
		t.Errorf("matches %+v, want the hotline match marked claimed", ms)
	}
	if why, ok := v.term("known_match"); !ok || !strings.Contains(why, "claimed") {
		t.Errorf("priority's known_match %q (%v): want it counted and said to be claimed", why, ok)
	}
	var entries struct {
		Entries []struct {
			Action  string `json:"action"`
			Subject string `json:"subject"`
		} `json:"entries"`
	}
	as("auditor").do("GET", "/v1/audit?limit=1000", "", nil, 200, &entries)
	for _, e := range entries.Entries {
		if e.Subject == fmt.Sprintf("case:%d", rep.CaseID) && strings.HasPrefix(e.Action, "case.decide") {
			t.Errorf("the claimed case was decided: %+v", e)
		}
	}
}

// Finding 3: a report carrying a mirrored copy of banked content matches
// as a scan of it does.
func testMirroredReport(t *testing.T, as func(string) client, admin client) {
	const dih = "../../testdata/threatexchange/pdq/data/reg-test-input/dih/"
	original, err := os.ReadFile(dih + "bridge-1-original.jpg")
	if err != nil {
		t.Fatal(err)
	}
	mirrored, err := os.ReadFile(dih + "bridge-5-flipx.jpg")
	if err != nil {
		t.Fatal(err)
	}
	admin.json("POST", "/v1/banks", map[string]any{"name": "listed"}, 201, nil)
	admin.do("POST", "/v1/banks/listed/entries?source=hotline", "image/jpeg", original, 200, nil)
	var scanned struct {
		Matches []struct {
			Bank     string `json:"bank"`
			Distance int    `json:"distance"`
		} `json:"matches"`
	}
	as("platform").do("POST", "/v1/scan?content_id=mirror-scan", "image/jpeg", mirrored, 200, &scanned)
	if len(scanned.Matches) == 0 || scanned.Matches[0].Bank != "listed" {
		t.Fatalf("scan of the mirrored copy: %+v, want a match in bank listed", scanned.Matches)
	}
	ct, body := reportForm(t, map[string]any{"category": "suspected_csam", "content_id": "mirror-report", "reporter": "user-3"}, mirrored)
	var rep struct {
		CaseID int64 `json:"case_id"`
	}
	as("platform").do("POST", "/v1/reports", ct, body, 201, &rep)
	var v caseView
	as("reviewer").do("GET", fmt.Sprintf("/v1/cases/%d", rep.CaseID), "", nil, 200, &v)
	ms := v.Case.Signals.Matches
	if len(ms) == 0 || ms[0].Bank != "listed" || ms[0].Distance != scanned.Matches[0].Distance || ms[0].Claimed {
		t.Errorf("report of the mirrored copy matched %+v; the scan matched %+v (computed, not claimed)", ms, scanned.Matches)
	}
}

// Finding 4: no valid request makes an audit entry too big, and a refused
// request changes nothing.
func testBounded(t *testing.T, admin, liaison client) {
	admin.json("POST", "/v1/banks", map[string]any{"name": "huge", "description": strings.Repeat("d", 900<<10)}, 400, nil)
	admin.do("GET", "/v1/banks/huge", "", nil, 404, nil)

	admin.json("POST", "/v1/webhooks", map[string]any{"name": "long", "url": "https://example.org/" + strings.Repeat("a", 64<<10)}, 400, nil)
	var hooks struct {
		Webhooks []struct {
			Name string `json:"name"`
		} `json:"webhooks"`
	}
	admin.do("GET", "/v1/webhooks", "", nil, 200, &hooks)
	for _, h := range hooks.Webhooks {
		if h.Name == "long" {
			t.Error("the refused webhook was created")
		}
	}

	// A webhook at the cloud metadata address is refused when created
	// (issue 12: the server must not be made to reach inside).
	admin.json("POST", "/v1/webhooks", map[string]any{"name": "meta", "url": "http://169.254.169.254/latest/meta-data/"}, 400, nil)

	accounts := make([]string, 1000)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("%0256d", i)
	}
	liaison.json("POST", "/v1/le-requests", map[string]any{"agency": "Police", "legal_basis": "warrant 1", "accounts": accounts,
		"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "deadline": "2026-12-31T00:00:00Z"}, 422, nil)
	var reqs struct {
		Requests []any `json:"requests"`
	}
	liaison.do("GET", "/v1/le-requests", "", nil, 200, &reqs)
	if len(reqs.Requests) != 0 {
		t.Errorf("the refused data request was registered: %v", reqs.Requests)
	}
	// What was accepted is all in the log, and the chain holds.
	var verify struct {
		OK bool `json:"ok"`
	}
	admin.do("GET", "/v1/audit/verify", "", nil, 200, &verify)
	if !verify.OK {
		t.Error("audit verify fails after the refusals")
	}
}

// Issue 12, finding 2: NUL, invalid UTF-8 and control characters in the
// strings a scan or lookup carries are a 400 naming the field on every
// backend, never a 500 that withholds a block decision.
func testHostileStrings(t *testing.T, platform, auditor client) {
	picture := testkit.JPEG(t, testkit.Picture(5, 128))
	for _, q := range []string{"account_id=%ff", "account_id=a%00b", "content_id=%c3%28", "content_id=bell%07"} {
		body := platform.do("POST", "/v1/scan?"+q, "image/jpeg", picture, 400, nil)
		field, _, _ := strings.Cut(q, "=")
		if !strings.Contains(string(body), field) {
			t.Errorf("scan ?%s: %s does not name %s", q, body, field)
		}
	}
	for _, id := range []string{`a\u0000b`, `bell\u0007`} {
		platform.do("POST", "/v1/lookup", "application/json", []byte(`{"pdq":"`+strings.Repeat("0f", 32)+`","account_id":"`+id+`"}`), 400, nil)
	}
	auditor.do("GET", "/v1/scans/%00", "", nil, 400, nil)
}
