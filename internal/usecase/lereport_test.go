package usecase

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/scan/scantest"
)

// fakeConversations is the conversation source the text signal will
// provide: messages by account.
type fakeConversations struct {
	msgs  []lereport.Message
	asked [][]string
}

func (f *fakeConversations) Around(_ context.Context, accounts []string) ([]lereport.Message, error) {
	f.asked = append(f.asked, accounts)
	return f.msgs, nil
}

func draftsFixture(t *testing.T) (*Drafts, *audit.Log, *audittest.Memory, scan.Record, evidence.Item) {
	t.Helper()
	kr, err := evidence.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evidence.Open(t.TempDir(), kr)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	item, err := ev.Put([]byte("content"), evidence.Meta{ContentID: "post-5", AccountID: "acct-5",
		Upload: &evidence.Upload{IP: "2001:db8::5", Port: 443, Time: at, FileName: "a.jpg"}})
	if err != nil {
		t.Fatal(err)
	}
	scans := new(scantest.Memory)
	rec := scan.Record{ID: "scn_" + strings.Repeat("a", 32), Time: at.Add(time.Minute), Kind: scan.KindScan, ContentID: "post-5", AccountID: "acct-5",
		PDQ: strings.Repeat("0f", 32), Evidence: item.ID, Visibility: "private",
		Decision: rules.Decision{Actions: []rules.Decided{{Action: rules.Action{Kind: rules.Report}, Rule: rules.RuleRef{ID: 4}}}}}
	if err := scans.RecordScan(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	mem := new(audittest.Memory)
	return &Drafts{Evidence: ev, Scans: scans}, audit.NewLog(mem), mem, rec, item
}

// The incident is what the service knows, and the conversation around the
// flagged messages comes from the source when there is one.
func TestDraftsIncident(t *testing.T) {
	d, log, mem, rec, item := draftsFixture(t)
	conv := &fakeConversations{msgs: []lereport.Message{
		{Time: time.Date(2026, 11, 19, 22, 0, 0, 0, time.UTC), Conversation: "dm-9", From: "acct-5", To: "acct-6", Text: "hello"},
		{Time: time.Date(2026, 11, 19, 22, 5, 0, 0, time.UTC), Conversation: "dm-9", From: "acct-5", To: "acct-6", Text: "send a photo", Flagged: true},
	}}
	d.Conversations = conv
	c := review.Case{ID: 12, Category: review.Grooming, AccountIDs: []string{"acct-5", "acct-8"}, OpenedAt: rec.Time.Add(time.Hour),
		Signals: review.Signals{Matches: []match.Match{{Bank: "known", EntryID: 3, Signal: "pdq", Distance: 4}}}}
	rs := []review.Report{{Source: review.Rule, Text: "scan " + rec.ID, Rule: &rules.RuleRef{ID: 4}, ReceivedAt: rec.Time}}
	dec := review.Decision{Reviewer: "k_rev", Verdict: review.Confirm, Classification: review.B2, At: rec.Time.Add(2 * time.Hour)}
	inc, err := d.Incident(t.Context(), log, c, rs, dec)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Summary.IncidentType != lereport.OnlineEnticement || !inc.Summary.IncidentDateTime.Equal(item.Meta.Upload.Time) {
		t.Errorf("summary %+v; want enticement at the upload's time", inc.Summary)
	}
	if inc.Reported == nil || inc.Reported.ESPIdentifier != "acct-5" || !strings.Contains(inc.Reported.AdditionalInfo, "acct-8") ||
		len(inc.Reported.IPCaptureEvents) != 1 || inc.Reported.IPCaptureEvents[0].IPAddress.String() != "2001:db8::5" {
		t.Errorf("reported %+v", inc.Reported)
	}
	if len(inc.Files) != 1 || inc.Files[0].EvidenceID != item.ID || inc.Files[0].Classification != lereport.B2 ||
		*inc.Files[0].PubliclyAvailable || inc.Files[0].OriginalFileName != "a.jpg" || len(inc.Files[0].Hashes) != 3 {
		t.Errorf("files %+v", inc.Files)
	}
	if len(conv.asked) != 1 || len(conv.asked[0]) != 2 {
		t.Errorf("conversations asked for %v; want the case's two accounts", conv.asked)
	}
	if len(inc.Internet) != 1 || inc.Internet[0].ChatIM == nil || inc.Internet[0].ChatIM.ChatRoomName != "dm-9" ||
		!strings.Contains(inc.Internet[0].ChatIM.Content, "send a photo") || strings.Contains(inc.Internet[0].ChatIM.Content, "hello") ||
		!strings.Contains(inc.Internet[0].ChatIM.AdditionalInfo, "2 messages") {
		t.Errorf("chat incidents %+v; want dm-9 quoting the flagged message, counting both", inc.Internet)
	}
	if !strings.Contains(inc.Info, "case 12") && !strings.Contains(inc.Info, "Case 12") || !strings.Contains(inc.Info, `"known" entry 3`) {
		t.Errorf("info %q", inc.Info)
	}
	// The built document conforms: a person need add nothing.
	b := lereport.Builder{Reporter: lereport.Reporter{ReportingPerson: lereport.Person{Email: []string{"s@example.net"}}}, Views: lereport.AuditViews{Log: new(audittest.Memory)}}
	r, err := b.Build(t.Context(), inc)
	if err != nil {
		t.Fatal(err)
	}
	if ps := r.Problems(); len(ps) != 0 {
		t.Errorf("problems of the built draft: %+v", ps)
	}
	// The read for the hashes is the system's, never a view.
	n := 0
	for e := range mem.AuditEntries(t.Context(), 1) {
		if e.Action == audit.EvidenceRead && e.Actor == audit.System && e.Subject == item.ID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d system reads of the item recorded, want 1", n)
	}
}

// Which decisions open a report: a person's confirmation with le_report,
// of known CSAM matched by the service, or of a rule's report; never an
// automatic decision, a dismissal or a pending first dismissal.
func TestWantsReport(t *testing.T) {
	d, _, _, rec, _ := draftsFixture(t)
	ruleRep := []review.Report{{Source: review.Rule, Text: "scan " + rec.ID, Rule: &rules.RuleRef{ID: 4}}}
	known := review.Case{Category: review.KnownCSAM, Signals: review.Signals{Matches: []match.Match{{Bank: "b"}}}}
	claimed := review.Case{Category: review.KnownCSAM, Signals: review.Signals{Matches: []match.Match{{Bank: "b", Claimed: true}}}}
	person := review.Decision{Reviewer: "k1", Verdict: review.Confirm}
	for _, tc := range []struct {
		name string
		c    review.Case
		rs   []review.Report
		dec  review.Decision
		want bool
	}{
		{"le_report chosen", review.Case{Category: review.Grooming}, nil, review.Decision{Reviewer: "k1", Verdict: review.Confirm, Actions: []review.Action{review.SendToLE}}, true},
		{"known CSAM", known, nil, person, true},
		{"claimed match only", claimed, nil, person, false},
		{"rule report", review.Case{Category: review.SuspectedCSAM}, ruleRep, person, true},
		{"automatic", known, ruleRep, review.Decision{Reviewer: review.System, Verdict: review.Confirm, Actions: []review.Action{review.SendToLE}}, false},
		{"dismissed", known, ruleRep, review.Decision{Reviewer: "k1", Verdict: review.Dismiss}, false},
		{"pending", known, ruleRep, review.Decision{Reviewer: "k1", Verdict: review.Dismiss, Pending: true}, false},
		{"nothing asks", review.Case{Category: review.Grooming}, nil, person, false},
	} {
		if got := wantsReport(t.Context(), d.Scans, tc.c, tc.rs, tc.dec) != ""; got != tc.want {
			t.Errorf("%s: wants a report = %v, want %v", tc.name, got, tc.want)
		}
	}
}
