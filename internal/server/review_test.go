package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReviewEndToEnd is issue 5's API proof over HTTP against a real
// server: a trusted flagger files reports, one by one and in bulk; a
// reviewer sees the queue in priority order and decides; the reporter's
// status and the review webhook show the outcome; a flagger's report
// dismissed once waits for a second reviewer; the stats agree; a scan
// whose rule says enqueue opens a case; and content confirmed into the
// service's own bank matches when uploaded again.
func TestReviewEndToEnd(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			cfg, st := backend.open(t)
			base, adminKey := start(t, cfg, st)
			reviewEndToEnd(t, base, adminKey)
		})
	}
}

type reportStatus struct {
	ID       int64  `json:"id"`
	CaseID   int64  `json:"case_id"`
	Source   string `json:"source"`
	Reporter string `json:"reporter"`
	Status   string `json:"status"`
}

type queue struct {
	Total int `json:"total"`
	Cases []struct {
		Case struct {
			ID         int64    `json:"id"`
			ContentIDs []string `json:"content_ids"`
			State      string   `json:"state"`
		} `json:"case"`
		Priority struct {
			Score int `json:"score"`
		} `json:"priority"`
		DueIn int64 `json:"due_in_seconds"`
	} `json:"cases"`
}

func reviewEndToEnd(t *testing.T, base, adminKey string) {
	admin := client{t, base, adminKey}
	key := admin.newKey
	flagger, flaggerID := key("flagger", "hotline")
	reviewer, _ := key("reviewer", "r1")
	reviewer2, _ := key("reviewer", "r2")
	platform, _ := key("integrator", "platform")
	auditor, _ := key("auditor", "auditor")

	rv := newReceiver(t)
	var hook struct {
		Secret string `json:"secret"`
	}
	admin.json("POST", "/v1/webhooks", map[string]any{"name": "review", "url": rv.URL}, 201, &hook)
	rv.setSecret(hook.Secret)

	// The flagger reports two posts as suspected CSAM (the second public
	// and widely seen) and an account for grooming.
	var one reportStatus
	flagger.json("POST", "/v1/reports", map[string]any{"category": "suspected_csam", "content_id": "post-10"}, 201, &one)
	if one.Source != "flagger" || one.Reporter != flaggerID || one.Status != "received" {
		t.Fatalf("flagger's report: %+v", one)
	}
	var bulk struct {
		Reports []reportStatus `json:"reports"`
	}
	flagger.json("POST", "/v1/reports/bulk", map[string]any{"reports": []map[string]any{
		{"category": "suspected_csam", "content_id": "post-11", "reach": map[string]any{"visibility": "public", "audience": 10000}},
		{"category": "grooming", "account_id": "acct-2", "text": "asks children to move to a private app"},
	}}, 201, &bulk)
	if len(bulk.Reports) != 2 {
		t.Fatalf("bulk: %+v", bulk)
	}
	wide := bulk.Reports[0]
	platform.json("POST", "/v1/reports/bulk", map[string]any{"reports": []any{}}, 403, nil)

	var q queue
	reviewer.do("GET", "/v1/queues/suspected_csam", "", nil, 200, &q)
	if q.Total != 2 || q.Cases[0].Case.ID != wide.CaseID || q.Cases[1].Case.ID != one.CaseID ||
		q.Cases[0].Priority.Score <= q.Cases[1].Priority.Score || q.Cases[0].DueIn <= 3500 {
		t.Fatalf("suspected_csam queue: %+v; want case %d (public, wide audience) before case %d, due within the hour", q, wide.CaseID, one.CaseID)
	}

	// The reviewer opens the top case and confirms it.
	var view struct {
		Reports []reportStatus `json:"reports"`
	}
	reviewer.do("GET", fmt.Sprintf("/v1/cases/%d", wide.CaseID), "", nil, 200, &view)
	if len(view.Reports) != 1 || view.Reports[0].ID != wide.ID {
		t.Errorf("case %d reports: %+v", wide.CaseID, view.Reports)
	}
	reviewer.json("POST", fmt.Sprintf("/v1/cases/%d/decision", wide.CaseID),
		map[string]any{"verdict": "confirm", "classification": "B1", "actions": []string{"remove"}}, 200, nil)
	var st reportStatus
	flagger.do("GET", fmt.Sprintf("/v1/reports/%d", wide.ID), "", nil, 200, &st)
	if st.Status != "actioned" {
		t.Errorf("the flagger sees status %q, want actioned", st.Status)
	}
	reviewer.do("GET", "/v1/queues/suspected_csam", "", nil, 200, &q)
	if q.Total != 1 || q.Cases[0].Case.ID != one.CaseID {
		t.Errorf("after the decision the queue holds %+v, want only case %d", q, one.CaseID)
	}

	// Dismissing a flagger's report takes two reviewers.
	dismiss := map[string]any{"verdict": "dismiss", "reason": "a cartoon, no child depicted"}
	path := fmt.Sprintf("/v1/cases/%d/decision", one.CaseID)
	reviewer.json("POST", path, dismiss, 200, nil)
	flagger.do("GET", fmt.Sprintf("/v1/reports/%d", one.ID), "", nil, 200, &st)
	if st.Status != "in_review" {
		t.Errorf("after one dismissal the flagger sees %q, want in_review", st.Status)
	}
	if b := string(reviewer.json("POST", path, dismiss, 409, nil)); !strings.Contains(b, "second_reviewer") {
		t.Errorf("the same reviewer dismissing again: %s", b)
	}
	reviewer2.json("POST", path, dismiss, 200, nil)
	flagger.do("GET", fmt.Sprintf("/v1/reports/%d", one.ID), "", nil, 200, &st)
	if st.Status != "no_action" {
		t.Errorf("after two dismissals the flagger sees %q, want no_action", st.Status)
	}

	var stats struct {
		Rows []struct {
			Category string  `json:"category"`
			Source   string  `json:"source"`
			Received int     `json:"received"`
			Decided  int     `json:"decided"`
			Actioned int     `json:"actioned"`
			Share    float64 `json:"share_actioned"`
		} `json:"rows"`
	}
	auditor.do("GET", "/v1/stats", "", nil, 200, &stats)
	if len(stats.Rows) != 2 || stats.Rows[0].Category != "suspected_csam" || stats.Rows[0].Source != "flagger" ||
		stats.Rows[0].Received != 2 || stats.Rows[0].Decided != 2 || stats.Rows[0].Actioned != 1 || stats.Rows[0].Share != 0.5 {
		t.Errorf("stats: %+v", stats.Rows)
	}

	// A rule that enqueues: a scan of an altered copy of a listed picture
	// opens a case in the known-CSAM queue (near, not exact: a reviewer
	// looks).
	original, altered := photo(t, 7)
	admin.json("POST", "/v1/banks", map[string]any{"name": "known"}, 201, nil)
	admin.do("POST", "/v1/banks/known/entries?source=hotline&category=A", "image/jpeg", original, 200, nil)
	admin.json("POST", "/v1/rules", map[string]any{
		"name": "known: block and review", "banks": []string{"known"},
		"actions": []map[string]any{{"kind": "block"}, {"kind": "enqueue", "priority": 80}},
	}, 201, nil)
	var ans struct {
		Blocked bool `json:"blocked"`
	}
	raw := platform.do("POST", "/v1/scan?content_id=post-20&account_id=acct-20&visibility=public", "image/jpeg", altered, 200, &ans)
	if !ans.Blocked {
		t.Errorf("scan of the altered copy: %s", raw)
	}
	reviewer.do("GET", "/v1/queues/known_csam", "", nil, 200, &q)
	if q.Total != 1 || !slices.Equal(q.Cases[0].Case.ContentIDs, []string{"post-20"}) {
		t.Errorf("known_csam queue after the scan: %+v", q)
	}

	// New content a flagger reports with its hashes, confirmed with the
	// bank action, is matched when it is uploaded again, altered.
	fresh, freshAltered := photo(t, 9)
	var first struct {
		Hashes struct {
			PDQ    string `json:"pdq"`
			SHA256 string `json:"sha256"`
		} `json:"hashes"`
		Matches []struct {
			Bank string `json:"bank"`
		} `json:"matches"`
	}
	platform.do("POST", "/v1/scan?content_id=post-30", "image/jpeg", fresh, 200, &first)
	if len(first.Matches) != 0 {
		t.Fatalf("new content matched before review: %+v", first.Matches)
	}
	var newRep reportStatus
	flagger.json("POST", "/v1/reports", map[string]any{"category": "suspected_csam", "content_id": "post-30",
		"hashes": map[string]any{"pdq": first.Hashes.PDQ, "sha256": first.Hashes.SHA256}}, 201, &newRep)
	reviewer.json("POST", fmt.Sprintf("/v1/cases/%d/decision", newRep.CaseID),
		map[string]any{"verdict": "confirm", "classification": "A2", "actions": []string{"remove", "bank"}}, 200, nil)
	platform.do("POST", "/v1/scan?content_id=post-31", "image/jpeg", freshAltered, 200, &first)
	if len(first.Matches) != 1 || first.Matches[0].Bank != "confirmed" {
		t.Errorf("re-upload of confirmed content: matches %+v, want the confirmed bank", first.Matches)
	}

	// The review webhook told the reporter about each decision: actioned,
	// no action. (A first dismissal is no decision yet: the report's
	// status says in_review, and nothing is sent.)
	want := map[string]bool{fmt.Sprint(wide.ID) + " actioned": true, fmt.Sprint(one.ID) + " no_action": true}
	deadline := time.Now().Add(10 * time.Second)
	for len(want) > 0 && time.Now().Before(deadline) {
		for _, ev := range rv.events() {
			if ev["event"] == "report.outcome" {
				d := ev["data"].(map[string]any)
				delete(want, fmt.Sprintf("%v %v", d["report_id"], d["status"]))
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(want) > 0 {
		t.Errorf("report.outcome webhooks missing for %v; got %v", want, rv.events())
	}

	var audit struct {
		Entries []struct {
			Action string `json:"action"`
		} `json:"entries"`
	}
	auditor.do("GET", "/v1/audit?limit=1000", "", nil, 200, &audit)
	seen := map[string]int{}
	for _, e := range audit.Entries {
		seen[e.Action]++
	}
	if seen["report.create"] != 5 || seen["case.view"] != 1 || seen["case.decide"] != 3 || seen["case.dismiss_first"] != 1 {
		t.Errorf("audit actions %v", seen)
	}
	var verify struct {
		OK bool `json:"ok"`
	}
	auditor.do("GET", "/v1/audit/verify", "", nil, 200, &verify)
	if !verify.OK {
		t.Error("audit chain does not verify")
	}
}
