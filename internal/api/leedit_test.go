package api_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/hotline"
)

// Issue 13's trial: a PUT of the document alone dropped the files, and the
// report went ready with none for a CSAM incident; a ready report could
// not go back to draft. Now an edit is partial, a CSAM report needs files
// to become ready, and ready goes back to draft before submission, each
// step in the history and the audit log.
func TestLEReportEditsKeepEvidence(t *testing.T) {
	d, _, _, item := leDesk(t)
	rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "user-1", "category": "suspected_csam", "content_id": "post-1", "account_id": "acct-9"}, 201)
	caseID := num(rep["case_id"])
	d.do("reviewer", "POST", fmt.Sprintf("/v1/cases/%d/decision", caseID), map[string]any{"verdict": "confirm", "classification": "A1", "actions": []string{"remove"}}, 200)
	draft := d.do("le_liaison", "POST", "/v1/le-reports", map[string]any{
		"case_id": caseID, "document": leDocument(string(lereport.ChildPornography)),
		"files": []map[string]any{{"evidence_id": item.ID, "original_file_name": "IMG_1.jpg", "relevance": "Reported", "classification": "A1"}},
	}, 201)
	path := fmt.Sprintf("/v1/le-reports/%d", num(draft["id"]))

	// The document alone: the files stay, and so do the document's fields
	// not sent.
	out := d.do("le_liaison", "PUT", path, map[string]any{"document": map[string]any{"additionalInfo": "seen twice"}}, 200)
	doc := out["document"].(map[string]any)
	if f := fileOf(t, out, 0); f["evidence_id"] != item.ID || f["details"].(map[string]any)["originalFileName"] != "IMG_1.jpg" {
		t.Errorf("files after a document-only edit: %v", out["files"])
	}
	if doc["additionalInfo"] != "seen twice" || doc["incidentSummary"].(map[string]any)["incidentType"] != string(lereport.ChildPornography) ||
		doc["personOrUserReported"].(map[string]any)["screenName"] != "uploader" {
		t.Errorf("document after a partial edit: %v", doc)
	}
	// One nested field: its siblings stay.
	out = d.do("le_liaison", "PUT", path, map[string]any{"document": map[string]any{"personOrUserReported": map[string]any{"screenName": "up2"}}}, 200)
	if p := out["document"].(map[string]any)["personOrUserReported"].(map[string]any); p["espIdentifier"] != "acct-9" || p["screenName"] != "up2" {
		t.Errorf("account after a nested edit: %v", p)
	}
	d.do("le_liaison", "PUT", path, map[string]any{"document": map[string]any{"bogus": 1}}, 400)
	// The document as read goes back as it is; its reporter stays the
	// service's.
	back := maps(out["document"].(map[string]any))
	back["reporter"] = map[string]any{"reportingPerson": map[string]any{"email": []string{"someone@else.example"}}}
	out = d.do("le_liaison", "PUT", path, map[string]any{"document": back}, 200)
	if b, _ := json.Marshal(out["document"]); strings.Contains(string(b), "someone@else") || !strings.Contains(string(b), "safety@example.net") {
		t.Errorf("the reporter after sending the document back: %s", b)
	}

	// Files sent are the whole list: none, and ready refuses at "files".
	out = d.do("le_liaison", "PUT", path, map[string]any{"files": []any{}}, 200)
	if out["files"] != nil {
		t.Errorf("files after an explicit empty list: %v", out["files"])
	}
	e := d.do("le_liaison", "POST", path+"/ready", nil, 422)
	if msg := fmt.Sprint(e["error"]); !strings.Contains(msg, "files") {
		t.Errorf("ready of a CSAM report without files: %v", e)
	}
	d.do("le_liaison", "PUT", path, map[string]any{"files": []map[string]any{{"evidence_id": item.ID, "relevance": "Reported", "classification": "A1"}}}, 200)
	d.do("le_liaison", "POST", path+"/ready", nil, 200)

	// Ready: edits refused, saying how to go back; back to draft; edited;
	// ready again.
	e = d.do("le_liaison", "PUT", path, map[string]any{"document": map[string]any{"additionalInfo": "x"}}, 409)
	if !strings.Contains(fmt.Sprint(e["error"]), path+"/draft") {
		t.Errorf("edit of a ready report: %v; want the way back named", e)
	}
	d.do("reviewer", "POST", path+"/draft", map[string]any{"reason": "x"}, 403)
	back = d.do("le_liaison", "POST", path+"/draft", map[string]any{"reason": "add the second account"}, 200)
	if back["state"] != "draft" {
		t.Errorf("after /draft: %v", back)
	}
	d.do("le_liaison", "POST", path+"/draft", map[string]any{}, 409) // a draft already
	d.do("le_liaison", "PUT", path, map[string]any{"document": map[string]any{"additionalInfo": "with the second account"}}, 200)
	final := d.do("le_liaison", "POST", path+"/ready", nil, 200)
	var moves []string
	for _, h := range final["history"].([]any) {
		m := h.(map[string]any)
		moves = append(moves, fmt.Sprint(m["from"], "→", m["to"]))
	}
	if got := strings.Join(moves, " "); got != "→draft draft→ready ready→draft draft→ready" {
		t.Errorf("history %s", got)
	}
	sub := "lereport:" + strings.TrimPrefix(path, "/v1/le-reports/")
	var actions []string
	for _, e := range d.audited() {
		if strings.HasSuffix(e, " "+sub) {
			actions = append(actions, e)
		}
	}
	for _, want := range []string{"lereport.create", "lereport.edit", "lereport.ready", "lereport.unready"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit %v lacks %s", actions, want)
		}
	}
}

