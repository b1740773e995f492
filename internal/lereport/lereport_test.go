package lereport_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
	"github.com/safeguard-oss/safeguard/internal/lereport/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to rewrite):\n%s", name, got)
	}
}

// TestGolden fixes the XML byte for byte: element names, order, escaping,
// and annotations in schema order whatever order they were given in.
func TestGolden(t *testing.T) {
	r := lereporttest.Sample()
	doc, err := r.Document.Encode()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.xml", doc)
	d := r.Files[0].Details
	d.ReportID, d.FileID = "9001", "f-17"
	files, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "filedetails.xml", files)
}

// TestXmllintAcceptsGolden cross-checks the emitted XML with libxml2.
func TestXmllintAcceptsGolden(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (apt-get install libxml2-utils); skipping the cross-check")
	}
	xsd := filepath.Join(t.TempDir(), "cybertipline-subset.xsd")
	if err := os.WriteFile(xsd, schema.CyberTipXSD(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.xml", "filedetails.xml"} {
		out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, filepath.Join("testdata", f)).CombinedOutput()
		if err != nil {
			t.Errorf("xmllint %s: %v\n%s", f, err, out)
		}
	}
}

// TestEncodeRefuses checks that a document the schema refuses cannot be
// encoded, and that the error names the element.
func TestEncodeRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*lereport.Report)
		want   string
	}{
		{"no incident time", func(r *lereport.Report) {
			r.Document.IncidentSummary.IncidentDateTime = time.Time{}
			r.Document.IncidentSummary.IncidentType = ""
		}, "report/incidentSummary/incidentType"},
		{"bad incident type", func(r *lereport.Report) { r.Document.IncidentSummary.IncidentType = "Bad Words" },
			`report/incidentSummary/incidentType: "Bad Words" is not one of`},
		{"no reporter email", func(r *lereport.Report) { r.Document.Reporter.ReportingPerson.Email = nil },
			"report/reporter/reportingPerson/email: missing required element"},
		{"unset IP address", func(r *lereport.Report) {
			r.Document.PersonOrUserReported.IPCaptureEvents[0].IPAddress = netip.Addr{}
		}, "report/personOrUserReported/ipCaptureEvent/ipAddress"},
		{"unknown annotation", func(r *lereport.Report) {
			r.Document.IncidentSummary.ReportAnnotations = append(r.Document.IncidentSummary.ReportAnnotations, "grooming")
		}, "report/incidentSummary/reportAnnotations/grooming: unexpected element"},
		{"two internet details in one", func(r *lereport.Report) {
			r.Document.InternetDetails[0].WebPage = &lereport.WebPageIncident{}
		}, "report/internetDetails/chatImIncident: at most 1 of (webPageIncident|emailIncident|chatImIncident) allowed"},
		{"bad classification", func(r *lereport.Report) { r.Files[0].Details.IndustryClassification = "C" },
			`files/1/fileDetails/industryClassification: "C" is not one of the allowed values ("A1", "A2", "B1", "B2") (evidence 0123456789abcdef0123456789abcdef)`},
		{"bad hash", func(r *lereport.Report) { r.Files[0].Details.OriginalFileHash[0].Value = "xyz" },
			"fileDetails/originalFileHash: \"xyz\" does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lereporttest.Sample()
			tt.mutate(&r)
			err := r.Validate()
			if !errors.Is(err, lereport.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v\nwant ErrInvalid containing %q", err, tt.want)
			}
			if err := r.Move(lereport.Ready, "k_liaison", time.Now(), ""); err == nil {
				t.Error("an invalid report became ready")
			}
			if r.State != lereport.Draft {
				t.Errorf("state %s after a refused move", r.State)
			}
		})
	}
}

