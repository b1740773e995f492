package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
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
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/testkit"
	"github.com/safeguard-oss/safeguard/internal/webhook"
	"github.com/safeguard-oss/safeguard/internal/webhook/webhooktest"
)

// desk is the review API over in-memory stores with a fake clock, and a
// key (secret and id) per name: one per role, plus a second reviewer and
// a second flagger.
type desk struct {
	t       testing.TB
	api     *api.API
	log     *audittest.Memory
	outbox  *webhooktest.Memory
	clock   *testkit.Clock
	secrets map[string]string
	ids     map[string]string
}

func newDesk(t testing.TB, opts ...func(*api.Config)) *desk {
	t.Helper()
	ctx := context.Background()
	keys := new(authtest.Memory)
	d := &desk{t: t, log: new(audittest.Memory), outbox: new(webhooktest.Memory),
		clock: testkit.NewClock(time.Now().UTC().Truncate(time.Second)), secrets: map[string]string{}, ids: map[string]string{}}
	names := map[string]auth.Role{"reviewer2": auth.Reviewer, "flagger2": auth.Flagger}
	for _, r := range auth.Roles() {
		names[string(r)] = r
	}
	for name, role := range names {
		secret, k, err := auth.Create(ctx, keys, role, name, "test")
		if err != nil {
			t.Fatal(err)
		}
		d.secrets[name], d.ids[name] = secret, k.ID
	}
	if err := d.outbox.CreateWebhook(ctx, webhook.Endpoint{Name: "review", URL: "http://127.0.0.1:9/", Secret: "whsec_0123456789abcdef", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	mem := new(reviewtest.Memory)
	log := audit.NewLog(d.log)
	cfg := api.Config{
		Keys: keys, Webhooks: d.outbox, Audit: d.log, Log: log,
		Review:        review.NewDesk(mem, mem, review.Config{Now: d.clock.Now}),
		ReviewWebhook: "review", Now: d.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	d.api = api.New(cfg)
	return d
}

// do sends a JSON request as the key called who and decodes the answer,
// failing the test unless the status is want.
func (d *desk) do(who, method, path string, body any, want int) map[string]any {
	d.t.Helper()
	var r *http.Request
	switch b := body.(type) {
	case nil:
		r = httptest.NewRequest(method, path, nil)
	case string:
		r = httptest.NewRequest(method, path, strings.NewReader(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			d.t.Fatal(err)
		}
		r = httptest.NewRequest(method, path, bytes.NewReader(j))
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+d.secrets[who])
	rec := httptest.NewRecorder()
	d.api.ServeHTTP(rec, r)
	if rec.Code != want {
		d.t.Fatalf("%s %s as %s: %d %s, want %d", method, path, who, rec.Code, rec.Body, want)
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		d.t.Fatalf("%s %s: %s: %v", method, path, rec.Body, err)
	}
	return out
}

// audited returns the audit log's entries as "actor action subject".
func (d *desk) audited() []string {
	var out []string
	for e, err := range d.log.AuditEntries(context.Background(), 1) {
		if err != nil {
			d.t.Fatal(err)
		}
		out = append(out, e.Actor+" "+e.Action+" "+e.Subject)
	}
	return out
}

// events returns the kinds of the review events queued for the webhook.
func (d *desk) events() []string {
	ds, err := d.outbox.DueDeliveries(context.Background(), time.Now().Add(time.Hour), time.Second, 1000, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	var out []string
	for _, x := range ds {
		if x.Webhook != "review" {
			d.t.Errorf("delivery to %q, want review", x.Webhook)
		}
		out = append(out, x.Event)
	}
	slices.Sort(out)
	return out
}

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

func TestReviewWorkflow(t *testing.T) {
	d := newDesk(t)
	// A user's report through the platform, then a flagger's about the
	// same post: one case, in the suspected-CSAM queue.
	user := d.do("integrator", "POST", "/v1/reports", map[string]any{
		"reporter": "user-81", "category": "sexualised_child", "content_id": "post-1", "account_id": "acct-9",
		"reach": map[string]any{"visibility": "public", "audience": 5000},
	}, 201)
	if user["source"] != "user" || user["reporter"] != "user-81" || user["status"] != "received" {
		t.Errorf("user's report: %v", user)
	}
	fl := d.do("flagger", "POST", "/v1/reports", map[string]any{"category": "suspected_csam", "content_id": "post-1", "minor_suspected": true}, 201)
	if fl["source"] != "flagger" || fl["reporter"] != d.ids["flagger"] || fl["case_id"] != user["case_id"] {
		t.Errorf("flagger's report: %v, want source flagger, reporter %s, case %v", fl, d.ids["flagger"], user["case_id"])
	}
	// A less severe case in the same queue, filed in bulk.
	bulk := d.do("flagger", "POST", "/v1/reports/bulk", map[string]any{"reports": []map[string]any{
		{"category": "suspected_csam", "content_id": "post-2"},
		{"category": "grooming", "account_id": "acct-3", "text": "asks a child to move to a private app"},
	}}, 201)
	if rs, _ := bulk["reports"].([]any); len(rs) != 2 {
		t.Fatalf("bulk: %v", bulk)
	}

	qs := d.do("reviewer", "GET", "/v1/queues", nil, 200)["queues"].([]any)
	counts := map[string]int64{}
	for _, q := range qs {
		q := q.(map[string]any)
		counts[q["queue"].(string)] = num(q["cases"])
		if q["queue"] == "suspected_csam" && num(q["target_seconds"]) != 3600 {
			t.Errorf("suspected_csam target %v, want 3600", q["target_seconds"])
		}
	}
	if counts["suspected_csam"] != 2 || counts["grooming"] != 1 || len(qs) != len(review.Queues()) {
		t.Errorf("queues: %v", qs)
	}

	d.clock.Advance(30 * time.Minute)
	q := d.do("auditor", "GET", "/v1/queues/suspected_csam", nil, 200)
	cs := q["cases"].([]any)
	first := cs[0].(map[string]any)
	if len(cs) != 2 || num(first["case"].(map[string]any)["id"]) != num(user["case_id"]) {
		t.Fatalf("queue order: %v, want case %v first", q, user["case_id"])
	}
	if s0, s1 := num(first["priority"].(map[string]any)["score"]), num(cs[1].(map[string]any)["priority"].(map[string]any)["score"]); s0 <= s1 {
		t.Errorf("scores %d then %d: not highest first", s0, s1)
	}
	if due := num(first["due_in_seconds"]); due != 30*60 {
		t.Errorf("due in %ds, want 1800", due)
	}

	caseID := num(user["case_id"])
	view := d.do("reviewer", "GET", fmt.Sprintf("/v1/cases/%d", caseID), nil, 200)
	if rs := view["reports"].([]any); len(rs) != 2 {
		t.Errorf("case reports: %v", rs)
	}
	var factors []string
	for _, c := range view["priority"].(map[string]any)["breakdown"].([]any) {
		factors = append(factors, c.(map[string]any)["factor"].(string))
	}
	for _, f := range []string{"severity", "minor_suspected", "visibility", "audience", "flagger", "reporters", "waiting"} {
		if !slices.Contains(factors, f) {
			t.Errorf("breakdown %v lacks %s", factors, f)
		}
	}

	dec := d.do("reviewer", "POST", fmt.Sprintf("/v1/cases/%d/decision", caseID),
		map[string]any{"verdict": "confirm", "classification": "B2", "actions": []string{"remove", "bank"}}, 200)
	if c := dec["case"].(map[string]any); c["state"] != "decided" {
		t.Errorf("decided case: %v", c)
	}
	for _, id := range []any{user["id"], fl["id"]} {
		if st := d.do("integrator", "GET", fmt.Sprintf("/v1/reports/%v", id), nil, 200); st["status"] != "actioned" || st["decided_at"] == nil {
			t.Errorf("report %v after confirmation: %v", id, st)
		}
	}
	// The flagger reads its own report, not the user's.
	d.do("flagger", "GET", fmt.Sprintf("/v1/reports/%v", fl["id"]), nil, 200)
	d.do("flagger", "GET", fmt.Sprintf("/v1/reports/%v", user["id"]), nil, 404)
	d.do("flagger2", "GET", fmt.Sprintf("/v1/reports/%v", fl["id"]), nil, 404)

	wantEvents := []string{"bank.add", "content.remove", "report.outcome", "report.outcome"}
	if got := d.events(); !slices.Equal(got, wantEvents) {
		t.Errorf("events %v, want %v", got, wantEvents)
	}
	aud := d.audited()
	for _, want := range []string{
		d.ids["integrator"] + " report.create report:1",
		d.ids["flagger"] + " report.create report:2",
		d.ids["reviewer"] + " case.view " + fmt.Sprintf("case:%d", caseID),
		d.ids["reviewer"] + " case.decide " + fmt.Sprintf("case:%d", caseID),
	} {
		if !slices.Contains(aud, want) {
			t.Errorf("audit log %q lacks %q", aud, want)
		}
	}

	stats := d.do("auditor", "GET", "/v1/stats", nil, 200)["rows"].([]any)
	rows := map[string]map[string]any{}
	for _, r := range stats {
		r := r.(map[string]any)
		rows[r["category"].(string)+"/"+r["source"].(string)] = r
	}
	if r := rows["suspected_csam/flagger"]; num(r["received"]) != 2 || num(r["actioned"]) != 1 || r["share_actioned"] != 0.5 || r["median_seconds"] != 1800.0 {
		t.Errorf("stats suspected_csam/flagger: %v", r)
	}
	if r := rows["sexualised_child/user"]; num(r["received"]) != 1 || r["share_actioned"] != 1.0 || r["p90_seconds"] != 1800.0 {
		t.Errorf("stats sexualised_child/user: %v", r)
	}
}

func TestFlaggerDismissalNeedsSecondReviewer(t *testing.T) {
	d := newDesk(t)
	rep := d.do("flagger", "POST", "/v1/reports", map[string]any{"category": "grooming", "account_id": "acct-1"}, 201)
	path := fmt.Sprintf("/v1/cases/%v/decision", rep["case_id"])
	dismiss := map[string]any{"verdict": "dismiss", "reason": "an adult's account, no child involved"}
	if c := d.do("reviewer", "POST", path, dismiss, 200)["case"].(map[string]any); c["state"] != "pending_second" {
		t.Errorf("after the first dismissal: state %v", c["state"])
	}
	if st := d.do("flagger", "GET", fmt.Sprintf("/v1/reports/%v", rep["id"]), nil, 200); st["status"] != "in_review" {
		t.Errorf("status %v, want in_review", st["status"])
	}
	e := d.do("reviewer", "POST", path, dismiss, 409)["error"].(map[string]any)
	if e["code"] != "second_reviewer" || !strings.Contains(e["message"].(string), "second reviewer") {
		t.Errorf("same reviewer again: %v", e)
	}
	// A reviewer who read the case before the first dismissal is told it
	// changed.
	stale := map[string]any{"verdict": "dismiss", "reason": "r", "version": 1}
	if e := d.do("reviewer2", "POST", path, stale, 409)["error"].(map[string]any); !strings.Contains(e["message"].(string), "changed since version 1") {
		t.Errorf("stale decision: %v", e)
	}
	d.do("reviewer2", "POST", path, dismiss, 200)
	if st := d.do("flagger", "GET", fmt.Sprintf("/v1/reports/%v", rep["id"]), nil, 200); st["status"] != "no_action" {
		t.Errorf("status %v, want no_action", st["status"])
	}
	d.do("reviewer2", "POST", path, dismiss, 409)
	if got := d.events(); !slices.Equal(got, []string{"report.outcome"}) {
		t.Errorf("events %v, want one report.outcome", got)
	}
}

func TestAppeal(t *testing.T) {
	d := newDesk(t)
	rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u1", "category": "other", "content_id": "p1"}, 201)
	cs := fmt.Sprintf("/v1/cases/%v", rep["case_id"])
	appeal := map[string]any{"appellant": "acct-uploader", "reason": "it is my own drawing"}
	if e := d.do("integrator", "POST", cs+"/appeal", appeal, 409)["error"].(map[string]any); e["code"] != "wrong_state" {
		t.Errorf("appeal of an open case: %v", e)
	}
	d.do("reviewer", "POST", cs+"/decision", map[string]any{"verdict": "confirm", "actions": []string{"restrict"}}, 200)
	d.do("flagger", "POST", cs+"/appeal", appeal, 403)
	a := d.do("integrator", "POST", cs+"/appeal", appeal, 200)
	if a["queue"] != "appeals" || a["state"] != "appealed" {
		t.Errorf("appeal: %v", a)
	}
	if n := d.do("reviewer", "GET", "/v1/queues/appeals", nil, 200)["total"]; num(n) != 1 {
		t.Errorf("appeals queue holds %v", n)
	}
	d.do("reviewer", "POST", cs+"/decision", map[string]any{"verdict": "dismiss", "reason": "r"}, 409)
	d.do("reviewer2", "POST", cs+"/decision", map[string]any{"verdict": "dismiss", "reason": "a drawing of an adult"}, 200)
	if st := d.do("integrator", "GET", fmt.Sprintf("/v1/reports/%v", rep["id"]), nil, 200); st["status"] != "no_action" {
		t.Errorf("status after the appeal was upheld: %v", st["status"])
	}
	if got := d.events(); !slices.Contains(got, "content.reinstate") {
		t.Errorf("events %v lack content.reinstate", got)
	}
	if aud := d.audited(); !slices.Contains(aud, d.ids["integrator"]+" case.appeal case:1") {
		t.Errorf("audit %q lacks the appeal", aud)
	}
}

func TestReviewBadInput(t *testing.T) {
	d := newDesk(t)
	rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u1", "category": "other", "content_id": "p1"}, 201)
	cs := fmt.Sprintf("/v1/cases/%v", rep["case_id"])
	tests := []struct {
		name, who, method, path string
		body                    any
		status                  int
		code, says              string
	}{
		{"unknown category", "integrator", "POST", "/v1/reports", map[string]any{"reporter": "u", "category": "spam", "content_id": "p"}, 400, "invalid_report", "unknown category"},
		{"no target", "integrator", "POST", "/v1/reports", map[string]any{"reporter": "u", "category": "other"}, 400, "invalid_report", "no target"},
		{"no reporter", "integrator", "POST", "/v1/reports", map[string]any{"category": "other", "content_id": "p"}, 400, "invalid_report", "reporter is required"},
		{"oversized text", "integrator", "POST", "/v1/reports", map[string]any{"reporter": "u", "category": "other", "content_id": "p", "text": strings.Repeat("x", review.MaxText+1)}, 400, "invalid_report", "text is 8193 bytes"},
		{"unknown field", "integrator", "POST", "/v1/reports", `{"reporter":"u","category":"other","content_id":"p","priority":100}`, 400, "bad_request", "unknown field"},
		{"bad pdq", "integrator", "POST", "/v1/reports", `{"reporter":"u","category":"other","hashes":{"pdq":"zz"}}`, 400, "bad_request", "pdq"},
		{"flagger names a reporter", "flagger", "POST", "/v1/reports", map[string]any{"reporter": "someone", "category": "other", "content_id": "p"}, 400, "invalid_report", "reports as its key"},
		{"auditor files", "auditor", "POST", "/v1/reports", map[string]any{"category": "other", "content_id": "p"}, 403, "forbidden", "reports.create"},
		{"bulk by the platform", "integrator", "POST", "/v1/reports/bulk", map[string]any{"reports": []any{}}, 403, "forbidden", "trusted flaggers"},
		{"bulk with bad items", "flagger", "POST", "/v1/reports/bulk", map[string]any{"reports": []any{
			map[string]any{"category": "other", "content_id": "ok"}, map[string]any{"category": "nope", "content_id": "x"}, map[string]any{"category": "other"}}},
			400, "invalid_report", "item 1: report: unknown category \"nope\": want one of"},
		{"empty bulk", "flagger", "POST", "/v1/reports/bulk", map[string]any{"reports": []any{}}, 400, "invalid_report", "no reports"},
		{"no such report", "integrator", "GET", "/v1/reports/999", nil, 404, "not_found", "report 999"},
		{"bad report id", "integrator", "GET", "/v1/reports/x", nil, 400, "bad_request", "positive integer"},
		{"no such case", "reviewer", "GET", "/v1/cases/999", nil, 404, "not_found", "case 999"},
		{"no such queue", "reviewer", "GET", "/v1/queues/spam", nil, 404, "not_found", "no queue"},
		{"bad limit", "reviewer", "GET", "/v1/queues/other?limit=0", nil, 400, "bad_request", "limit"},
		{"bad since", "reviewer", "GET", "/v1/stats?since=yesterday", nil, 400, "bad_request", "RFC 3339"},
		{"flagger reads queues", "flagger", "GET", "/v1/queues", nil, 403, "forbidden", "review.read"},
		{"auditor decides", "auditor", "POST", cs + "/decision", map[string]any{"verdict": "dismiss", "reason": "r"}, 403, "forbidden", "review"},
		{"decision on no case", "reviewer", "POST", "/v1/cases/999/decision", map[string]any{"verdict": "dismiss", "reason": "r"}, 404, "not_found", "case 999"},
		{"unknown verdict", "reviewer", "POST", cs + "/decision", map[string]any{"verdict": "maybe"}, 400, "invalid_decision", "unknown verdict"},
		{"confirm without takedown", "reviewer", "POST", cs + "/decision", map[string]any{"verdict": "confirm"}, 400, "invalid_decision", "exactly one of remove and restrict"},
		{"forged reviewer", "reviewer", "POST", cs + "/decision", `{"verdict":"dismiss","reason":"r","reviewer":"someone-else"}`, 400, "bad_request", "unknown field"},
		{"appeal without appellant", "integrator", "POST", cs + "/appeal", map[string]any{"reason": "r"}, 400, "invalid_decision", "appellant is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.t = t
			e := d.do(tt.who, tt.method, tt.path, tt.body, tt.status)["error"].(map[string]any)
			if e["code"] != tt.code || !strings.Contains(e["message"].(string), tt.says) {
				t.Errorf("error %v, want code %s saying %q", e, tt.code, tt.says)
			}
		})
	}
	d.t = t
	// Nothing refused was filed: the one good report is all there is.
	if stats := d.do("reviewer", "GET", "/v1/stats", nil, 200)["rows"].([]any); len(stats) != 1 || num(stats[0].(map[string]any)["received"]) != 1 {
		t.Errorf("stats after refusals: %v", stats)
	}
}

func TestEscalate(t *testing.T) {
	d := newDesk(t)
	d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u1", "category": "suspected_csam", "content_id": "p1"}, 201)
	d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u1", "category": "other", "content_id": "p2"}, 201)
	ctx := context.Background()
	if n, err := d.api.Review().Escalate(ctx); err != nil || n != 0 {
		t.Fatalf("Escalate before any target: %d, %v", n, err)
	}
	d.clock.Advance(61 * time.Minute)
	if n, err := d.api.Review().Escalate(ctx); err != nil || n != 1 {
		t.Fatalf("Escalate after an hour: %d, %v; want 1", n, err)
	}
	if n, err := d.api.Review().Escalate(ctx); err != nil || n != 0 {
		t.Errorf("Escalate again: %d, %v; want 0 (once per case)", n, err)
	}
	if got := d.events(); !slices.Equal(got, []string{"case.escalated"}) {
		t.Errorf("events %v", got)
	}
	if aud := d.audited(); !slices.Contains(aud, "system case.escalate case:1") {
		t.Errorf("audit %q lacks the escalation", aud)
	}
	q := d.do("reviewer", "GET", "/v1/queues", nil, 200)["queues"].([]any)
	if s := q[1].(map[string]any); s["queue"] != "suspected_csam" || num(s["overdue"]) != 1 || s["next_due"] != nil {
		t.Errorf("suspected_csam after its hour: %v", s)
	}
}

func TestEnqueueFromScan(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	m := match.Match{Bank: "known", EntryID: 7, Signal: bank.PDQ, Distance: 12}
	rec := scan.Record{ID: "scn_1", ContentID: "post-5", AccountID: "acct-5", Visibility: "public",
		PDQ: strings.Repeat("ab", 32), SHA256: strings.Repeat("0", 64), Matches: []match.Match{m}}
	act := rules.Decided{Action: rules.Action{Kind: rules.Enqueue, Priority: 80}, Rule: rules.RuleRef{ID: 3, Version: 1, Name: "known"}, Match: m}
	if err := d.api.Review().Enqueue(ctx, rec, act); err != nil {
		t.Fatal(err)
	}
	q := d.do("reviewer", "GET", "/v1/queues/known_csam", nil, 200)
	cs := q["cases"].([]any)
	if len(cs) != 1 {
		t.Fatalf("known_csam queue: %v", q)
	}
	c := cs[0].(map[string]any)["case"].(map[string]any)
	sig := c["signals"].(map[string]any)
	if !slices.Equal(c["content_ids"].([]any), []any{"post-5"}) || num(sig["rule_priority"]) != 80 || len(sig["matches"].([]any)) != 1 {
		t.Errorf("case from the rule: %v", c)
	}
	if aud := d.audited(); !slices.Equal(aud, []string{"system report.create report:1"}) {
		t.Errorf("audit %q", aud)
	}
	// An exact match of known CSAM is acted on with no reviewer.
	exact := act
	exact.Match.Distance = 0
	rec2 := rec
	rec2.ID, rec2.ContentID, rec2.Matches = "scn_2", "post-6", []match.Match{exact.Match}
	if err := d.api.Review().Enqueue(ctx, rec2, exact); err != nil {
		t.Fatal(err)
	}
	if n := num(d.do("reviewer", "GET", "/v1/queues/known_csam", nil, 200)["total"]); n != 1 {
		t.Errorf("known_csam queue holds %d after an exact match, want 1", n)
	}
	// A computed exact match is removed at once; a law-enforcement report
	// waits for a person.
	if got := d.events(); !slices.Contains(got, "content.remove") || slices.Contains(got, "le.report") {
		t.Errorf("events %v, want the automatic decision's removal and no le.report", got)
	}
}

func TestReviewUnavailable(t *testing.T) {
	keys := new(authtest.Memory)
	secret, _, err := auth.Create(context.Background(), keys, auth.Reviewer, "r", "test")
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Config{Keys: keys})
	r := httptest.NewRequest("GET", "/v1/queues", nil)
	r.Header.Set("Authorization", "Bearer "+secret)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, r)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "review is not available") {
		t.Errorf("%d %s, want 503", rec.Code, rec.Body)
	}
}

// FuzzReviewRequests sends arbitrary bodies to the review routes that read
// outside input, each with a key allowed to call it: no answer may be a
// 5xx, every error must be the JSON error form, and a report accepted must
// be readable with what was answered.
func FuzzReviewRequests(f *testing.F) {
	d := newDesk(f, func(c *api.Config) { c.Hasher = &hasher.Hasher{} })
	d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u", "category": "other", "content_id": "p"}, 201)
	routes := []struct{ who, path, ctype string }{
		{"integrator", "/v1/reports", "application/json"}, {"flagger", "/v1/reports", "application/json"},
		{"flagger", "/v1/reports/bulk", "application/json"},
		{"reviewer", "/v1/cases/1/decision", "application/json"}, {"integrator", "/v1/cases/1/appeal", "application/json"},
		{"integrator", "/v1/reports", "multipart/form-data; boundary=xyz"},
	}
	f.Add(uint8(0), []byte(`{"reporter":"u1","category":"grooming","account_id":"a","hashes":{"pdq":"`+strings.Repeat("0f", 32)+`","md5":"`+strings.Repeat("a", 32)+`"}}`))
	f.Add(uint8(1), []byte(`{"category":"known_csam","content_id":"c","reach":{"visibility":"public","audience":-1}}`))
	f.Add(uint8(2), []byte(`{"reports":[{"category":"other","content_id":"x"},{"category":"other"}]}`))
	f.Add(uint8(3), []byte(`{"verdict":"confirm","actions":["remove","bank"],"classification":"A1"}`))
	f.Add(uint8(4), []byte(`{"appellant":"acct","reason":"mine"}`))
	f.Add(uint8(5), []byte("--xyz\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n"+
		`{"reporter":"u","category":"other","content_id":"p"}`+"\r\n--xyz\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nGIF89a\r\n--xyz--\r\n"))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		req := httptest.NewRequest("POST", rt.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", rt.ctype)
		req.Header.Set("Authorization", "Bearer "+d.secrets[rt.who])
		rec := httptest.NewRecorder()
		d.api.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", rt.path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("POST %s: %d with body %q", rt.path, rec.Code, rec.Body)
			}
			return
		}
		if rt.path != "/v1/reports" {
			return
		}
		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		d.t = t
		again := d.do(rt.who, "GET", fmt.Sprintf("/v1/reports/%v", got["id"]), nil, 200)
		if again["case_id"] != got["case_id"] || again["category"] != got["category"] || again["reporter"] != got["reporter"] {
			t.Errorf("filed %v, read back %v", got, again)
		}
	})
}

