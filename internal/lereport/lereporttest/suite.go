package lereporttest

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lereport"
)

var t0 = time.Date(2026, 11, 25, 2, 30, 0, 654321000, time.UTC)

// Sample returns a draft report with every field the package emits set,
// unicode included, that conforms to the schema. Times are whole
// microseconds in UTC, which every backend keeps exactly.
func Sample() lereport.Report {
	yes, no := true, false
	at := t0.Add(-time.Hour)
	ip := lereport.IPCaptureEvent{IPAddress: netip.MustParseAddr("2001:db8::7"), EventName: lereport.Upload, DateTime: &at, PossibleProxy: &no, Port: 443}
	return lereport.Report{
		CaseID:    "case-42",
		Recipient: "cybertipline",
		State:     lereport.Draft,
		Created:   t0,
		Updated:   t0,
		Document: lereport.Document{
			IncidentSummary: lereport.IncidentSummary{
				IncidentType:           lereport.ChildPornography,
				EscalateToHighPriority: "ongoing contact with a child",
				ReportAnnotations:      lereport.ReportAnnotations{lereport.MinorToMinorInteraction, lereport.Sextortion},
				IncidentDateTime:       at,
			},
			InternetDetails: []lereport.InternetDetails{
				{ChatIM: &lereport.ChatIMIncident{ChatClient: "Direct messages", Content: "« conversation exported separately »"}},
				{WebPage: &lereport.WebPageIncident{URL: []string{"https://example.net/p/1?x=1&y=2"}, ThirdPartyHostedContent: &no}},
			},
			Reporter: lereport.Reporter{
				ReportingPerson: lereport.Person{FirstName: "Zoë", LastName: "Trust & Safety", Email: []string{"safety@example.net"}},
				CompanyTemplate: "Serve legal process at legal@example.net.",
				LegalURL:        "https://example.net/legal",
			},
			PersonOrUserReported: &lereport.PersonOrUserReported{
				ESPIdentifier:   "acct_9f",
				ScreenName:      "user<script>",
				DisplayName:     []string{"名前"},
				ProfileURL:      []string{"https://example.net/u/acct_9f"},
				IPCaptureEvents: []lereport.IPCaptureEvent{ip},
			},
			Victims:        []lereport.Victim{{VictimPerson: lereport.Person{Age: 13}, ESPIdentifier: "acct_1c"}},
			AdditionalInfo: "Matched a hotline hash list; confirmed by review.",
		},
		Files: []lereport.File{{
			EvidenceID: "0123456789abcdef0123456789abcdef",
			Details: lereport.FileDetails{
				OriginalFileName:       "IMG_0001.jpg",
				FileViewedByESP:        true,
				ExifViewedByESP:        &no,
				PubliclyAvailable:      &yes,
				FileRelevance:          lereport.Reported,
				FileAnnotations:        lereport.FileAnnotations{lereport.GenerativeAI},
				IndustryClassification: lereport.A1,
				OriginalFileHash:       []lereport.FileHash{{Type: "MD5", Value: "0123456789abcdef0123456789abcdef"}},
				IPCaptureEvents:        []lereport.IPCaptureEvent{ip},
			},
			ViewedBy: "k_reviewer",
			ViewedAt: t0.Add(-30 * time.Minute),
		}},
	}
}

// Run checks that the stores open makes (a fresh, empty one per call) keep
// the promises of lereport.Store.
func Run(t *testing.T, open func(t *testing.T) lereport.Store) {
	t.Run("CreateAndRead", func(t *testing.T) { testCreate(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("FailedUpdateChangesNothing", func(t *testing.T) { testFailedUpdate(t, open(t)) })
	t.Run("ListByState", func(t *testing.T) { testList(t, open(t)) })
	t.Run("ConcurrentTransitions", func(t *testing.T) { testConcurrent(t, open(t)) })
}

func testCreate(t *testing.T, s lereport.Store) {
	ctx := context.Background()
	want := Sample()
	got, err := s.CreateLEReport(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 {
		t.Fatal("CreateLEReport assigned no ID")
	}
	want.ID = got.ID
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CreateLEReport returned\n%+v\nwant\n%+v", got, want)
	}
	read, err := s.LEReport(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(read, want) {
		t.Errorf("LEReport returned\n%+v\nwant\n%+v", read, want)
	}
	second, err := s.CreateLEReport(ctx, Sample())
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == got.ID {
		t.Errorf("two reports share ID %d", got.ID)
	}
}

func testNotFound(t *testing.T, s lereport.Store) {
	ctx := context.Background()
	if _, err := s.LEReport(ctx, 404); !errors.Is(err, lereport.ErrNotFound) {
		t.Errorf("LEReport(404) = %v, want ErrNotFound", err)
	}
	_, err := s.UpdateLEReport(ctx, 404, func(*lereport.Report) error { return nil })
	if !errors.Is(err, lereport.ErrNotFound) {
		t.Errorf("UpdateLEReport(404) = %v, want ErrNotFound", err)
	}
}

func testFailedUpdate(t *testing.T, s lereport.Store) {
	ctx := context.Background()
	r, err := s.CreateLEReport(ctx, Sample())
	if err != nil {
		t.Fatal(err)
	}
	_, err = lereport.Transition(ctx, s, r.ID, lereport.Acknowledged, "k_liaison", "", t0, func(r *lereport.Report) {
		r.RecipientReportID = "123"
	})
	if !errors.Is(err, lereport.ErrTransition) {
		t.Fatalf("draft → acknowledged = %v, want ErrTransition", err)
	}
	got, err := s.LEReport(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("a refused update changed the report:\n%+v\nwant\n%+v", got, r)
	}
}

func testList(t *testing.T, s lereport.Store) {
	ctx := context.Background()
	var ids []int64
	for range 3 {
		r, err := s.CreateLEReport(ctx, Sample())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if _, err := lereport.Transition(ctx, s, ids[1], lereport.Ready, "k_liaison", "", t0, nil); err != nil {
		t.Fatal(err)
	}
	for state, want := range map[lereport.State][]int64{
		lereport.Draft: {ids[0], ids[2]}, lereport.Ready: {ids[1]}, lereport.Submitted: nil,
	} {
		rs, err := s.LEReports(ctx, state)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range rs {
			got = append(got, r.ID)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("LEReports(%s) = %v, want %v", state, got, want)
		}
	}
}

// testConcurrent sends one ready report from several goroutines at once:
// exactly one may move it to submitted.
func testConcurrent(t *testing.T, s lereport.Store) {
	ctx := context.Background()
	r, err := s.CreateLEReport(ctx, Sample())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lereport.Transition(ctx, s, r.ID, lereport.Ready, "k_liaison", "", t0, nil); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = lereport.Transition(ctx, s, r.ID, lereport.Submitted, "k_liaison", "", t0, func(r *lereport.Report) {
				r.RecipientReportID = "9001"
			})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, lereport.ErrTransition):
			t.Errorf("concurrent transition: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent ready → submitted succeeded, want 1", ok, n)
	}
	got, err := s.LEReport(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.History) != 2 || got.State != lereport.Submitted {
		t.Errorf("after the race: state %s, %d changes; want submitted after 2", got.State, len(got.History))
	}
}