// TestFileViewedByESP builds a report of three files: one a reviewer viewed
// (recorded in the audit log as a read for viewing), one only machines read
// (the system hashing it, a liaison's export), one nobody read. Only the
// first may say fileViewedByEsp.
func TestFileViewedByESP(t *testing.T) {
	ctx := context.Background()
	mem := new(audittest.Memory)
	log := audit.NewLog(mem)
	clock := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
	log.SetClock(func() time.Time { clock = clock.Add(time.Minute); return clock })
	const viewed, machine, unread = "aa000000000000000000000000000001", "aa000000000000000000000000000002", "aa000000000000000000000000000003"
	view := map[string]string{"purpose": lereport.ViewPurpose}
	for _, e := range []struct {
		actor, action, subject string
		detail                 any
	}{
		{audit.System, audit.EvidencePut, viewed, nil},
		{audit.System, audit.EvidenceRead, machine, view}, // the system never views
		{"k_liaison", audit.EvidenceRead, machine, map[string]string{"purpose": "export"}},
		{"k_reviewer2", audit.EvidenceRead, machine, nil},   // no purpose: not a view
		{"k_reviewer", audit.ReviewDecision, machine, view}, // not a read
		{"k_reviewer", audit.EvidenceRead, viewed, view},
		{"k_reviewer2", audit.EvidenceRead, viewed, view},
	} {
		if _, err := log.Record(ctx, e.actor, e.action, e.subject, e.detail); err != nil {
			t.Fatal(err)
		}
	}
	b := lereport.Builder{
		Reporter: lereporttest.Sample().Document.Reporter,
		Views:    lereport.AuditViews{Log: mem},
		Now:      func() time.Time { return clock },
	}
	inc := lereport.Incident{
		CaseID:  "case-7",
		Summary: lereport.IncidentSummary{IncidentType: lereport.ChildPornography, IncidentDateTime: clock},
		Files: []lereport.EvidenceFile{
			{EvidenceID: viewed, Relevance: lereport.Reported, Classification: lereport.B2, ExifShown: true},
			{EvidenceID: machine, Relevance: lereport.Reported, ExifShown: true},
			{EvidenceID: unread, Relevance: lereport.SupplementalReported},
		},
	}
	r, err := b.Build(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != lereport.Draft || len(r.Files) != 3 {
		t.Fatalf("Build: state %s, %d files", r.State, len(r.Files))
	}
	for i, want := range []struct {
		viewed, exif bool
		by           string
	}{{true, true, "k_reviewer"}, {false, false, ""}, {false, false, ""}} {
		f := r.Files[i]
		if f.Details.FileViewedByESP != want.viewed || *f.Details.ExifViewedByESP != want.exif || f.ViewedBy != want.by {
			t.Errorf("file %s: viewed %v exif %v by %q; want %v %v %q", f.EvidenceID,
				f.Details.FileViewedByESP, *f.Details.ExifViewedByESP, f.ViewedBy, want.viewed, want.exif, want.by)
		}
	}
	if want := time.Date(2026, 11, 25, 1, 6, 0, 0, time.UTC); !r.Files[0].ViewedAt.Equal(want) {
		t.Errorf("first view at %v, want %v", r.Files[0].ViewedAt, want)
	}
	// A reviewer views the unread file after the draft was built: Refresh
	// reports it, and leaves the others as they were.
	if _, err := log.Record(ctx, "k_reviewer3", audit.EvidenceRead, unread, view); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx, &r); err != nil {
		t.Fatal(err)
	}
	if f := r.Files[2]; !f.Details.FileViewedByESP || f.ViewedBy != "k_reviewer3" || *f.Details.ExifViewedByESP {
		t.Errorf("after Refresh: %+v", f)
	}
	if !r.Files[0].Details.FileViewedByESP || r.Files[0].ViewedBy != "k_reviewer" || r.Files[1].Details.FileViewedByESP {
		t.Errorf("Refresh changed the other files: %+v", r.Files[:2])
	}
	if err := r.Move(lereport.Ready, "k_liaison", clock, ""); err != nil {
		t.Errorf("a built report does not become ready: %v", err)
	}
	if _, err := (&lereport.Builder{}).Build(ctx, inc); err == nil {
		t.Error("a Builder without Views built a report")
	}
}

// TestTransitions walks every pair of states.
func TestTransitions(t *testing.T) {
	all := []lereport.State{lereport.Draft, lereport.Ready, lereport.Submitted, lereport.Acknowledged, lereport.Retracted}
	allowed := map[[2]lereport.State]bool{
		{lereport.Draft, lereport.Ready}: true, {lereport.Draft, lereport.Retracted}: true,
		{lereport.Ready, lereport.Draft}: true, {lereport.Ready, lereport.Submitted}: true, {lereport.Ready, lereport.Retracted}: true,
		{lereport.Submitted, lereport.Acknowledged}: true, {lereport.Submitted, lereport.Retracted}: true,
	}
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	for _, from := range all {
		for _, to := range all {
			r := lereporttest.Sample()
			r.State = from
			r.RecipientReportID = "9001"
			err := r.Move(to, "k_liaison", now, "why")
			if got := err == nil; got != allowed[[2]lereport.State{from, to}] {
				t.Errorf("%s → %s: err %v, allowed %v", from, to, err, allowed[[2]lereport.State{from, to}])
				continue
			}
			if err != nil {
				if !errors.Is(err, lereport.ErrTransition) || r.State != from || len(r.History) != 0 {
					t.Errorf("%s → %s refused with %v, state %s, %d changes", from, to, err, r.State, len(r.History))
				}
				continue
			}
			want := lereport.Change{From: from, To: to, Actor: "k_liaison", At: now, Note: "why"}
			if r.State != to || len(r.History) != 1 || r.History[0] != want {
				t.Errorf("%s → %s: state %s, history %+v", from, to, r.State, r.History)
			}
		}
	}
	// The recipient's id is required to be acknowledged.
	r := lereporttest.Sample()
	r.State = lereport.Submitted
	if err := r.Move(lereport.Acknowledged, "k_liaison", now, ""); !errors.Is(err, lereport.ErrTransition) {
		t.Errorf("acknowledged without a recipient id: %v", err)
	}
	if err := r.Move(lereport.Draft, "", now, ""); err == nil {
		t.Error("a move without an actor was allowed")
	}
}

func TestEditOnlyDrafts(t *testing.T) {
	ctx := context.Background()
	s := new(lereporttest.Memory)
	r, err := s.CreateLEReport(ctx, lereporttest.Sample())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	if _, err := lereport.Edit(ctx, s, r.ID, now, func(r *lereport.Report) { r.Document.AdditionalInfo = "more" }); err != nil {
		t.Fatal(err)
	}
	if _, err := lereport.Transition(ctx, s, r.ID, lereport.Ready, "k_liaison", "", now, nil); err != nil {
		t.Fatal(err)
	}
	_, err = lereport.Edit(ctx, s, r.ID, now, func(r *lereport.Report) { r.Document.AdditionalInfo = "sneaky" })
	if !errors.Is(err, lereport.ErrTransition) {
		t.Errorf("editing a ready report: %v", err)
	}
	got, _ := s.LEReport(ctx, r.ID)
	if got.Document.AdditionalInfo != "more" {
		t.Errorf("additionalInfo %q, want %q", got.Document.AdditionalInfo, "more")
	}
}

// BenchmarkEncode measures marshalling a report and validating it against
// the schema, the cost every Move to Ready and every send pays.
func BenchmarkEncode(b *testing.B) {
	r := lereporttest.Sample()
	for b.Loop() {
		if _, err := r.Document.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}
