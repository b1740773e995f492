package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/notice/noticetest"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// A flagger sees its own reports with the decision, the joined counts
// and its figures, never another reporter's identity; the platform sees a
// user's reports by naming the user, and only those filed as the user's.
func TestMyReports(t *testing.T) {
	d := newDesk(t)
	d.do("flagger", "POST", "/v1/reports", map[string]any{"category": "grooming", "content_id": "p1"}, 201)
	d.do("flagger2", "POST", "/v1/reports", map[string]any{"category": "grooming", "content_id": "p1"}, 201)
	d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "u-secret-name", "category": "other", "content_id": "p1"}, 201)

	mine := d.do("flagger", "GET", "/v1/reports/mine", nil, 200)
	rs := mine["reports"].([]any)
	if len(rs) != 1 {
		t.Fatalf("flagger's reports: %v", mine)
	}
	r := rs[0].(map[string]any)
	if r["other_reports"] != 2.0 || r["other_reporters"] != 2.0 || r["status"] != "received" || r["age_seconds"] != 0.0 {
		t.Errorf("flagger's report: %v", r)
	}
	if tally := mine["tally"].(map[string]any); tally["summary"] != "1 sent, 0 actioned, 0 dismissed, 1 pending — oldest 0 minutes" {
		t.Errorf("tally: %v", tally)
	}
	b, _ := json.Marshal(mine)
	body := string(b)
	for _, leak := range []string{d.ids["flagger2"], "u-secret-name", "reviewer"} {
		if strings.Contains(body, leak) {
			t.Errorf("a flagger's view shows %q: %s", leak, body)
		}
	}
	d.do("flagger", "GET", "/v1/reports/mine?reporter="+d.ids["flagger2"], nil, 403)
	d.do("integrator", "GET", "/v1/reports/mine", nil, 400)
	d.do("integrator", "GET", "/v1/reports/mine?reporter=u-secret-name&limit=0", nil, 400)
	if got := d.do("integrator", "GET", "/v1/reports/mine?reporter=u-secret-name", nil, 200); len(got["reports"].([]any)) != 1 {
		t.Errorf("the user's reports: %v", got)
	}
	if got := d.do("integrator", "GET", "/v1/reports/mine?reporter="+d.ids["flagger"], nil, 200); len(got["reports"].([]any)) != 0 {
		t.Errorf("the platform asked for a flagger's reports as a user's and got %v", got)
	}
	d.do("auditor", "GET", "/v1/reports/mine?reporter=x", nil, 403)
}

func TestNoticeRoutes(t *testing.T) {
	mem := new(noticetest.Memory)
	d := newDesk(t, func(c *api.Config) {
		c.Notices = &usecase.Notices{Tx: usecase.Separately(usecase.Stores{Notices: mem, Audit: c.Audit}), Log: c.Log, Store: mem,
			Chaser: &notice.Chaser{Now: c.Now}}
	})
	ok := map[string]any{"url": "https://img.example/a.jpg", "contact": "abuse@img.example", "category": "suspected_csam", "legal_basis": "Art. 16 DSA"}
	n := d.do("reviewer", "POST", "/v1/notices", ok, 201)
	if n["host"] != "img.example" || n["state"] != "open" || n["id"] != 1.0 {
		t.Errorf("created: %v", n)
	}
	d.do("flagger", "POST", "/v1/notices", ok, 403)
	d.do("admin", "POST", "/v1/notices", ok, 403)
	bad := map[string]any{"url": "gopher://x", "category": "spam", "legal_basis": ""}
	if e := d.do("reviewer", "POST", "/v1/notices", bad, 400); !strings.Contains(e["error"].(map[string]any)["message"].(string), "legal_basis is required") {
		t.Errorf("invalid notice: %v", e)
	}
	withContent := map[string]any{"url": "https://img.example/b.jpg", "category": "other", "legal_basis": "x", "content": "aGVsbG8="}
	d.do("reviewer", "POST", "/v1/notices", withContent, 503) // this server keeps no evidence
	d.do("reviewer", "POST", "/v1/notices", map[string]any{"url": "https://x.example/", "surprise": 1}, 400)

	if got := d.do("auditor", "GET", "/v1/notices", nil, 200); len(got["notices"].([]any)) != 1 {
		t.Errorf("list: %v", got)
	}
	fig := d.do("admin", "GET", "/v1/notices/figures", nil, 200)
	row := fig["hosts"].([]any)[0].(map[string]any)
	if row["host"] != "img.example" || row["notices"] != 1.0 || row["still_up"] != 1.0 || row["sent"] != 0.0 {
		t.Errorf("figures: %v", row)
	}
	if got := d.do("le_liaison", "GET", "/v1/notices/1", nil, 200); got["notice"].(map[string]any)["url"] != ok["url"] || len(got["events"].([]any)) != 0 {
		t.Errorf("one notice: %v", got)
	}
	d.do("reviewer", "GET", "/v1/notices/9", nil, 404)
	d.do("reviewer", "POST", "/v1/notices/1/withdraw", map[string]any{"reason": "duplicate"}, 200)
	d.do("reviewer", "POST", "/v1/notices/1/withdraw", map[string]any{}, 409)
	var acts []string
	for _, e := range d.audited() {
		if strings.Contains(e, "notice") {
			acts = append(acts, e[strings.Index(e, " ")+1:])
		}
	}
	if strings.Join(acts, ",") != "notice.create notice:1,notice.withdraw notice:1" {
		t.Errorf("audited: %v", acts)
	}
}