// TestBankAdd checks that a confirmation with the bank action puts the
// case's hashes in the service's own bank, so the next report or scan of
// a near-duplicate matches it.
func TestBankAdd(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := match.New(st)
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d := newDesk(t, func(c *api.Config) { c.Banks, c.Matcher, c.ReviewBank = st, m, "confirmed" })
	h := strings.Repeat("5a", 32)
	sha := strings.Repeat("1f", 32)
	rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u1", "category": "suspected_csam", "content_id": "p1",
		"hashes": map[string]any{"pdq": h, "sha256": sha}}, 201)
	d.do("reviewer", "POST", fmt.Sprintf("/v1/cases/%v/decision", rep["case_id"]),
		map[string]any{"verdict": "confirm", "classification": "A1", "actions": []string{"remove", "bank"}}, 200)
	b, err := st.Bank(ctx, "confirmed")
	if err != nil || b.Entries != 2 {
		t.Fatalf("bank confirmed: %+v, %v; want 2 entries (pdq, sha256)", b, err)
	}
	// A near-duplicate reported later carries the bank match as a signal.
	near := "f" + h[1:] // 2 bits away
	rep2 := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u2", "category": "suspected_csam", "content_id": "p2",
		"hashes": map[string]any{"pdq": near}}, 201)
	view := d.do("reviewer", "GET", fmt.Sprintf("/v1/cases/%v", rep2["case_id"]), nil, 200)
	ms, _ := view["case"].(map[string]any)["signals"].(map[string]any)["matches"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["bank"] != "confirmed" || num(ms[0].(map[string]any)["distance"]) != 2 {
		t.Errorf("near-duplicate's matches: %v", ms)
	}
	if aud := d.audited(); !slices.Contains(aud, "system bank.create confirmed") || !slices.Contains(aud, "system bank.entries confirmed") {
		t.Errorf("audit %q lacks the bank's creation and entries", aud)
	}
}

