package server_test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// A scanned video that matches by vPDQ is kept, reviewed, and reported to
// the CyberTipline as a file: the bytes uploaded are the video's, with its
// MD5 and SHA-256 (a video has no PDQ).
func TestVideoLEReport(t *testing.T) {
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
	clip, err := os.ReadFile(filepath.Join(sampleVideos, "chair-20-sd-bar.mp4"))
	if err != nil {
		t.Skip("no sample video:", err)
	}
	f, err := os.Open("../../testdata/threatexchange/vpdq/sample-hashes/chair-orig-22-sd-bar.txt")
	if err != nil {
		t.Fatal(err)
	}
	frames, err := vpdq.ReadText(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg, st := openSQLite(t)
	tip := reportTo(t, &cfg)
	base, adminKey := start(t, cfg, st)
	admin := client{t, base, adminKey}
	key := func(role, name string) client { c, _ := admin.newKey(role, name); return c }
	platform, reviewer, liaison := key("integrator", "platform"), key("reviewer", "r1"), key("le_liaison", "le")

	admin.json("POST", "/v1/banks", map[string]any{"name": "known"}, 201, nil)
	admin.json("POST", "/v1/banks/known/entries", map[string]any{"entries": []map[string]any{
		{"signal": "vpdq", "value": vpdq.FormatSignal(frames), "category": "A"}}}, 200, nil)
	admin.json("POST", "/v1/rules", map[string]any{
		"name": "known videos", "banks": []string{"known"},
		"actions": []map[string]any{{"kind": "block"}, {"kind": "report"}, {"kind": "enqueue", "priority": 80}},
	}, 201, nil)
	var ans struct {
		ScanID string `json:"scan_id"`
	}
	platform.do("POST", "/v1/scan?content_id=clip-9&account_id=acct-9", "video/mp4", clip, 200, &ans)
	var rec struct {
		Evidence string `json:"evidence"`
	}
	admin.do("GET", "/v1/scans/"+ans.ScanID, "", nil, 200, &rec)
	var q queue
	reviewer.do("GET", "/v1/queues/known_csam", "", nil, 200, &q)
	if rec.Evidence == "" || q.Total != 1 {
		t.Fatalf("evidence %q, queue %+v: want the video kept and queued", rec.Evidence, q)
	}
	caseID := q.Cases[0].Case.ID
	reviewer.do("GET", fmt.Sprintf("/v1/cases/%d/evidence/%s", caseID, rec.Evidence), "", nil, 200, nil)
	reviewer.json("POST", fmt.Sprintf("/v1/cases/%d/decision", caseID),
		map[string]any{"verdict": "confirm", "classification": "A1", "actions": []string{"remove", "le_report"}}, 200, nil)
	var draft leReport
	liaison.json("POST", "/v1/le-reports", map[string]any{
		"case_id": caseID,
		"document": map[string]any{
			"incidentSummary":      map[string]any{"incidentType": string(lereport.ChildPornography), "incidentDateTime": "2026-11-20T10:00:00Z"},
			"personOrUserReported": map[string]any{"espIdentifier": "acct-9"},
		},
		"files": []map[string]any{{"evidence_id": rec.Evidence, "original_file_name": "clip-9.mp4", "relevance": "Reported", "classification": "A1"}},
	}, 201, &draft)
	sum := md5.Sum(clip)
	if h := draft.Files[0].Details.Hashes; len(h) != 2 || !slices.ContainsFunc(h, func(h struct {
		Type  string `json:"hashType"`
		Value string `json:"value"`
	}) bool {
		return h.Type == "MD5" && h.Value == hex.EncodeToString(sum[:])
	}) {
		t.Errorf("draft hashes %+v: want the video's MD5 and SHA-256", h)
	}
	path := fmt.Sprintf("/v1/le-reports/%d", draft.ID)
	liaison.do("POST", path+"/ready", "", nil, 200, nil)
	liaison.do("POST", path+"/submit", "", nil, 200, nil)
	tip.mu.Lock()
	defer tip.mu.Unlock()
	if string(tip.files["file-1"]) != string(clip) || !slices.Contains(tip.calls, "upload 5000 clip-9.mp4") {
		t.Errorf("uploaded %d bytes (calls %q), want the %d-byte video", len(tip.files["file-1"]), tip.calls, len(clip))
	}
}
