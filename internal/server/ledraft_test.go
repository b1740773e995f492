package server_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/cli"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
)

// TestLEDraftEndToEnd is issue 13's proof, on both backends: an upload
// (with the platform's upload context) matches a bank whose rule reports;
// a reviewer views and confirms it; the confirmation opens a draft
// prefilled with everything the service knows; the liaison finds it in
// their queue with nothing left to type, reads what it is about, makes it
// ready and submits it to a fake CyberTipline on loopback, which
// acknowledges it; an evidence package of it verifies and opens with
// `safeguard evidence verify` / `open`, and the audit log verifies.
func TestLEDraftEndToEnd(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			cfg, st := backend.open(t)
			leDraftEndToEnd(t, cfg, st)
		})
	}
}

type queueItem struct {
	ReportID       int64              `json:"report_id"`
	CaseID         string             `json:"case_id"`
	State          string             `json:"state"`
	DecidedAt      time.Time          `json:"decided_at"`
	WaitingSeconds int64              `json:"waiting_seconds"`
	Files          int                `json:"files"`
	Problems       []lereport.Problem `json:"problems"`
}

func leDraftEndToEnd(t *testing.T, cfg server.Config, st store.Store) {
	tip := reportTo(t, &cfg)
	base, adminKey := start(t, cfg, st)
	admin := client{t, base, adminKey}
	key := admin.newKey
	platform, _ := key("integrator", "platform")
	reviewer, reviewerID := key("reviewer", "r1")
	liaison, _ := key("le_liaison", "le")

	// The rule's only actions are block and report: report files the
	// case for review itself.
	original, altered := photo(t, 13)
	admin.json("POST", "/v1/banks", map[string]any{"name": "known"}, 201, nil)
	admin.do("POST", "/v1/banks/known/entries?source=hotline&category=A", "image/jpeg", original, 200, nil)
	admin.json("POST", "/v1/rules", map[string]any{
		"name": "known: block and report", "banks": []string{"known"},
		"actions": []map[string]any{{"kind": "block"}, {"kind": "report"}},
	}, 201, nil)
	uploaded := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	q := url.Values{"content_id": {"post-77"}, "account_id": {"acct-77"}, "visibility": {"public"},
		"ip": {"203.0.113.7"}, "port": {"51234"}, "uploaded_at": {uploaded.Format(time.RFC3339)},
		"user_agent": {"Mozilla/5.0 (test)"}, "file_name": {"holiday.jpg"}}
	var ans struct {
		ScanID string `json:"scan_id"`
	}
	platform.do("POST", "/v1/scan?"+q.Encode(), "image/jpeg", altered, 200, &ans)
	// A bad upload context is refused, naming the field.
	for field, bad := range map[string]string{"ip": "203.0.113.999", "port": "70000", "uploaded_at": "yesterday", "user_agent": "a\x00b"} {
		body := platform.do("POST", "/v1/scan?content_id=x&"+field+"="+url.QueryEscape(bad), "image/jpeg", altered, 400, nil)
		if !strings.Contains(string(body), field) {
			t.Errorf("bad %s: %s; want the field named", field, body)
		}
	}
	var rec struct {
		Evidence string `json:"evidence"`
	}
	admin.do("GET", "/v1/scans/"+ans.ScanID, "", nil, 200, &rec)
	var rq queue
	reviewer.do("GET", "/v1/queues/known_csam", "", nil, 200, &rq)
	if rq.Total != 1 || rec.Evidence == "" {
		t.Fatalf("known_csam queue %+v, evidence %q: want the reported upload, kept", rq, rec.Evidence)
	}
	caseID := rq.Cases[0].Case.ID

	// The liaison sees nothing before a confirmation, and never reads a
	// case directly.
	var lq struct {
		Reports []queueItem `json:"reports"`
	}
	liaison.do("GET", "/v1/le-queue", "", nil, 200, &lq)
	if len(lq.Reports) != 0 {
		t.Fatalf("queue before the decision: %+v", lq.Reports)
	}
	liaison.do("GET", fmt.Sprintf("/v1/cases/%d", caseID), "", nil, 403, nil)
	if e := liaison.json("POST", "/v1/le-reports", map[string]any{"case_id": caseID}, 409, nil); !strings.Contains(string(e), "not_confirmed") {
		t.Errorf("a prefilled draft of an unconfirmed case: %s", e)
	}

	// The reviewer views the content and confirms, choosing no
	// law-enforcement action: the rule's report action and the known
	// match open the draft.
	reviewer.do("GET", fmt.Sprintf("/v1/cases/%d/evidence/%s", caseID, rec.Evidence), "", nil, 200, nil)
	start := time.Now()
	reviewer.json("POST", fmt.Sprintf("/v1/cases/%d/decision", caseID),
		map[string]any{"verdict": "confirm", "classification": "A1", "actions": []string{"remove"}}, 200, nil)
	liaison.do("GET", "/v1/le-queue", "", nil, 200, &lq)
	if len(lq.Reports) != 1 {
		t.Fatalf("queue after the decision: %+v; want one draft", lq.Reports)
	}
	it := lq.Reports[0]
	t.Logf("confirmed case → draft in the queue: %v", time.Since(start))
	if it.CaseID != fmt.Sprint(caseID) || it.State != "draft" || it.Files != 1 || it.DecidedAt.IsZero() || it.WaitingSeconds < 0 {
		t.Errorf("queue item %+v", it)
	}
	// Complete: nothing stands between the draft and ready.
	if len(it.Problems) != 0 {
		t.Errorf("the draft has problems a person must fix: %+v", it.Problems)
	}
	path := fmt.Sprintf("/v1/le-reports/%d", it.ReportID)
	// A case-only request for a case with a report names that report.
	if e := liaison.json("POST", "/v1/le-reports", map[string]any{"case_id": caseID}, 409, nil); !strings.Contains(string(e), fmt.Sprintf("report %d", it.ReportID)) {
		t.Errorf("a second prefilled draft: %s; want the existing report named", e)
	}
	var draft lereport.Report
	liaison.do("GET", path, "", nil, 200, &draft)
	doc := draft.Document
	checks := map[string]bool{
		"incidentType from the category":  doc.IncidentSummary.IncidentType == lereport.ChildPornography,
		"incident time: the first upload": doc.IncidentSummary.IncidentDateTime.Equal(uploaded),
		"reporter from settings":          slices.Equal(doc.Reporter.ReportingPerson.Email, []string{"safety@example.net"}),
		"the account":                     doc.PersonOrUserReported != nil && doc.PersonOrUserReported.ESPIdentifier == "acct-77",
		"the upload address":              doc.PersonOrUserReported != nil && len(doc.PersonOrUserReported.IPCaptureEvents) == 1 && doc.PersonOrUserReported.IPCaptureEvents[0].IPAddress.String() == "203.0.113.7" && doc.PersonOrUserReported.IPCaptureEvents[0].Port == 51234,
		"how the service knew":            strings.Contains(doc.AdditionalInfo, "known") && strings.Contains(doc.AdditionalInfo, reviewerID),
		"one file":                        len(draft.Files) == 1,
	}
	if len(draft.Files) == 1 {
		f := draft.Files[0].Details
		checks["the file's evidence"] = draft.Files[0].EvidenceID == rec.Evidence
		checks["viewed by the reviewer"] = f.FileViewedByESP && draft.Files[0].ViewedBy == reviewerID
		checks["classification from the decision"] = f.IndustryClassification == lereport.A1
		checks["original file name from the upload"] = f.OriginalFileName == "holiday.jpg"
		checks["MD5, SHA-256, PDQ"] = len(f.OriginalFileHash) == 3
		checks["publicly available"] = f.PubliclyAvailable != nil && *f.PubliclyAvailable
		checks["file's upload event"] = len(f.IPCaptureEvents) == 1 && f.IPCaptureEvents[0].DateTime.Equal(uploaded)
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("draft lacks %s: %+v", what, draft)
		}
	}
	if len(draft.History) != 1 || draft.History[0].Actor != "system" || !strings.Contains(draft.History[0].Note, reviewerID) {
		t.Errorf("draft history %+v; want opened by the system on %s's decision", draft.History, reviewerID)
	}

	// What the report is about: the case, its scan and the evidence's
	// description, and only through the report.
	var ctx struct {
		Case struct {
			ID int64 `json:"id"`
		} `json:"case"`
		Scans []struct {
			ID string `json:"id"`
		} `json:"scans"`
		Evidence []struct {
			Item struct {
				ID   string `json:"id"`
				Meta struct {
					Upload struct {
						IP string `json:"ip"`
					} `json:"upload"`
				} `json:"meta"`
			} `json:"item"`
		} `json:"evidence"`
	}
	liaison.do("GET", path+"/context", "", nil, 200, &ctx)
	if ctx.Case.ID != caseID || len(ctx.Scans) != 1 || ctx.Scans[0].ID != ans.ScanID || len(ctx.Evidence) != 1 ||
		ctx.Evidence[0].Item.ID != rec.Evidence || ctx.Evidence[0].Item.Meta.Upload.IP != "203.0.113.7" {
		t.Errorf("context: %+v", ctx)
	}
	reviewer.do("GET", path+"/context", "", nil, 403, nil)

	// No field typed: the draft goes ready as it was opened (no edit at
	// all), is submitted and acknowledged.
	t.Log("fields a person typed: 0 (no edit before ready)")
	var ready lereport.Report
	liaison.do("POST", path+"/ready", "", nil, 200, &ready)
	var done lereport.Report
	liaison.do("POST", path+"/submit", "", nil, 200, &done)
	if done.State != lereport.Acknowledged || done.RecipientReportID == "" {
		t.Fatalf("after submission: %+v", done)
	}
	tip.mu.Lock()
	sent := string(tip.report)
	calls := slices.Clone(tip.calls)
	tip.mu.Unlock()
	for _, s := range []string{"<espIdentifier>acct-77</espIdentifier>", "<ipAddress>203.0.113.7</ipAddress>", "<port>51234</port>",
		"<incidentDateTime>2026-11-20T09:30:00Z</incidentDateTime>", "safety@example.net"} {
		if !strings.Contains(sent, s) {
			t.Errorf("the submitted report lacks %s:\n%s", s, sent)
		}
	}
	if len(calls) != 4 || !strings.HasPrefix(calls[2], "fileinfo") || !strings.HasSuffix(calls[2], "viewed=true") {
		t.Errorf("tipline calls %q", calls)
	}
	liaison.do("GET", "/v1/le-queue", "", nil, 200, &lq)
	if len(lq.Reports) != 0 {
		t.Errorf("queue after submission: %+v; want empty", lq.Reports)
	}

	// A copy as an evidence package verifies and opens with the CLI.
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkg := liaison.json("POST", path+"/package", map[string]string{"recipient_key": base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes())}, 200, nil)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "p.zip"), pkg, 0o600)
	os.WriteFile(filepath.Join(dir, "k"), []byte(hex.EncodeToString(priv.Bytes())), 0o600)
	var out, errs bytes.Buffer
	if code := cli.Main([]string{"evidence", "verify", "--key", filepath.Join(dir, "k"), filepath.Join(dir, "p.zip")}, nil, &out, &errs); code != 0 {
		t.Errorf("evidence verify: exit %d: %s %s", code, out.String(), errs.String())
	}
	if code := cli.Main([]string{"evidence", "open", "--key", filepath.Join(dir, "k"), filepath.Join(dir, "p.zip"), filepath.Join(dir, "open")}, nil, &out, &errs); code != 0 {
		t.Errorf("evidence open: exit %d: %s", code, errs.String())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "open", "files", rec.Evidence)); !bytes.Equal(b, altered) {
		t.Errorf("opened file is %d bytes, want the %d uploaded", len(b), len(altered))
	}

	// Every transition is in the audit log, which verifies.
	auditor, _ := key("auditor", "auditor")
	var log struct {
		Entries []struct {
			Actor   string `json:"actor"`
			Action  string `json:"action"`
			Subject string `json:"subject"`
		} `json:"entries"`
	}
	auditor.do("GET", "/v1/audit?limit=1000", "", nil, 200, &log)
	var actions []string
	for _, e := range log.Entries {
		if e.Subject == lereport.Subject(it.ReportID) {
			actions = append(actions, e.Actor+" "+e.Action)
		}
	}
	for _, want := range []string{"system lereport.create", "lereport.context", "lereport.ready", "lereport.submit", "lereport.finish", "lereport.package"} {
		if !slices.ContainsFunc(actions, func(a string) bool { return strings.HasSuffix(a, want) || a == want }) {
			t.Errorf("audit entries of the report %q lack %s", actions, want)
		}
	}
	var verify struct {
		OK bool `json:"ok"`
	}
	auditor.do("GET", "/v1/audit/verify", "", nil, 200, &verify)
	if !verify.OK {
		t.Error("audit chain does not verify")
	}
}