// TestReviewSimulation is issue 5's simulation through the API with a fake
// clock: 10,000 mixed reports (-short: 2,000), 100 of them from a trusted
// flagger about one network of ten accounts. Every report reaches a case;
// reports claiming a hash a bank lists wait for a reviewer like the rest;
// every queue is in the documented order with scores that are the sum of
// their breakdowns; overdue cases escalate, once; and the time-to-action
// figures agree with the decisions made.
func TestReviewSimulation(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateBank(ctx, bank.Bank{Name: "known"}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 11))
	randomPDQ := func() string {
		var h pdq.Hash
		for i := range h {
			h[i] = byte(rng.Uint32())
		}
		return h.String()
	}
	known := make([]bank.Entry, 20)
	for i := range known {
		known[i] = bank.Entry{Signal: bank.PDQ, Value: randomPDQ(), Source: "hotline"}
	}
	if _, err := st.AddEntries(ctx, "known", func(yield func(bank.Entry, error) bool) {
		for _, e := range known {
			if !yield(e, nil) {
				return
			}
		}
	}, nil); err != nil {
		t.Fatal(err)
	}
	m := match.New(st)
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d := newDesk(t, func(c *api.Config) { c.Banks, c.Matcher = st, m })
	start := d.clock.Now()

	type filed struct {
		id, caseID int64
		category   string
	}
	reports := make([]filed, 0, n)
	for i := range n {
		who := "integrator"
		body := map[string]any{"reporter": fmt.Sprintf("u-%d", rng.IntN(500))}
		k := rng.IntN(100)
		switch {
		case i%(n/100) == 0: // 100 spread through the run
			who = "flagger"
			body = map[string]any{"category": "grooming", "account_id": fmt.Sprintf("net-%d", i/(n/100)%10), "text": "one network of accounts"}
		case k < 5:
			body["category"], body["content_id"] = "known_csam", fmt.Sprintf("c-%d", i)
			body["hashes"] = map[string]any{"pdq": known[rng.IntN(len(known))].Value}
		case k < 25:
			body["category"], body["content_id"] = "suspected_csam", fmt.Sprintf("c-%d", i)
			body["hashes"] = map[string]any{"pdq": randomPDQ()}
			body["minor_suspected"] = rng.IntN(2) == 0
		case k < 35:
			body["category"], body["content_id"] = "self_generated", fmt.Sprintf("c-%d", i)
		case k < 50:
			body["category"], body["account_id"] = "sextortion", fmt.Sprintf("a-%d", rng.IntN(1000))
		case k < 65:
			body["category"], body["account_id"] = "grooming", fmt.Sprintf("a-%d", rng.IntN(1000))
		case k < 80:
			body["category"], body["content_id"] = "sexualised_child", fmt.Sprintf("c-%d", i)
			body["reach"] = map[string]any{"visibility": []string{"public", "unlisted", "private"}[rng.IntN(3)], "audience": rng.IntN(100000)}
		default:
			body["category"], body["content_id"] = "other", fmt.Sprintf("p-%d", rng.IntN(3000))
		}
		got := d.do(who, "POST", "/v1/reports", body, 201)
		if num(got["case_id"]) <= 0 {
			t.Fatalf("report %d reached no case: %v", i, got)
		}
		// A reporter's hash is a claim: even an exact bank match waits
		// for a reviewer (it only raises the case's priority).
		if got["status"] != "received" {
			t.Fatalf("report %d (%v): status %v, want received", i, body["category"], got["status"])
		}
		reports = append(reports, filed{num(got["id"]), num(got["case_id"]), got["category"].(string)})
		d.clock.Advance(300 * time.Millisecond)
	}
	network := map[int64]bool{}
	for i, r := range reports {
		if i%(n/100) == 0 {
			network[r.caseID] = true
		}
	}
	if len(network) != 10 {
		t.Errorf("the flagger's 100 reports about 10 accounts are in %d cases, want 10", len(network))
	}

	// Each queue in the documented order: overdue first, then by score.
	checkQueues := func() (open, overdue1h int) {
		t.Helper()
		for _, q := range d.do("reviewer", "GET", "/v1/queues", nil, 200)["queues"].([]any) {
			q := q.(map[string]any)
			name := q["queue"].(string)
			page := d.do("reviewer", "GET", "/v1/queues/"+name+"?limit=1000", nil, 200)
			if num(page["total"]) != num(q["cases"]) {
				t.Errorf("queue %s: total %v, the summary says %v", name, page["total"], q["cases"])
			}
			open += int(num(q["cases"]))
			if num(q["target_seconds"]) == 3600 {
				overdue1h += int(num(q["overdue"]))
			}
			prevOverdue, prevScore := true, 1<<30
			for i, c := range page["cases"].([]any) {
				p := c.(map[string]any)["priority"].(map[string]any)
				sum := int64(0)
				for _, b := range p["breakdown"].([]any) {
					sum += num(b.(map[string]any)["points"])
				}
				score, od := int(num(p["score"])), p["overdue"] == true
				if sum != int64(score) {
					t.Fatalf("queue %s #%d: score %d, breakdown sums to %d", name, i, score, sum)
				}
				if od && !prevOverdue || od == prevOverdue && score > prevScore {
					t.Fatalf("queue %s #%d: overdue %v score %d after overdue %v score %d", name, i, od, score, prevOverdue, prevScore)
				}
				prevOverdue, prevScore = od, score
			}
		}
		return open, overdue1h
	}
	open, _ := checkQueues()
	if open == 0 {
		t.Fatal("no open cases")
	}

	d.clock.Advance(2 * time.Hour)
	esc, err := d.api.Review().Escalate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, overdue := checkQueues()
	if esc != overdue || esc == 0 {
		t.Errorf("escalated %d cases; %d are overdue in the one-hour queues (and none elsewhere yet)", esc, overdue)
	}
	if again, _ := d.api.Review().Escalate(ctx); again != 0 {
		t.Errorf("escalated %d again", again)
	}

	// Decide the top of two queues, then check the stats against what the
	// cases hold.
	decided := map[int64]string{}
	for _, x := range []struct {
		queue string
		take  int
		body  map[string]any
	}{
		{"suspected_csam", 100, map[string]any{"verdict": "confirm", "classification": "A2", "actions": []string{"remove"}}},
		{"other", 50, map[string]any{"verdict": "dismiss", "reason": "not a child"}},
	} {
		page := d.do("reviewer", "GET", fmt.Sprintf("/v1/queues/%s?limit=%d", x.queue, x.take), nil, 200)
		for _, c := range page["cases"].([]any) {
			id := num(c.(map[string]any)["case"].(map[string]any)["id"])
			d.do("reviewer", "POST", fmt.Sprintf("/v1/cases/%d/decision", id), x.body, 200)
			decided[id] = x.body["verdict"].(string)
		}
		d.clock.Advance(time.Minute)
	}
	wantActioned := map[string]int64{}
	for _, r := range reports {
		if decided[r.caseID] == "confirm" {
			wantActioned[r.category]++
		}
	}
	gotActioned := map[string]int64{}
	var received int64
	for _, row := range d.do("auditor", "GET", "/v1/stats?since="+start.Format(time.RFC3339), nil, 200)["rows"].([]any) {
		row := row.(map[string]any)
		gotActioned[row["category"].(string)] += num(row["actioned"])
		received += num(row["received"])
		// Every decision came from a reviewer, hours after the reports.
		if med, p90 := row["median_seconds"].(float64), row["p90_seconds"].(float64); p90 < med ||
			num(row["decided"]) > 0 && med == 0 {
			t.Errorf("row %v: median and p90 do not fit the decisions", row)
		}
	}
	if received != int64(n) {
		t.Errorf("stats count %d reports received, want %d", received, n)
	}
	for _, c := range review.Categories {
		if gotActioned[string(c)] != wantActioned[string(c)] {
			t.Errorf("%s: %d actioned in the stats, %d by the decisions made", c, gotActioned[string(c)], wantActioned[string(c)])
		}
	}
}