// conversations is a fake of the text signal's message store.
type conversations []lereport.Message

func (c conversations) Around(_ context.Context, accounts []string) ([]lereport.Message, error) {
	var out []lereport.Message
	for _, m := range c {
		if slices.Contains(accounts, m.From) || slices.Contains(accounts, m.To) {
			out = append(out, m)
		}
	}
	return out, nil
}

// With a conversation source, a prefilled draft names the conversation
// around the flagged message and its package carries the messages.
func TestLEReportConversations(t *testing.T) {
	at := time.Date(2026, 11, 24, 20, 0, 0, 0, time.UTC)
	src := conversations{
		{Time: at, Conversation: "dm-42", From: "acct-9", To: "acct-child", Text: "how old are you"},
		{Time: at.Add(time.Minute), Conversation: "dm-42", From: "acct-9", To: "acct-child", Text: "send a photo, don't tell", Flagged: true},
		{Time: at, Conversation: "dm-7", From: "someone", To: "else", Text: "unrelated", Flagged: true},
	}
	d, _, _, item := leDesk(t, func(c *api.Config) { c.Conversations = src })
	rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "user-1", "category": "grooming", "content_id": "post-1", "account_id": "acct-9"}, 201)
	caseID := num(rep["case_id"])
	d.do("reviewer", "POST", fmt.Sprintf("/v1/cases/%d/decision", caseID), map[string]any{"verdict": "confirm", "actions": []string{"restrict", "le_report"}}, 200)
	list := d.do("le_liaison", "GET", "/v1/le-reports", nil, 200)
	reports := list["reports"].([]any)
	if len(reports) != 1 {
		t.Fatalf("reports after the decision: %v", list)
	}
	draft := reports[0].(map[string]any)
	b, _ := json.Marshal(draft["document"])
	if !strings.Contains(string(b), `"chatRoomName":"dm-42"`) || !strings.Contains(string(b), "send a photo") || strings.Contains(string(b), "dm-7") ||
		!strings.Contains(string(b), string(lereport.OnlineEnticement)) {
		t.Errorf("draft document %s; want dm-42 quoted, dm-7 not, enticement", b)
	}
	path := fmt.Sprintf("/v1/le-reports/%d", num(draft["id"]))
	d.do("le_liaison", "PUT", path, map[string]any{"files": []map[string]any{{"evidence_id": item.ID, "relevance": "Supplemental Reported"}}}, 200)
	d.do("le_liaison", "POST", path+"/ready", nil, 200)
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkg := d.raw("le_liaison", "POST", path+"/package", map[string]string{"recipient_key": base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes())}, 200)
	c, err := hotline.Open(bytes.NewReader(pkg.Body.Bytes()), int64(pkg.Body.Len()), priv)
	if err != nil {
		t.Fatal(err)
	}
	var csvb strings.Builder
	if err := c.Decrypt(&csvb, hotline.ConversationsCSV); err != nil {
		t.Fatal(err)
	}
	if csv := csvb.String(); !strings.Contains(csv, "how old are you") || !strings.Contains(csv, "send a photo") || strings.Contains(csv, "unrelated") {
		t.Errorf("conversations.csv = %q; want dm-42's two messages only", csv)
	}
}
