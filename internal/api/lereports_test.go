package api_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/cybertip"
	"github.com/safeguard-oss/safeguard/internal/lereport/hotline"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
	"github.com/safeguard-oss/safeguard/internal/lereport/schema"
)

// tipline is a CyberTipline in memory: it checks every document against
// the schema and the order of calls, and records them.
type tipline struct {
	mu         sync.Mutex
	calls      []string
	files      map[string][]byte
	failFinish int // refuse that many /finish calls
}

func (f *tipline) call(c string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

func (f *tipline) Submit(_ context.Context, report []byte) (string, error) {
	if err := schema.CyberTip.Validate(report); err != nil {
		return "", err
	}
	f.call("submit")
	return "7700", nil
}

func (f *tipline) Upload(_ context.Context, reportID, name string, r io.Reader, size int64) (string, error) {
	content, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	if int64(len(content)) != size {
		return "", fmt.Errorf("upload %s: %d bytes, said %d", name, len(content), size)
	}
	f.call("upload " + reportID + " " + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.files == nil {
		f.files = map[string][]byte{}
	}
	f.files[name] = content
	return "F-1", nil
}

func (f *tipline) FileInfo(_ context.Context, details []byte) error {
	if err := schema.CyberTip.Validate(details); err != nil {
		return err
	}
	viewed := bytes.Contains(details, []byte("<fileViewedByEsp>true</fileViewedByEsp>"))
	f.call(fmt.Sprintf("fileinfo viewed=%v", viewed))
	return nil
}

func (f *tipline) Finish(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failFinish > 0 {
		f.failFinish--
		f.calls = append(f.calls, "finish "+id+" (refused)")
		return &cybertip.APIError{Op: "finish", Code: 4000, Description: "try later"}
	}
	f.calls = append(f.calls, "finish "+id)
	return nil
}

func (f *tipline) Retract(_ context.Context, id string) error { f.call("retract " + id); return nil }

// leDesk is the review desk with evidence, law-enforcement reports and a
// tipline, and one preserved image of post-1.
func leDesk(t testing.TB, opts ...func(*api.Config)) (*desk, *evidence.Store, *tipline, evidence.Item) {
	t.Helper()
	kr, err := evidence.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evidence.Open(t.TempDir(), kr)
	if err != nil {
		t.Fatal(err)
	}
	tip := &tipline{}
	d := newDesk(t, func(c *api.Config) {
		c.Evidence, c.LEReports, c.CyberTip = ev, new(lereporttest.Memory), tip
		c.LEReporter = lereport.Reporter{ReportingPerson: lereport.Person{FirstName: "Trust", LastName: "Safety", Email: []string{"safety@example.net"}}}
		for _, o := range opts {
			o(c)
		}
	})
	ev.Now = d.clock.Now
	item, err := ev.Put([]byte("JPEG-BYTES-OF-POST-1"), evidence.Meta{ContentType: "image/jpeg", ContentID: "post-1", AccountID: "acct-9",
		Source: "scan", PDQ: strings.Repeat("f0", 32)})
	if err != nil {
		t.Fatal(err)
	}
	return d, ev, tip, item
}

// raw sends a request and returns the recorder, failing unless want.
func (d *desk) raw(who, method, path string, body any, want int) *httptest.ResponseRecorder {
	d.t.Helper()
	var r *http.Request
	if body == nil {
		r = httptest.NewRequest(method, path, nil)
	} else {
		j, _ := json.Marshal(body)
		r = httptest.NewRequest(method, path, bytes.NewReader(j))
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+d.secrets[who])
	rec := httptest.NewRecorder()
	d.api.ServeHTTP(rec, r)
	if rec.Code != want {
		d.t.Fatalf("%s %s as %s: %d %s, want %d", method, path, who, rec.Code, rec.Body, want)
	}
	return rec
}

func leDocument(incidentType string) map[string]any {
	return map[string]any{
		"incidentSummary":      map[string]any{"incidentType": incidentType, "incidentDateTime": "2026-11-20T10:00:00Z"},
		"personOrUserReported": map[string]any{"espIdentifier": "acct-9", "screenName": "uploader"},
	}
}

func fileOf(t *testing.T, rep map[string]any, i int) map[string]any {
	t.Helper()
	files, _ := rep["files"].([]any)
	if len(files) <= i {
		t.Fatalf("report has %d files: %v", len(files), rep)
	}
	return files[i].(map[string]any)
}

func TestLEReportWorkflow(t *testing.T) {
	d, ev, tip, item := leDesk(t)
	rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "user-1", "category": "suspected_csam", "content_id": "post-1", "account_id": "acct-9"}, 201)
	caseID := num(rep["case_id"])
	other, err := ev.Put([]byte("another post"), evidence.Meta{ContentID: "post-2"})
	if err != nil {
		t.Fatal(err)
	}
	create := map[string]any{
		"case_id": caseID, "document": leDocument(string(lereport.ChildPornography)),
		"files": []map[string]any{{"evidence_id": item.ID, "original_file_name": "IMG_1.jpg", "relevance": "Reported", "classification": "A1"}},
	}

	// Not before a confirmation; not by another role; the role's refusal
	// is in no report.
	d.do("le_liaison", "POST", "/v1/le-reports", create, 409)
	d.do("reviewer", "POST", fmt.Sprintf("/v1/cases/%d/decision", caseID), map[string]any{"verdict": "confirm", "classification": "A1", "actions": []string{"remove", "le_report"}}, 200)
	for _, who := range []string{"reviewer", "admin", "auditor", "integrator"} {
		d.do(who, "POST", "/v1/le-reports", create, 403)
		d.do(who, "GET", "/v1/le-reports", nil, 403)
	}
	d.do("le_liaison", "POST", "/v1/le-reports", map[string]any{"case_id": caseID, "document": leDocument(string(lereport.ChildPornography)),
		"files": []map[string]any{{"evidence_id": other.ID}}}, 422)

	// The draft: hashes from the store, unviewed.
	bad := maps(create)
	bad["document"] = leDocument("Bogus Incident")
	draft := d.do("le_liaison", "POST", "/v1/le-reports", bad, 201)
	id := num(draft["id"])
	path := fmt.Sprintf("/v1/le-reports/%d", id)
	f := fileOf(t, draft, 0)
	details := f["details"].(map[string]any)
	hashes, _ := json.Marshal(details["originalFileHash"])
	for _, want := range []string{item.MD5.String(), item.SHA256.String(), strings.Repeat("f0", 32)} {
		if !strings.Contains(string(hashes), want) {
			t.Errorf("hashes %s lack %s", hashes, want)
		}
	}
	if details["fileViewedByEsp"] != false || draft["state"] != "draft" || draft["case_id"] != fmt.Sprint(caseID) {
		t.Errorf("draft %v", draft)
	}

	// Ready refuses the bad incident type and names the element.
	e := d.do("le_liaison", "POST", path+"/ready", nil, 422)
	if msg := fmt.Sprint(e["error"]); !strings.Contains(msg, "incidentType") || !strings.Contains(msg, "invalid_le_report") {
		t.Errorf("ready of an invalid report: %v", e)
	}

	// A reviewer views the file (only through its case), then the edit
	// and ready report it viewed.
	d.raw("reviewer", "GET", fmt.Sprintf("/v1/cases/%d/evidence/%s", caseID, other.ID), nil, 404)
	d.raw("le_liaison", "GET", fmt.Sprintf("/v1/cases/%d/evidence/%s", caseID, item.ID), nil, 403)
	view := d.raw("reviewer", "GET", fmt.Sprintf("/v1/cases/%d/evidence/%s", caseID, item.ID), nil, 200)
	if view.Body.String() != "JPEG-BYTES-OF-POST-1" || view.Header().Get("Content-Type") != "image/jpeg" {
		t.Errorf("view: %q %v", view.Body, view.Header())
	}
	edited := d.do("le_liaison", "PUT", path, create, 200)
	if fileOf(t, edited, 0)["viewed_by"] != d.ids["reviewer"] {
		t.Errorf("edited draft %v: want the reviewer's view", edited)
	}
	d.do("le_liaison", "PUT", path, map[string]any{"case_id": caseID + 1, "document": create["document"]}, 400)
	ready := d.do("le_liaison", "POST", path+"/ready", nil, 200)
	if ready["state"] != "ready" || fileOf(t, ready, 0)["details"].(map[string]any)["fileViewedByEsp"] != true {
		t.Errorf("ready %v", ready)
	}
	d.do("le_liaison", "PUT", path, create, 409)

	done := d.do("le_liaison", "POST", path+"/submit", nil, 200)
	if done["state"] != "acknowledged" || done["recipient_report_id"] != "7700" {
		t.Errorf("submitted %v", done)
	}
	if want := []string{"submit", "upload 7700 IMG_1.jpg", "fileinfo viewed=true", "finish 7700"}; !slices.Equal(tip.calls, want) {
		t.Errorf("tipline calls %v, want %v", tip.calls, want)
	}
	if string(tip.files["IMG_1.jpg"]) != "JPEG-BYTES-OF-POST-1" {
		t.Errorf("uploaded %q", tip.files["IMG_1.jpg"])
	}
	d.do("le_liaison", "POST", path+"/retract", map[string]any{"reason": "late"}, 409)
	list := d.do("le_liaison", "GET", "/v1/le-reports?state=acknowledged", nil, 200)
	if rs := list["reports"].([]any); len(rs) != 1 {
		t.Errorf("acknowledged reports %v", rs)
	}

	// The package opens with the hotline's key, and its files are the
	// preserved content.
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	pkg := d.raw("le_liaison", "POST", path+"/package", map[string]any{"recipient_key": base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes())}, 200)
	c, err := hotline.Open(bytes.NewReader(pkg.Body.Bytes()), int64(pkg.Body.Len()), priv)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	if err := c.Decrypt(&got, hotline.FileMember(item.ID)); err != nil || got.String() != "JPEG-BYTES-OF-POST-1" || pkg.Header().Get("X-Manifest-SHA256") == "" {
		t.Errorf("package file %q, %v", got.String(), err)
	}

	// Chain of custody: every read of the item is in the log with its
	// purpose, by the key that made it.
	purposes := map[string]string{}
	for e, err := range d.log.AuditEntries(context.Background(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Action == "evidence.read" && e.Subject == item.ID {
			var det map[string]string
			json.Unmarshal(e.Detail, &det)
			purposes[det["purpose"]] = e.Actor
			if det["sha256"] != item.SHA256.String() {
				t.Errorf("read entry %s lacks the SHA-256", e.Detail)
			}
		}
	}
	for p, who := range map[string]string{"report": "le_liaison", "view": "reviewer", "submit": "le_liaison", "package": "le_liaison"} {
		if purposes[p] != d.ids[who] {
			t.Errorf("evidence.read with purpose %s by %q, want %s's key (all: %v)", p, purposes[p], who, purposes)
		}
	}
	aud := d.audited()
	for _, want := range []string{"lereport.create", "lereport.ready", "lereport.submit", "lereport.file", "lereport.finish", "lereport.package"} {
		if !slices.ContainsFunc(aud, func(s string) bool { return strings.Contains(s, " "+want+" ") }) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

// TestLEReportInterruptedAndRetracted: a submission the recipient cuts
// short is answered 502 and leaves the report submitted; retracting it
// retracts it at the recipient. A draft is retracted here only.
func TestLEReportInterruptedAndRetracted(t *testing.T) {
	d, _, tip, item := leDesk(t)
	rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u", "category": "suspected_csam", "content_id": "post-1"}, 201)
	d.do("reviewer", "POST", fmt.Sprintf("/v1/cases/%d/decision", num(rep["case_id"])), map[string]any{"verdict": "confirm", "classification": "A2", "actions": []string{"remove"}}, 200)
	create := map[string]any{"case_id": num(rep["case_id"]), "document": leDocument(string(lereport.ChildPornography)),
		"files": []map[string]any{{"evidence_id": item.ID}}}
	one := d.do("le_liaison", "POST", "/v1/le-reports", create, 201)
	two := d.do("le_liaison", "POST", "/v1/le-reports", create, 201)

	d.do("le_liaison", "POST", fmt.Sprintf("/v1/le-reports/%v/retract", one["id"]), map[string]any{}, 400)
	r := d.do("le_liaison", "POST", fmt.Sprintf("/v1/le-reports/%v/retract", one["id"]), map[string]any{"reason": "duplicate"}, 200)
	if r["state"] != "retracted" || len(tip.calls) != 0 {
		t.Errorf("retracted draft %v; tipline calls %v", r, tip.calls)
	}
	d.do("le_liaison", "POST", fmt.Sprintf("/v1/le-reports/%v/package", one["id"]), map[string]any{"recipient_key": base64.StdEncoding.EncodeToString(make([]byte, 32))}, 409)

	path := fmt.Sprintf("/v1/le-reports/%v", two["id"])
	d.do("le_liaison", "POST", path+"/submit", nil, 409) // a draft
	d.do("le_liaison", "POST", path+"/ready", nil, 200)
	tip.failFinish = 1
	e := d.do("le_liaison", "POST", path+"/submit", nil, 502)
	if !strings.Contains(fmt.Sprint(e), "recipient_error") || !strings.Contains(fmt.Sprint(e), "try later") {
		t.Errorf("refused finish: %v", e)
	}
	if got := d.do("le_liaison", "GET", path, nil, 200); got["state"] != "submitted" || got["recipient_report_id"] != "7700" {
		t.Errorf("after the refused finish: %v", got)
	}
	r = d.do("le_liaison", "POST", path+"/retract", map[string]any{"reason": "sent in error"}, 200)
	want := []string{"submit", "upload 7700 " + item.ID, "fileinfo viewed=false", "finish 7700 (refused)", "retract 7700"}
	if r["state"] != "retracted" || !slices.Equal(tip.calls, want) {
		t.Errorf("retracted %v; tipline calls %v, want %v", r["state"], tip.calls, want)
	}
}

// TestLEReportHotline: a report for a hotline is submitted by downloading
// its package, acknowledged with the hotline's reference, never sent to
// the CyberTipline.
func TestLEReportHotline(t *testing.T) {
	d, _, tip, item := leDesk(t)
	rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u", "category": "suspected_csam", "content_id": "post-1"}, 201)
	d.do("reviewer", "POST", fmt.Sprintf("/v1/cases/%d/decision", num(rep["case_id"])), map[string]any{"verdict": "confirm", "classification": "B1", "actions": []string{"remove"}}, 200)
	d.do("le_liaison", "POST", "/v1/le-reports", map[string]any{"case_id": num(rep["case_id"]), "recipient": "Bad Name!"}, 400)
	draft := d.do("le_liaison", "POST", "/v1/le-reports", map[string]any{"case_id": num(rep["case_id"]), "recipient": "inhope-de",
		"document": leDocument(string(lereport.ChildPornography)), "files": []map[string]any{{"evidence_id": item.ID}}}, 201)
	path := fmt.Sprintf("/v1/le-reports/%v", draft["id"])
	d.do("le_liaison", "POST", path+"/ready", nil, 200)
	d.do("le_liaison", "POST", path+"/submit", nil, 409)
	d.do("le_liaison", "POST", path+"/acknowledge", map[string]any{"recipient_report_id": "DE-1"}, 409) // not yet submitted

	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	pkg := d.raw("le_liaison", "POST", path+"/package", map[string]any{"recipient_key": base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes())}, 200)
	if _, err := hotline.Verify(bytes.NewReader(pkg.Body.Bytes()), int64(pkg.Body.Len())); err != nil {
		t.Fatalf("package does not verify: %v", err)
	}
	if got := d.do("le_liaison", "GET", path, nil, 200); got["state"] != "submitted" {
		t.Errorf("after the package: %v", got["state"])
	}
	d.do("le_liaison", "POST", path+"/acknowledge", map[string]any{"recipient_report_id": " "}, 400)
	ack := d.do("le_liaison", "POST", path+"/acknowledge", map[string]any{"recipient_report_id": "DE-2026-118"}, 200)
	if ack["state"] != "acknowledged" || ack["recipient_report_id"] != "DE-2026-118" || len(tip.calls) != 0 {
		t.Errorf("acknowledged %v; tipline calls %v", ack, tip.calls)
	}
	d.do("le_liaison", "POST", path+"/retract", map[string]any{"reason": "late"}, 409)
}

func maps(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestEvidenceHoldRoutes(t *testing.T) {
	d, _, _, item := leDesk(t)
	path := "/v1/evidence/" + item.ID
	got := d.do("le_liaison", "GET", path, nil, 200)
	hold := got["hold"].(map[string]any)
	want := item.Created.Add(evidence.DefaultHold).Format(time.RFC3339Nano)
	if hold["until"] != want || got["item"].(map[string]any)["sha256"] != item.SHA256.String() {
		t.Errorf("evidence %v, want held until %s", got, want)
	}
	d.do("reviewer", "GET", path, nil, 403)
	d.do("le_liaison", "GET", "/v1/evidence/"+strings.Repeat("0", 32), nil, 404)
	d.do("le_liaison", "GET", "/v1/evidence/..%2f..%2fetc", nil, 404)

	later := item.Created.Add(2 * evidence.DefaultHold).UTC()
	d.do("le_liaison", "POST", path+"/hold", map[string]any{"until": later, "requested_by": "FBI"}, 400)
	d.do("le_liaison", "POST", path+"/hold", map[string]any{"until": item.Created, "requested_by": "FBI", "why": "x"}, 409)
	h := d.do("le_liaison", "POST", path+"/hold", map[string]any{"until": later, "requested_by": "FBI", "why": "preservation letter 12"}, 200)
	if h["until"] != later.Format(time.RFC3339Nano) || len(h["extensions"].([]any)) != 1 {
		t.Errorf("extended hold %v", h)
	}
	if !slices.Contains(d.audited(), d.ids["le_liaison"]+" evidence.hold "+item.ID) {
		t.Errorf("audit log %v lacks the extension", d.audited())
	}

	// Deletion: refused while held (past the first term, within the
	// extension), allowed and audited after.
	d.do("le_liaison", "DELETE", path, map[string]any{}, 400)
	d.clock.Advance(evidence.DefaultHold + time.Hour)
	if e := d.do("le_liaison", "DELETE", path, map[string]any{"why": "retention over"}, 409); !strings.Contains(fmt.Sprint(e), "held") {
		t.Errorf("delete during the hold: %v", e)
	}
	d.do("reviewer", "DELETE", path, map[string]any{"why": "retention over"}, 403)
	d.clock.Advance(evidence.DefaultHold)
	d.raw("le_liaison", "DELETE", path, map[string]any{"why": "retention over"}, 204)
	d.do("le_liaison", "GET", path, nil, 404)
	aud := d.audited()
	for _, want := range []string{
		d.ids["le_liaison"] + " evidence.delete " + item.ID,
		d.ids["reviewer"] + " access.denied DELETE " + path,
		d.ids["reviewer"] + " access.denied GET " + path,
	} {
		if !slices.Contains(aud, want) {
			t.Errorf("audit log %v lacks %q", aud, want)
		}
	}
}

// TestLEReportsUnavailable: without their store or a CyberTipline
// account, the routes say so.
func TestLEReportsUnavailable(t *testing.T) {
	d := newDesk(t)
	d.do("le_liaison", "GET", "/v1/le-reports", nil, 503)
	d.do("le_liaison", "POST", "/v1/evidence/"+strings.Repeat("a", 32)+"/hold", map[string]any{"until": time.Now(), "requested_by": "x", "why": "y"}, 503)

	kr, _ := evidence.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	ev, err := evidence.Open(t.TempDir(), kr)
	if err != nil {
		t.Fatal(err)
	}
	d = newDesk(t, func(c *api.Config) { c.Evidence, c.LEReports = ev, new(lereporttest.Memory) })
	e := d.do("le_liaison", "POST", "/v1/le-reports/1/submit", nil, 503)
	if !strings.Contains(fmt.Sprint(e), "SAFEGUARD_CYBERTIP_URL") {
		t.Errorf("submit without an account: %v", e)
	}
}

// FuzzLERequests sends arbitrary bodies to the law-enforcement routes that
// read them, over a confirmed case with a draft report: no answer may be a
// 5xx, and every error must be the JSON error form.
func FuzzLERequests(f *testing.F) {
	f.Add(uint8(0), []byte(`{"case_id":1,"document":{"incidentSummary":{"incidentType":"Bogus"}},"files":[{"evidence_id":"x"}]}`))
	f.Add(uint8(1), []byte(`{"document":{"personOrUserReported":{"ipCaptureEvent":[{"ipAddress":"::1"}]}}}`))
	f.Add(uint8(2), []byte(`{"reason":"mistake"}`))
	f.Add(uint8(3), []byte(`{"recipient_key":"AAAA"}`))
	f.Add(uint8(4), []byte(`{"until":"2030-01-01T00:00:00Z","requested_by":"FBI","why":"x"}`))
	f.Add(uint8(5), []byte(`{"why":"over"}`))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		d, _, _, item := leDesk(t)
		rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u", "category": "suspected_csam", "content_id": "post-1"}, 201)
		d.do("reviewer", "POST", fmt.Sprintf("/v1/cases/%d/decision", num(rep["case_id"])), map[string]any{"verdict": "confirm", "classification": "A1", "actions": []string{"remove"}}, 200)
		d.do("le_liaison", "POST", "/v1/le-reports", map[string]any{"case_id": num(rep["case_id"]), "document": leDocument(string(lereport.ChildPornography)),
			"files": []map[string]any{{"evidence_id": item.ID}}}, 201)
		routes := []string{"POST /v1/le-reports", "PUT /v1/le-reports/1", "POST /v1/le-reports/1/retract", "POST /v1/le-reports/1/package",
			"POST /v1/evidence/" + item.ID + "/hold", "DELETE /v1/evidence/" + item.ID}
		method, path, _ := strings.Cut(routes[int(route)%len(routes)], " ")
		r := httptest.NewRequest(method, path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+d.secrets["le_liaison"])
		rec := httptest.NewRecorder()
		d.api.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
				t.Fatalf("%s %s: %d with body %q", method, path, rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkLEReportFlow measures a report from draft to acknowledged (one
// file, an in-memory tipline) with an audit log of 100,000 other entries
// before it: Ready and the draft ask the log who viewed each file, which
// AuditViews answers by reading all of it.
func BenchmarkLEReportFlow(b *testing.B) {
	d, _, _, item := leDesk(b)
	ctx := context.Background()
	for i := range 100_000 {
		if _, err := audit.NewLog(d.log).Record(ctx, "system", "scan.decision", fmt.Sprint("post-", i), nil); err != nil {
			b.Fatal(err)
		}
	}
	rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u", "category": "suspected_csam", "content_id": "post-1"}, 201)
	d.do("reviewer", "POST", fmt.Sprintf("/v1/cases/%d/decision", num(rep["case_id"])), map[string]any{"verdict": "confirm", "classification": "A1", "actions": []string{"remove"}}, 200)
	create := map[string]any{"case_id": num(rep["case_id"]), "document": leDocument(string(lereport.ChildPornography)),
		"files": []map[string]any{{"evidence_id": item.ID}}}
	b.ResetTimer()
	for b.Loop() {
		draft := d.do("le_liaison", "POST", "/v1/le-reports", create, 201)
		path := fmt.Sprintf("/v1/le-reports/%v", draft["id"])
		d.do("le_liaison", "POST", path+"/ready", nil, 200)
		d.do("le_liaison", "POST", path+"/submit", nil, 200)
	}
}