// TestReportWithContent checks a report sent with its content: the image
// is hashed (and not kept), so a second report of the same bytes by digest
// joins its case; a bad image or a content with hashes is refused.
func TestReportWithContent(t *testing.T) {
	d := newDesk(t, func(c *api.Config) { c.Hasher = &hasher.Hasher{} })
	img := image.NewGray(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			img.Pix[y*256+x] = uint8((x*7 + y*y/8 + (x/32+y/32)%2*90) % 256)
		}
	}
	var pic bytes.Buffer
	if err := jpeg.Encode(&pic, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	form := func(report string, content []byte) (string, []byte) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("report", report)
		if content != nil {
			w, _ := mw.CreateFormFile("content", "upload.jpg")
			w.Write(content)
		}
		mw.Close()
		return mw.FormDataContentType(), b.Bytes()
	}
	send := func(ct string, body []byte, want int) map[string]any {
		t.Helper()
		r := httptest.NewRequest("POST", "/v1/reports", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		r.Header.Set("Authorization", "Bearer "+d.secrets["integrator"])
		rec := httptest.NewRecorder()
		d.api.ServeHTTP(rec, r)
		if rec.Code != want {
			t.Fatalf("%d %s, want %d", rec.Code, rec.Body, want)
		}
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return out
	}
	ct, body := form(`{"reporter":"u1","category":"suspected_csam","content_id":"post-1"}`, pic.Bytes())
	first := send(ct, body, 201)
	sum := sha256.Sum256(pic.Bytes())
	second := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u2", "category": "suspected_csam",
		"content_id": "elsewhere-9", "hashes": map[string]any{"sha256": hex.EncodeToString(sum[:])}}, 201)
	if first["case_id"] != second["case_id"] {
		t.Errorf("the same bytes under another id: case %v, want %v", second["case_id"], first["case_id"])
	}
	c := d.do("reviewer", "GET", fmt.Sprintf("/v1/cases/%v", first["case_id"]), nil, 200)["case"].(map[string]any)
	if pdqs, _ := c["pdq"].([]any); len(pdqs) != 1 {
		t.Errorf("case PDQ hashes %v, want the content's", c["pdq"])
	}
	for _, tt := range []struct {
		report  string
		content []byte
		status  int
		says    string
	}{
		{`{"reporter":"u1","category":"other","content_id":"p"}`, []byte("not an image"), 422, "unsupported_image"},
		{`{"reporter":"u1","category":"other","hashes":{"md5":"` + strings.Repeat("a", 32) + `"}}`, pic.Bytes(), 400, "not both"},
		{`{"reporter":"u1","category":"other","content_id":"p","extra":1}`, pic.Bytes(), 400, "unknown field"},
		{``, nil, 400, "malformed JSON"},
	} {
		ct, body := form(tt.report, tt.content)
		if e := send(ct, body, tt.status)["error"].(map[string]any); !strings.Contains(fmt.Sprint(e), tt.says) {
			t.Errorf("report %q: %v, want %q", tt.report, e, tt.says)
		}
	}
}

