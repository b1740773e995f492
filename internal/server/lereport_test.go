package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/schema"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
)

// fakeTipline is a CyberTipline on loopback: it refuses wrong credentials,
// documents the schema refuses, calls out of order and details of files
// it never issued, and records every call and payload.
type fakeTipline struct {
	t  testing.TB
	mu sync.Mutex
	// calls: "submit", "upload <report> <name>", "fileinfo <report>
	// <file> viewed=<bool>", "finish <report>".
	calls   []string
	reports map[string]string // report id → open, finished
	report  []byte            // the last /submit body
	files   map[string][]byte // file id → content
	fileOf  map[string]string // file id → report id
	info    map[string]bool
}

// reportTo points cfg's law-enforcement reports at a fake CyberTipline
// (with an ESP account and a reporting person) and returns it.
func reportTo(t testing.TB, cfg *server.Config) *fakeTipline {
	tip, url := newTipline(t)
	cfg.CyberTipURL, cfg.CyberTipUser, cfg.CyberTipPassword = url, "esp-test", "tipline-secret"
	cfg.LEReporter = lereport.Reporter{ReportingPerson: lereport.Person{FirstName: "Trust", LastName: "Safety", Email: []string{"safety@example.net"}}}
	return tip
}

func newTipline(t testing.TB) (*fakeTipline, string) {
	f := &fakeTipline{t: t, reports: map[string]string{}, files: map[string][]byte{}, fileOf: map[string]string{}, info: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL + "/ispws"
}

func (f *fakeTipline) answer(w http.ResponseWriter, code int, desc, field, value string) {
	extra := ""
	if field != "" {
		extra = fmt.Sprintf("<%s>%s</%s>", field, value, field)
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<?xml version="1.0"?><reportResponse><responseCode>%d</responseCode><responseDescription>%s</responseDescription>%s</reportResponse>`, code, desc, extra)
}

func (f *fakeTipline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != "esp-test" || p != "tipline-secret" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	op, _ := strings.CutPrefix(r.URL.Path, "/ispws/")
	switch op {
	case "submit":
		body, _ := io.ReadAll(r.Body)
		if err := schema.CyberTip.Validate(body); err != nil {
			f.answer(w, 1000, "invalid report", "", "")
			return
		}
		id := fmt.Sprint(5000 + len(f.reports))
		f.reports[id], f.report = "open", body
		f.calls = append(f.calls, "submit")
		f.answer(w, 0, "Success", "reportId", id)
	case "upload":
		rid := r.FormValue("id")
		file, hdr, err := r.FormFile("file")
		if err != nil || f.reports[rid] != "open" {
			f.answer(w, 2000, "bad upload", "", "")
			return
		}
		b, _ := io.ReadAll(file)
		fid := fmt.Sprintf("file-%d", len(f.files)+1)
		f.files[fid], f.fileOf[fid] = b, rid
		f.calls = append(f.calls, "upload "+rid+" "+hdr.Filename)
		f.answer(w, 0, "Success", "fileId", fid)
	case "fileinfo":
		body, _ := io.ReadAll(r.Body)
		var d struct {
			ReportID string `xml:"reportId"`
			FileID   string `xml:"fileId"`
			Viewed   bool   `xml:"fileViewedByEsp"`
		}
		if schema.CyberTip.Validate(body) != nil || xml.Unmarshal(body, &d) != nil || f.fileOf[d.FileID] != d.ReportID {
			f.answer(w, 3000, "bad file details", "", "")
			return
		}
		f.info[d.FileID] = true
		f.calls = append(f.calls, fmt.Sprintf("fileinfo %s %s viewed=%v", d.ReportID, d.FileID, d.Viewed))
		f.answer(w, 0, "Success", "", "")
	case "finish":
		rid := r.PostFormValue("id")
		for fid, of := range f.fileOf {
			if of == rid && !f.info[fid] {
				f.answer(w, 4001, "file without details", "", "")
				return
			}
		}
		if f.reports[rid] != "open" {
			f.answer(w, 4000, "not open", "", "")
			return
		}
		f.reports[rid] = "finished"
		f.calls = append(f.calls, "finish "+rid)
		fmt.Fprintf(w, `<reportDoneResponse><responseCode>0</responseCode><reportId>%s</reportId></reportDoneResponse>`, rid)
	default:
		http.NotFound(w, r)
	}
}

type leReport struct {
	ID                int64  `json:"id"`
	State             string `json:"state"`
	RecipientReportID string `json:"recipient_report_id"`
	Files             []struct {
		EvidenceID string `json:"evidence_id"`
		ViewedBy   string `json:"viewed_by"`
		Details    struct {
			FileViewedByESP bool `json:"fileViewedByEsp"`
			Hashes          []struct {
				Type  string `json:"hashType"`
				Value string `json:"value"`
			} `json:"originalFileHash"`
		} `json:"details"`
	} `json:"files"`
}

// TestLEReportEndToEnd is issue 6's proof over HTTP against a real server
// on SQLite (and PostgreSQL when SAFEGUARD_TEST_POSTGRES is set): a scan's rule preserves content and opens a case; a reviewer
// confirms it; an le_liaison builds a report (the file not viewed), a
// reviewer views the file, the report becomes ready (now viewed) and is
// submitted to a fake CyberTipline on loopback, which gets the calls in
// order with valid payloads; the report ends acknowledged with the
// recipient's id, and the chain of custody is in the verified audit log.
func TestLEReportEndToEnd(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			cfg, st := backend.open(t)
			leReportEndToEnd(t, cfg, st)
		})
	}
}

func leReportEndToEnd(t *testing.T, cfg server.Config, st store.Store) {
	tip := reportTo(t, &cfg)
	base, adminKey := start(t, cfg, st)
	admin := client{t, base, adminKey}
	key := admin.newKey
	platform, _ := key("integrator", "platform")
	reviewer, reviewerID := key("reviewer", "r1")
	liaison, liaisonID := key("le_liaison", "le")

	// A near copy of a listed picture is blocked, kept as evidence and
	// queued for review.
	original, altered := photo(t, 11)
	admin.json("POST", "/v1/banks", map[string]any{"name": "known"}, 201, nil)
	admin.do("POST", "/v1/banks/known/entries?source=hotline&category=A", "image/jpeg", original, 200, nil)
	admin.json("POST", "/v1/rules", map[string]any{
		"name": "known: block, keep, review", "banks": []string{"known"},
		"actions": []map[string]any{{"kind": "block"}, {"kind": "report"}, {"kind": "enqueue", "priority": 80}},
	}, 201, nil)
	var ans struct {
		ScanID string `json:"scan_id"`
	}
	platform.do("POST", "/v1/scan?content_id=post-40&account_id=acct-40", "image/jpeg", altered, 200, &ans)
	var rec struct {
		Evidence string `json:"evidence"`
		PDQ      string `json:"pdq"`
	}
	admin.do("GET", "/v1/scans/"+ans.ScanID, "", nil, 200, &rec)
	if rec.Evidence == "" {
		t.Fatalf("scan %s kept no evidence", ans.ScanID)
	}
	var q queue
	reviewer.do("GET", "/v1/queues/known_csam", "", nil, 200, &q)
	if q.Total != 1 {
		t.Fatalf("known_csam queue: %+v", q)
	}
	caseID := q.Cases[0].Case.ID

	create := map[string]any{
		"case_id": caseID,
		"document": map[string]any{
			"incidentSummary":      map[string]any{"incidentType": string(lereport.ChildPornography), "incidentDateTime": "2026-11-20T10:00:00Z"},
			"personOrUserReported": map[string]any{"espIdentifier": "acct-40"},
		},
		"files": []map[string]any{{"evidence_id": rec.Evidence, "original_file_name": "post-40.jpg", "relevance": "Reported", "classification": "A1"}},
	}
	// Nothing is reported before a reviewer confirms; only le_liaison
	// reports.
	liaison.json("POST", "/v1/le-reports", create, 409, nil)
	reviewer.json("POST", fmt.Sprintf("/v1/cases/%d/decision", caseID),
		map[string]any{"verdict": "confirm", "classification": "A1", "actions": []string{"remove", "le_report"}}, 200, nil)
	reviewer.json("POST", "/v1/le-reports", create, 403, nil)

	var draft leReport
	liaison.json("POST", "/v1/le-reports", create, 201, &draft)
	if draft.State != "draft" || len(draft.Files) != 1 || draft.Files[0].Details.FileViewedByESP {
		t.Fatalf("draft: %+v; want one file, not viewed", draft)
	}
	sum := sha256.Sum256(altered)
	if !slices.ContainsFunc(draft.Files[0].Details.Hashes, func(h struct {
		Type  string `json:"hashType"`
		Value string `json:"value"`
	}) bool {
		return h.Type == "SHA256" && h.Value == hex.EncodeToString(sum[:])
	}) {
		t.Errorf("draft hashes %+v lack the content's SHA-256", draft.Files[0].Details.Hashes)
	}
	if h := draft.Files[0].Details.Hashes; len(h) != 3 || h[2].Type != "PDQ" || h[2].Value != rec.PDQ || rec.PDQ == "" {
		t.Errorf("draft hashes %+v: want MD5, SHA256 and the scan's PDQ %s", h, rec.PDQ)
	}
	path := fmt.Sprintf("/v1/le-reports/%d", draft.ID)

	// The reviewer views the file; the report made ready says so.
	if got := reviewer.do("GET", fmt.Sprintf("/v1/cases/%d/evidence/%s", caseID, rec.Evidence), "", nil, 200, nil); string(got) != string(altered) {
		t.Errorf("the reviewer's view is %d bytes, want the %d scanned", len(got), len(altered))
	}
	var ready leReport
	liaison.do("POST", path+"/ready", "", nil, 200, &ready)
	if ready.State != "ready" || !ready.Files[0].Details.FileViewedByESP || ready.Files[0].ViewedBy != reviewerID {
		t.Fatalf("ready: %+v; want the file viewed by %s", ready, reviewerID)
	}

	var done leReport
	liaison.do("POST", path+"/submit", "", nil, 200, &done)
	if done.State != "acknowledged" || done.RecipientReportID != "5000" {
		t.Errorf("after submission: %+v; want acknowledged as 5000", done)
	}
	want := []string{"submit", "upload 5000 post-40.jpg", "fileinfo 5000 file-1 viewed=true", "finish 5000"}
	tip.mu.Lock()
	calls, report, uploaded := slices.Clone(tip.calls), tip.report, tip.files["file-1"]
	tip.mu.Unlock()
	if !slices.Equal(calls, want) {
		t.Errorf("tipline calls %q, want %q", calls, want)
	}
	if string(uploaded) != string(altered) {
		t.Errorf("uploaded %d bytes, want the %d preserved", len(uploaded), len(altered))
	}
	for _, s := range []string{"<espIdentifier>acct-40</espIdentifier>", "safety@example.net"} {
		if !strings.Contains(string(report), s) {
			t.Errorf("submitted report lacks %s:\n%s", s, report)
		}
	}
	var got leReport
	liaison.do("GET", path, "", nil, 200, &got)
	if got.State != "acknowledged" || got.RecipientReportID != "5000" {
		t.Errorf("GET after submission: %+v", got)
	}

	// The chain of custody: who read the item and why, in a log that
	// verifies.
	auditor, _ := key("auditor", "auditor")
	var log struct {
		Entries []struct {
			Actor   string         `json:"actor"`
			Action  string         `json:"action"`
			Subject string         `json:"subject"`
			Detail  map[string]any `json:"detail"`
		} `json:"entries"`
	}
	auditor.do("GET", "/v1/audit?limit=1000", "", nil, 200, &log)
	var reads []string
	for _, e := range log.Entries {
		if e.Action == "evidence.read" && e.Subject == rec.Evidence {
			reads = append(reads, fmt.Sprintf("%s %v", e.Actor, e.Detail["purpose"]))
		}
	}
	// The first read is the system's, for the hashes of the draft the
	// confirmation opened (a machine read, never a view).
	if wantReads := []string{"system report", liaisonID + " report", reviewerID + " view", liaisonID + " submit"}; !slices.Equal(reads, wantReads) {
		t.Errorf("evidence reads %q, want %q", reads, wantReads)
	}
	var verify struct {
		OK bool `json:"ok"`
	}
	auditor.do("GET", "/v1/audit/verify", "", nil, 200, &verify)
	if !verify.OK {
		t.Error("audit chain does not verify")
	}
}
