package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/lerequest/lerequesttest"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/server"
)

// leRequestStore is the register and the review cases in memory, as one
// store, as the databases are.
type leRequestStore struct {
	*registerMemory
	*caseMemory
}

type (
	registerMemory = lerequesttest.Memory
	caseMemory     = reviewtest.Memory
)

// TestLERequests: le_liaison registers requests, lists them emergencies
// first, exports a package that verifies and holds the account's scan
// records, reports and decisions, and closes them; other roles are refused
// and the refusal is audited.
func TestLERequests(t *testing.T) {
	ctx := context.Background()
	reqs, cases := new(lerequesttest.Memory), new(reviewtest.Memory)
	var rd *review.Desk
	d := newDesk(t, func(c *api.Config) {
		rd = review.NewDesk(cases, cases, review.Config{Now: c.Now})
		c.Review, c.LERequests = rd, leRequestStore{reqs, cases}
	})
	now := d.clock.Now()

	for _, s := range []scan.Record{
		{ID: "scn_in", Time: now.Add(-time.Hour), Kind: scan.KindScan, AccountID: "acct-9", ContentID: "post-1", SHA256: "ab12", Quality: -1},
		{ID: "scn_old", Time: now.Add(-100 * 24 * time.Hour), Kind: scan.KindScan, AccountID: "acct-9", ContentID: "post-0", Quality: -1},
		{ID: "scn_other", Time: now.Add(-time.Hour), Kind: scan.KindScan, AccountID: "acct-2", ContentID: "post-2", Quality: -1,
			Decision: rules.Decision{}},
	} {
		if err := reqs.RecordScan(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	rep, c, _, err := rd.File(ctx, review.Report{Source: review.User, Reporter: "u1", Category: review.Grooming, AccountID: "acct-9", Text: "asked for photos"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rd.Decide(ctx, c.ID, review.Decision{Reviewer: "rev-1", Verdict: review.Confirm, Actions: []review.Action{review.Restrict}, Reason: "grooming confirmed"}); err != nil {
		t.Fatal(err)
	}

	body := func(agency string, emergency bool, deadline time.Duration) map[string]any {
		return map[string]any{"agency": agency, "legal_basis": "production order 2026/77", "accounts": []string{"acct-9"},
			"from": now.Add(-30 * 24 * time.Hour), "to": now.Add(time.Hour), "deadline": now.Add(deadline), "emergency": emergency}
	}
	normal := d.do("le_liaison", "POST", "/v1/le-requests", body("Police A", false, 72*time.Hour), 201)
	emergency := d.do("le_liaison", "POST", "/v1/le-requests", body("Police B", true, 10*24*time.Hour), 201)
	if normal["state"] != "open" || normal["overdue"] != false || normal["due_in_seconds"] != float64(72*3600) {
		t.Errorf("created %v", normal)
	}
	bad := body("", false, time.Hour)
	bad["cases"] = []int64{999}
	if e := d.do("le_liaison", "POST", "/v1/le-requests", bad, 422); !strings.Contains(e["error"].(map[string]any)["message"].(string), "agency is required") {
		t.Errorf("invalid request: %v", e)
	}
	linked := body("Police C", false, time.Hour)
	linked["cases"] = []int64{999}
	d.do("le_liaison", "POST", "/v1/le-requests", linked, 422)

	list := d.do("le_liaison", "GET", "/v1/le-requests", nil, 200)
	var order []float64
	for _, r := range list["requests"].([]any) {
		order = append(order, r.(map[string]any)["id"].(float64))
	}
	if !slices.Equal(order, []float64{emergency["id"].(float64), normal["id"].(float64)}) {
		t.Errorf("listed %v: want the emergency (%v) first", order, emergency["id"])
	}

	id := int64(normal["id"].(float64))
	path := "/v1/le-requests/" + strconv.FormatInt(id, 10)
	rec := d.raw("le_liaison", "POST", path+"/export", nil, 200)
	if ct := rec.Header().Get("Content-Type"); ct != "application/zip" {
		t.Errorf("Content-Type %q", ct)
	}
	m, sum, err := export.Verify(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("exported package does not verify: %v", err)
	}
	if got := rec.Header().Get("X-Manifest-SHA256"); got != hex.EncodeToString(sum[:]) || m.RequestID != id {
		t.Errorf("header %s, manifest sum %x, request %d", got, sum, m.RequestID)
	}
	var scans []scan.Record
	var gotCases []review.Case
	var reports []review.Report
	unzipJSON(t, rec.Body.Bytes(), export.ScansJSON, &scans)
	unzipJSON(t, rec.Body.Bytes(), export.CasesJSON, &gotCases)
	unzipJSON(t, rec.Body.Bytes(), export.ReportsJSON, &reports)
	if len(scans) != 1 || scans[0].ID != "scn_in" {
		t.Errorf("scans %+v: want scn_in only", scans)
	}
	if len(gotCases) != 1 || gotCases[0].ID != c.ID || len(gotCases[0].Decisions) != 1 || gotCases[0].Decisions[0].Verdict != review.Confirm {
		t.Errorf("cases %+v: want case %d with its confirmation", gotCases, c.ID)
	}
	if len(reports) != 1 || reports[0].ID != rep.ID || reports[0].Text != "asked for photos" {
		t.Errorf("reports %+v: want report %d", reports, rep.ID)
	}
	got := d.do("le_liaison", "GET", path, nil, 200)
	if ex := got["exports"].([]any); len(ex) != 1 || ex[0].(map[string]any)["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("exports %v", got["exports"])
	}

	d.do("le_liaison", "POST", path+"/close", map[string]any{"state": "refused"}, 422) // no reason
	closed := d.do("le_liaison", "POST", path+"/close", map[string]any{"state": "fulfilled", "reason": "sent by secure mail"}, 200)
	if closed["state"] != "fulfilled" {
		t.Errorf("closed %v", closed)
	}
	d.do("le_liaison", "POST", path+"/close", map[string]any{"state": "refused", "reason": "again"}, 409)
	d.do("le_liaison", "GET", "/v1/le-requests/999", nil, 404)

	d.clock.Advance(11 * 24 * time.Hour)
	list = d.do("le_liaison", "GET", "/v1/le-requests?state=open", nil, 200)
	if list["overdue"] != float64(1) || len(list["requests"].([]any)) != 1 {
		t.Errorf("after the deadline: %v; want the emergency open and overdue", list)
	}

	for _, who := range []string{"reviewer", "integrator", "auditor"} {
		d.do(who, "POST", "/v1/le-requests", body("Police D", false, time.Hour), 403)
		d.raw(who, "POST", path+"/export", nil, 403)
	}
	audited := d.audited()
	for _, want := range []string{
		d.ids["le_liaison"] + " lerequest.create le-request/" + strconv.FormatInt(id, 10),
		d.ids["le_liaison"] + " lerequest.export le-request/" + strconv.FormatInt(id, 10),
		d.ids["le_liaison"] + " lerequest.close le-request/" + strconv.FormatInt(id, 10),
		d.ids["reviewer"] + " access.denied POST /v1/le-requests",
		d.ids["integrator"] + " access.denied POST " + path + "/export",
	} {
		if !slices.Contains(audited, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
}

func unzipJSON(t *testing.T, pkg []byte, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(zipMember(t, pkg, name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// zipMember reads one member of a ZIP package.
func zipMember(t *testing.T, pkg []byte, name string) []byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := z.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// FuzzDataRequests sends arbitrary bodies and queries to the data-request
// routes of a served SQLite store (so it checks the server's wiring too):
// no answer is a 5xx, errors are the JSON error form, and a request is
// registered only when it is complete.
func FuzzDataRequests(f *testing.F) {
	ctx := context.Background()
	cfg := server.Config{Listen: "127.0.0.1:0", Data: f.TempDir(), MaxBody: 1 << 20}
	st, err := server.OpenStores(ctx, cfg)
	if err != nil {
		f.Fatal(err)
	}
	key, _, err := auth.Create(ctx, st, auth.LELiaison, "fuzz", "test")
	if err != nil {
		f.Fatal(err)
	}
	srv, err := server.New(ctx, cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	h := srv.Handler()
	send := func(method, path, query string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	valid := `{"agency":"Police","legal_basis":"order","accounts":["a1"],"from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z","deadline":"2026-12-01T00:00:00Z"}`
	if rec := send("POST", "/v1/le-requests", "", []byte(valid)); rec.Code != 201 {
		f.Fatalf("setup: %d %s", rec.Code, rec.Body)
	}
	routes := []string{"POST /v1/le-requests", "GET /v1/le-requests", "POST /v1/le-requests/1/close", "POST /v1/le-requests/1/export", "GET /v1/le-requests/1"}
	f.Add(uint8(0), "", []byte(valid))
	f.Add(uint8(0), "", []byte(`{"agency":"P","legal_basis":"o","accounts":["a","a"],"cases":[-1],"from":"2026-02-01T00:00:00Z","to":"2026-01-01T00:00:00Z"}`))
	f.Add(uint8(1), "state=open", []byte(nil))
	f.Add(uint8(2), "", []byte(`{"state":"refused","reason":""}`))
	f.Add(uint8(3), "", []byte(nil))
	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte) {
		method, path, _ := strings.Cut(routes[int(route)%len(routes)], " ")
		rec := send(method, path, query, body)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
				t.Fatalf("%s %s: %d answered %q, not the JSON error form", method, path, rec.Code, rec.Body)
			}
		}
		if method == "POST" && path == "/v1/le-requests" && rec.Code == 201 {
			var r lerequest.Request
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if err := r.Validate(); err != nil || r.State != lerequest.Open {
				t.Fatalf("registered %+v: %v", r, err)
			}
		}
	})
}