// BenchmarkConfirmToDraft times a reviewer's confirmation of a reported
// upload, over HTTP on SQLite, until the liaison's queue holds its
// complete draft: the decision's transaction (decision, audit entries,
// the draft with its evidence read and views asked) and the queue read.
// Filing the upload is outside the timing.
//
//	go test -run - -bench ConfirmToDraft -benchtime 50x ./internal/server
func BenchmarkConfirmToDraft(b *testing.B) {
	cfg, st := server.Config{Data: b.TempDir()}, store.Store(nil)
	var err error
	if st, err = server.OpenStores(b.Context(), cfg); err != nil {
		b.Fatal(err)
	}
	cfg.LEReporter = lereport.Reporter{ReportingPerson: lereport.Person{Email: []string{"safety@example.net"}}}
	base, adminKey := start(b, cfg, st)
	admin := client{b, base, adminKey}
	key := func(role string) client {
		var k struct {
			Key string `json:"key"`
		}
		admin.json("POST", "/v1/keys", map[string]any{"role": role, "name": role}, 201, &k)
		return client{b, base, k.Key}
	}
	platform, reviewer, liaison := key("integrator"), key("reviewer"), key("le_liaison")
	admin.json("POST", "/v1/banks", map[string]any{"name": "known"}, 201, nil)
	admin.json("POST", "/v1/rules", map[string]any{"name": "report", "banks": []string{"known"},
		"actions": []map[string]any{{"kind": "block"}, {"kind": "report"}}}, 201, nil)
	seed := uint64(1000)
	for i := range b.N {
		b.StopTimer()
		// A copy within distance 0 of its listed original is confirmed
		// with no reviewer (and opens no draft): take the next picture.
		var q queue
		for q.Total == 0 {
			seed++
			original, altered := photo(b, seed)
			admin.do("POST", "/v1/banks/known/entries?source=hotline&category=A", "image/jpeg", original, 200, nil)
			platform.do("POST", fmt.Sprintf("/v1/scan?content_id=p-%d&account_id=a-%d&ip=198.51.100.%d", seed, seed, i%250+1), "image/jpeg", altered, 200, nil)
			reviewer.do("GET", "/v1/queues/known_csam", "", nil, 200, &q)
		}
		if q.Total != 1 {
			b.Fatalf("queue %+v; want the new case alone", q)
		}
		b.StartTimer()
		reviewer.json("POST", fmt.Sprintf("/v1/cases/%d/decision", q.Cases[0].Case.ID),
			map[string]any{"verdict": "confirm", "classification": "A1", "actions": []string{"remove"}}, 200, nil)
		var lq struct {
			Reports []queueItem `json:"reports"`
		}
		liaison.do("GET", "/v1/le-queue", "", nil, 200, &lq)
		b.StopTimer()
		if len(lq.Reports) != i+1 || len(lq.Reports[i].Problems) != 0 || lq.Reports[i].Files != 1 {
			b.Fatalf("queue %+v; want %d complete drafts", lq.Reports, i+1)
		}
		b.StartTimer()
	}
}
