package lereport

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
)

// View is one time a person viewed a preserved file.
type View struct {
	Actor string    // the API key id of the person
	At    time.Time //
}

// Views answers "did anyone view this content, who, and when". The audit
// log answers it (AuditViews); a test can answer with a map.
type Views interface {
	// Views lists the views of evidence item id, oldest first.
	Views(ctx context.Context, evidenceID string) ([]View, error)
}

// ViewPurpose is the "purpose" an evidence.read audit entry's detail
// carries when a person looked at the content (the review console showing
// it), as opposed to a machine reading it (hashing, packaging, sending).
const ViewPurpose = "view"

// AuditViews finds views in the audit log: evidence.read entries for the
// item whose detail says {"purpose":"view"}, by an actor other than the
// system. Only those count, so that a machine reading the file to hash or
// send it never makes fileViewedByEsp true.
type AuditViews struct{ Log audit.Store }

// Views implements Views: through the log's index on subject when its
// store has one (audit.Finder), else by reading the whole log.
func (a AuditViews) Views(ctx context.Context, evidenceID string) ([]View, error) {
	var vs []View
	add := func(e audit.Entry) {
		if e.Action != audit.EvidenceRead || e.Subject != evidenceID || e.Actor == audit.System || e.Actor == "" {
			return
		}
		var d struct {
			Purpose string `json:"purpose"`
		}
		if json.Unmarshal(e.Detail, &d) != nil || d.Purpose != ViewPurpose {
			return
		}
		vs = append(vs, View{Actor: e.Actor, At: e.Time})
	}
	if f, ok := a.Log.(audit.Finder); ok {
		es, err := f.AuditEntriesAbout(ctx, audit.EvidenceRead, evidenceID)
		if err != nil {
			return nil, fmt.Errorf("lereport: views of %s: %w", evidenceID, err)
		}
		for _, e := range es {
			add(e)
		}
		return vs, nil
	}
	for e, err := range a.Log.AuditEntries(ctx, 1) {
		if err != nil {
			return nil, fmt.Errorf("lereport: views of %s: %w", evidenceID, err)
		}
		add(e)
	}
	return vs, nil
}

// Incident is what a case says happened: the input to Build. Issue 5's
// cases will fill it; until then, callers do.
type Incident struct {
	CaseID    string
	Recipient string
	Summary   IncidentSummary
	Internet  []InternetDetails
	Reported  *PersonOrUserReported
	Victims   []Victim
	Info      string
	Files     []EvidenceFile
}

// EvidenceFile is a preserved file to include, with what the service knows
// about it. Whether it was viewed is not here: Build asks the audit log.
type EvidenceFile struct {
	EvidenceID        string
	OriginalFileName  string
	Relevance         FileRelevance
	Annotations       FileAnnotations
	Classification    Classification // only for Reported files
	PubliclyAvailable *bool
	Hashes            []FileHash // MD5, SHA256, PDQ recorded at intake
	IPCaptureEvents   []IPCaptureEvent
	// ExifShown says the review console showed the file's EXIF data
	// with it; it counts only if the file itself was viewed.
	ExifShown bool
}

// Builder makes draft reports from incidents.
type Builder struct {
	Reporter Reporter // the service, as it appears in every report
	Views    Views
	Now      func() time.Time // time.Now if nil
}

// Build returns a draft report of inc. Each file's fileViewedByEsp is true
// exactly when Views knows a person viewed it, and the first such view is
// kept with it. The draft is not validated: Move to Ready does that.
func (b *Builder) Build(ctx context.Context, inc Incident) (Report, error) {
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	t := now().UTC()
	r := Report{
		CaseID:    inc.CaseID,
		Recipient: inc.Recipient,
		State:     Draft,
		Created:   t,
		Updated:   t,
		Document: Document{
			IncidentSummary:      inc.Summary,
			InternetDetails:      inc.Internet,
			Reporter:             b.Reporter,
			PersonOrUserReported: inc.Reported,
			Victims:              inc.Victims,
			AdditionalInfo:       inc.Info,
		},
	}
	for _, f := range inc.Files {
		exif := f.ExifShown
		file := File{
			EvidenceID: f.EvidenceID,
			Details: FileDetails{
				OriginalFileName:       f.OriginalFileName,
				ExifViewedByESP:        &exif,
				PubliclyAvailable:      f.PubliclyAvailable,
				FileRelevance:          f.Relevance,
				FileAnnotations:        slices.Clone(f.Annotations),
				IndustryClassification: f.Classification,
				OriginalFileHash:       slices.Clone(f.Hashes),
				IPCaptureEvents:        slices.Clone(f.IPCaptureEvents),
			},
		}
		r.Files = append(r.Files, file)
	}
	if err := b.Refresh(ctx, &r); err != nil {
		return Report{}, fmt.Errorf("lereport: build report for case %s: %w", inc.CaseID, err)
	}
	return r, nil
}

// Refresh sets each file's fileViewedByEsp from Views again: true exactly
// when a person viewed it, keeping the first view. Call it before a draft
// becomes ready, so a view since the draft was built is reported. A file
// not viewed cannot say its EXIF data was.
func (b *Builder) Refresh(ctx context.Context, r *Report) error {
	if b.Views == nil {
		return fmt.Errorf("lereport: report %d: no Views to ask who viewed its files", r.ID)
	}
	for i := range r.Files {
		f := &r.Files[i]
		views, err := b.Views.Views(ctx, f.EvidenceID)
		if err != nil {
			return fmt.Errorf("lereport: report %d: %w", r.ID, err)
		}
		f.Details.FileViewedByESP = len(views) > 0
		f.ViewedBy, f.ViewedAt = "", time.Time{}
		if len(views) > 0 {
			first := slices.MinFunc(views, func(a, b View) int { return a.At.Compare(b.At) })
			f.ViewedBy, f.ViewedAt = first.Actor, first.At.UTC()
		} else if f.Details.ExifViewedByESP != nil && *f.Details.ExifViewedByESP {
			no := false
			f.Details.ExifViewedByESP = &no
		}
	}
	return nil
}