// benchDesk is the review API over a SQLite store, as served.
func benchDesk(b *testing.B) *desk {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	m := match.New(st)
	if err := m.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	return newDesk(b, func(c *api.Config) {
		c.Banks, c.Matcher, c.Review = st, m, review.NewDesk(st, st, review.Config{})
	})
}

// BenchmarkFileReport files user reports with a PDQ hash each, through the
// handler, on SQLite (each opens a case: a near-duplicate search, then the
// report and case in one transaction, then the audit entry, kept in
// memory here).
func BenchmarkFileReport(b *testing.B) {
	d := benchDesk(b)
	rng := rand.New(rand.NewPCG(1, 2))
	var h pdq.Hash
	for i := 0; b.Loop(); i++ {
		for j := range h {
			h[j] = byte(rng.Uint32())
		}
		d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u", "category": "suspected_csam",
			"content_id": fmt.Sprintf("c-%d", i), "hashes": map[string]any{"pdq": h.String()}}, 201)
	}
}

// BenchmarkQueue lists the first 100 of 2,000 open cases in one queue on
// SQLite: every open case is read and scored, then sorted.
func BenchmarkQueue(b *testing.B) {
	d := benchDesk(b)
	for i := range 2000 {
		d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u", "category": "suspected_csam", "content_id": fmt.Sprintf("c-%d", i)}, 201)
	}
	for b.Loop() {
		d.do("reviewer", "GET", "/v1/queues/suspected_csam", nil, 200)
	}
}
