package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

// TestTextEndToEnd goes from POST /v1/text to a case whose text shows the
// phrases that fired and whose conversation is a thread and kept as
// evidence, to reviewers' decisions, to a model trained on them that
// scores a similar message differently.
func TestTextEndToEnd(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			cfg, st := be.open(t)
			// The chat log is read back from the directory below, also on
			// PostgreSQL (which otherwise keeps evidence in the database).
			cfg.EvidenceDir = filepath.Join(cfg.Data, "evidence")
			textEndToEnd(t, cfg, st)
		})
	}
}

type textAnswer struct {
	MessageID    int64    `json:"message_id"`
	Score        float64  `json:"score"`
	Flagged      bool     `json:"flagged"`
	Labels       []string `json:"labels"`
	CaseID       int64    `json:"case_id"`
	Evidence     string   `json:"evidence"`
	Blocked      bool     `json:"blocked"`
	Conversation *struct {
		Flagged   bool `json:"flagged"`
		FlaggedAt int  `json:"flagged_at"`
	} `json:"conversation"`
}

func textEndToEnd(t *testing.T, cfg server.Config, st store.Store) {
	ctx := context.Background()
	base, adminKey := start(t, cfg, st)
	admin := client{t, base, adminKey}
	keys := keysFor(t, st, map[string]auth.Role{"platform": auth.Integrator, "reviewer": auth.Reviewer})
	platform, reviewer := client{t, base, keys["platform"]}, client{t, base, keys["reviewer"]}

	admin.json("POST", "/v1/rules", map[string]any{
		"name": "grooming and sextortion to review", "text_labels": []string{"grooming", "sextortion"},
		"surfaces": []string{"direct_message"}, "actions": []map[string]any{{"kind": "enqueue", "priority": 70}},
	}, 201, nil)
	admin.json("POST", "/v1/rules", map[string]any{
		"name": "every comment under a child's photo", "min_text_score": 0, "surfaces": []string{"comment"},
		"actions": []map[string]any{{"kind": "enqueue", "priority": 20}},
	}, 201, nil)
	admin.json("POST", "/v1/rules", map[string]any{
		"name": "restrict sexual comments", "text_labels": []string{"sexual_comment"},
		"actions": []map[string]any{{"kind": "block"}},
	}, 201, nil)

	// Hostile input: a 400 naming the problem, nothing scored.
	for _, bad := range []map[string]any{
		{"text": "hi", "surface": "sms"},
		{"text": "", "surface": "dm"},
		{"text": "hi", "surface": "dm", "target_age": -3},
		{"text": "hi\x00", "surface": "dm"},
		{"text": strings.Repeat("a", textmsg.MaxText+1), "surface": "dm"},
	} {
		b := platform.json("POST", "/v1/text", bad, 400, nil)
		if !strings.Contains(string(b), "bad_request") {
			t.Errorf("%v: %s", bad["surface"], b)
		}
	}
	platform.json("POST", "/v1/text/batch", map[string]any{"messages": []map[string]any{
		{"text": "ok", "surface": "dm", "conversation_id": "never"}, {"text": "x", "surface": "nope"},
	}}, 400, nil)
	if ms, _ := st.Conversation(ctx, "never", 10); len(ms) != 0 {
		t.Errorf("a refused batch kept %d messages", len(ms))
	}

	// A grooming conversation, one message at a time, to a declared 13-year-old.
	chat := []string{
		"hey :) what school do u go to",
		"ur so mature for ur age, way more than other girls",
		"dont tell ur parents we talk ok? delete this chat after",
		"add me on snap, its safer there",
	}
	var answers []textAnswer
	for i, text := range chat {
		author, target := "adult-1", "kid-1"
		var a textAnswer
		platform.json("POST", "/v1/text", map[string]any{
			"text": text, "surface": "dm", "author": author, "target": target, "conversation_id": "dm-1-2", "target_age": 13,
		}, 200, &a)
		if a.MessageID == 0 || a.Conversation == nil {
			t.Fatalf("message %d: %+v", i, a)
		}
		answers = append(answers, a)
	}
	last := answers[len(answers)-1]
	if !last.Conversation.Flagged || last.Conversation.FlaggedAt > 2 {
		t.Fatalf("conversation not flagged by its third message: %+v", last.Conversation)
	}
	var caseID int64
	for _, a := range answers {
		if a.CaseID != 0 {
			caseID = a.CaseID
			if a.Evidence == "" {
				t.Errorf("message %d opened case %d without keeping the conversation", a.MessageID, a.CaseID)
			}
		}
	}
	if caseID == 0 {
		t.Fatalf("no case opened: %+v", answers)
	}

	// The case shows the text with the phrases that fired, and the thread.
	var cv struct {
		Case struct {
			Category string `json:"category"`
		} `json:"case"`
		Reports []review.Report `json:"reports"`
	}
	reviewer.do("GET", fmt.Sprintf("/v1/cases/%d", caseID), "", nil, 200, &cv)
	if cv.Case.Category != "grooming" || len(cv.Reports) == 0 {
		t.Fatalf("case %d: %+v", caseID, cv)
	}
	var phrases []string
	for _, r := range cv.Reports {
		ts := r.TextSignal
		if ts == nil || len(ts.Highlights) == 0 || len(ts.Thread) < 2 || ts.ConversationID != "dm-1-2" || ts.Evidence == "" {
			t.Fatalf("report %d's text signal: %+v", r.ID, ts)
		}
		for _, h := range ts.Highlights {
			phrases = append(phrases, r.Text[h.Start:h.End])
		}
		if th := ts.Thread[len(ts.Thread)-1]; th.Text != r.Text || th.MessageID != ts.MessageID {
			t.Errorf("the thread does not end with the report's message: %+v", th)
		}
	}
	if j := strings.Join(phrases, "|"); !strings.Contains(j, "dont tell") && !strings.Contains(j, "delete this chat") && !strings.Contains(j, "snap") {
		t.Errorf("highlighted phrases %q", j)
	}

	// The chat log around the flagged message, for a law-enforcement report:
	// through the API, and as the evidence item.
	var around struct {
		Messages []textmsg.Message `json:"messages"`
	}
	reviewer.do("GET", fmt.Sprintf("/v1/text/messages/%d/around?before=2&after=5", answers[2].MessageID), "", nil, 200, &around)
	if len(around.Messages) != 4 || around.Messages[0].Text != chat[0] || around.Messages[3].Text != chat[3] {
		t.Errorf("around message 3: %+v", around.Messages)
	}
	platform.do("GET", fmt.Sprintf("/v1/text/messages/%d/around", answers[2].MessageID), "", nil, 403, nil)
	reviewer.do("GET", "/v1/text/messages/999999/around", "", nil, 404, nil)
	kr, err := evidence.ParseKeyring(testEvidenceKeys)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evidence.Open(filepath.Join(cfg.Data, "evidence"), kr)
	if err != nil {
		t.Fatal(err)
	}
	data, item, err := ev.Get(cv.Reports[0].TextSignal.Evidence)
	if err != nil || item.Meta.ContentType != textmsg.ChatLogType || !strings.Contains(string(data), textmsg.ChatLogFormat) || !strings.Contains(string(data), chat[0]) {
		t.Errorf("chat-log evidence: %v %+v %.200s", err, item.Meta, data)
	}

	// Comments under a child's photo: every one is queued by the catch-all
	// rule; sexual ones are restricted too.
	comments := []struct {
		text    string
		harmful bool
	}{
		{"so hot 🥵 send more of her", true},
		{"mmm she looks so ripe 😏 dm me pics", true},
		{"what a lovely dress, where is it from", false},
		{"she looks ripe for the school play, so grown up", false},
	}
	cases := map[int64]bool{}
	for i, c := range comments {
		var a textAnswer
		platform.json("POST", "/v1/text", map[string]any{
			"text": c.text, "surface": "comment", "author": fmt.Sprintf("commenter-%d", i), "content_id": fmt.Sprintf("photo-%d", i), "child_content": true,
		}, 200, &a)
		if a.CaseID == 0 {
			t.Fatalf("comment %q opened no case", c.text)
		}
		if c.harmful && (!a.Flagged || !a.Blocked) {
			t.Errorf("comment %q: flagged %v blocked %v", c.text, a.Flagged, a.Blocked)
		}
		cases[a.CaseID] = c.harmful
	}
	// Reviewers decide: the grooming case and the sexual comments confirmed,
	// the others dismissed.
	cases[caseID] = true
	for id, harmful := range cases {
		dec := map[string]any{"verdict": "dismiss", "reason": "harmless"}
		if harmful {
			dec = map[string]any{"verdict": "confirm", "reason": "harmful", "actions": []string{"remove"}}
		}
		if id == caseID { // the grooming conversation goes to the police
			dec["actions"] = []string{"remove", "le_report"}
		}
		reviewer.json("POST", fmt.Sprintf("/v1/cases/%d/decision", id), dec, 200, nil)
	}

	// The law-enforcement draft the confirmation opened names the
	// conversation and quotes its flagged messages (textmsg.ChatSource).
	liaison := client{t, base, keysFor(t, st, map[string]auth.Role{"liaison": auth.LELiaison})["liaison"]}
	var lq struct {
		Reports []struct {
			ReportID int64  `json:"report_id"`
			CaseID   string `json:"case_id"` // a report's case, as the LE routes write it
		} `json:"reports"`
	}
	liaison.do("GET", "/v1/le-queue", "", nil, 200, &lq)
	var draft []byte
	for _, r := range lq.Reports {
		if r.CaseID == fmt.Sprint(caseID) {
			draft = liaison.do("GET", fmt.Sprintf("/v1/le-reports/%d", r.ReportID), "", nil, 200, nil)
		}
	}
	if !strings.Contains(string(draft), "chatImIncident") || !strings.Contains(string(draft), "dm-1-2") {
		t.Errorf("the grooming case's law-enforcement draft carries no chat log: %.2000s (queue %+v)", draft, lq.Reports)
	}

	// The decisions are the learning examples; a model trained on them
	// changes the score of a message like a dismissed one.
	ex, err := textmsg.Reviewed(ctx, st, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	pos := 0
	for _, e := range ex {
		if e.Positive {
			pos++
		}
	}
	if len(ex) < len(comments)+2 || pos < 3 || pos == len(ex) {
		t.Fatalf("%d examples from the store, %d confirmed", len(ex), pos)
	}
	rules, err := textrisk.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	md, err := rules.Train(ex, textrisk.TrainOptions{Seed: 1, Epochs: 40})
	if err != nil {
		t.Fatal(err)
	}
	learned, err := textrisk.New(md)
	if err != nil {
		t.Fatal(err)
	}
	similar := textrisk.Message{Text: "she looks ripe for the dance show, so grown up", Surface: textrisk.Comment, OnChildContent: true}
	before, after := rules.Score(similar).Score, learned.Score(similar).Score
	if !(after < before) {
		t.Errorf("a message like a dismissed one: %.3f with the rules, %.3f with the model trained on the dismissal", before, after)
	}
	if harm := (textrisk.Message{Text: "so hot 🥵 send more pics of her", Surface: textrisk.Comment, OnChildContent: true}); !learned.Score(harm).Flagged {
		t.Errorf("a message like a confirmed one is no longer flagged: %.3f", learned.Score(harm).Score)
	}
	t.Logf("similar to a dismissed comment: rules %.3f, retrained %.3f (model %s, %d decisions)", before, after, md.ID, md.Examples)
}
