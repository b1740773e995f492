// Package lereport makes law-enforcement reports: the report a US service
// must send NCMEC's CyberTipline about apparent child sexual abuse material,
// or the evidence package a hotline elsewhere receives.
//
// A report is a Document (the CyberTipline's <report> XML) and, for each
// file, its FileDetails (the <fileDetails> XML), kept in a Report that moves
// through the states draft → ready → submitted → acknowledged, or to
// retracted. Every document is checked against schema/cybertipline-subset.xsd
// before a report may become ready, so nothing malformed is ever sent. The
// Builder makes drafts and sets each file's fileViewedByEsp from what the
// audit log says a person viewed, never from what a caller claims.
//
// Sending is elsewhere: package cybertip speaks the CyberTipline's HTTP
// flow, package hotline writes encrypted evidence packages. The storage a
// report needs is the Store interface; lereporttest holds an in-memory one
// and the conformance suite every Store passes. See docs/lereport.md.
package lereport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/lereport/schema"
)

// State is where a report is in its life.
type State string

const (
	// Draft: being written; the documents may change.
	Draft State = "draft"
	// Ready: every document conforms to the schema; waiting to be sent.
	Ready State = "ready"
	// Submitted: sent, or being sent: the CyberTipline has accepted the
	// report and given it an id (RecipientReportID) and files are going;
	// or a package went to a hotline.
	Submitted State = "submitted"
	// Acknowledged: the recipient confirmed the complete report (the
	// CyberTipline's /finish, or a hotline's receipt). Final.
	Acknowledged State = "acknowledged"
	// Retracted: withdrawn before the recipient acknowledged it. Final.
	Retracted State = "retracted"
)

// next lists the states each state may move to.
var next = map[State][]State{
	Draft:     {Ready, Retracted},
	Ready:     {Draft, Submitted, Retracted},
	Submitted: {Acknowledged, Retracted},
}

// CanMove reports whether a report may move from one state to another.
func CanMove(from, to State) bool { return slices.Contains(next[from], to) }

// Errors the package returns; test with errors.Is.
var (
	ErrNotFound   = derrors.New(derrors.NotFound, "law-enforcement report not found")
	ErrTransition = derrors.New(derrors.WrongState, "state change not allowed")
	ErrInvalid    = derrors.New(derrors.Invalid, "report does not conform to the schema").WithCode("invalid_le_report")
)

// Audit log actions for reports leaving the service. The subject is
// Subject(id); the detail names the recipient's ids, never content.
const (
	AuditSubmit  = "lereport.submit"  // the recipient accepted the report
	AuditFile    = "lereport.file"    // a file and its details reached the recipient
	AuditFinish  = "lereport.finish"  // the recipient confirmed the whole report
	AuditRetract = "lereport.retract" // withdrawn
	AuditPackage = "lereport.package" // an evidence package was written; detail: the manifest's SHA-256
)

// Subject is the audit log subject naming report id.
func Subject(id int64) string { return fmt.Sprintf("lereport:%d", id) }

// Report is a law-enforcement report as the service keeps it.
type Report struct {
	ID        int64     `json:"id"`        // the store's; 0 until created
	CaseID    string    `json:"case_id"`   // the case it reports
	Recipient string    `json:"recipient"` // "cybertipline", or a hotline's name
	State     State     `json:"state"`
	Document  Document  `json:"document"`
	Files     []File    `json:"files,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	// RecipientReportID is the recipient's id for the report: the
	// CyberTipline's report id from /submit, or a hotline's reference.
	RecipientReportID string   `json:"recipient_report_id,omitempty"`
	History           []Change `json:"history,omitempty"` // every state change, oldest first
}

// File is one preserved file a report includes.
type File struct {
	EvidenceID string      `json:"evidence_id"` // the item in the evidence store
	Details    FileDetails `json:"details"`     // ReportID and FileID are set when sent
	// ViewedBy and ViewedAt record the first view that set
	// Details.FileViewedByESP, so the report can show why it says so.
	ViewedBy string    `json:"viewed_by,omitempty"`
	ViewedAt time.Time `json:"viewed_at,omitzero"`
	// InfoSent records that the recipient has the file and its details,
	// so an interrupted submission resumes where it stopped.
	InfoSent bool `json:"info_sent,omitempty"`
}

// Files gives the preserved content of a report's files to the senders
// (cybertip's upload, hotline's package). The evidence store answers it,
// recording each read in the audit log (chain of custody). Content comes
// as a stream, never whole: an item may be a video of hundreds of
// megabytes, and a report may have several.
type Files interface {
	// File opens evidence item id's content, of size bytes. The reader
	// fails, rather than ending, where the content is not what was kept;
	// the caller closes it. A sender that must start again (a retry)
	// opens the item again.
	File(ctx context.Context, evidenceID string) (content io.ReadCloser, size int64, err error)
}

// Change is one state change.
type Change struct {
	From  State     `json:"from"`
	To    State     `json:"to"`
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
}

// Store keeps reports. Implementations must make UpdateLEReport atomic:
// concurrent updates of one report apply one after the other, each seeing
// the last one's result.
type Store interface {
	// CreateLEReport stores r as a new report, assigning its ID.
	CreateLEReport(ctx context.Context, r Report) (Report, error)
	// LEReport returns the report with the given ID, or ErrNotFound.
	LEReport(ctx context.Context, id int64) (Report, error)
	// UpdateLEReport reads the report, lets update change it, and stores
	// the result, unless update returns an error, which it returns. The
	// ID cannot change.
	UpdateLEReport(ctx context.Context, id int64, update func(*Report) error) (Report, error)
	// LEReports lists the reports in a state, by ID.
	LEReports(ctx context.Context, state State) ([]Report, error)
}

// Problem is one way a report does not conform: the field at fault (the
// element's path, e.g. "report/incidentSummary/incidentType", or
// "files/2/fileDetails/industryClassification" for the second file) and
// what is wrong with it.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problems checks the report's document and every file's details against
// the schema, and that a child-sexual-abuse-material report has files. It
// lists the first problem of the document and of each file, so an editor
// can show each at its field. The recipient's ids are not known before
// sending, so files without them are checked with stand-ins of the right
// form.
func (r *Report) Problems() []Problem {
	var ps []Problem
	add := func(prefix, suffix string, err error) {
		var se *schema.Error
		if errors.As(err, &se) {
			ps = append(ps, Problem{Field: prefix + se.Path, Message: se.Msg + suffix})
		} else {
			ps = append(ps, Problem{Field: strings.TrimSuffix(prefix, "/"), Message: err.Error()})
		}
	}
	if _, err := r.Document.Encode(); err != nil {
		add("", "", err)
	}
	if r.Document.IncidentSummary.IncidentType == ChildPornography && len(r.Files) == 0 {
		ps = append(ps, Problem{Field: "files", Message: fmt.Sprintf("a %q report must include the files it is about; none are attached", ChildPornography)})
	}
	for i, f := range r.Files {
		d := f.Details
		if d.ReportID == "" {
			d.ReportID = "1"
		}
		if d.FileID == "" {
			d.FileID = "pending"
		}
		if _, err := d.Encode(); err != nil {
			add(fmt.Sprintf("files/%d/", i+1), " (evidence "+f.EvidenceID+")", err)
		}
	}
	return ps
}

// Validate is Problems as an error wrapping ErrInvalid, naming the first.
func (r *Report) Validate() error {
	ps := r.Problems()
	if len(ps) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalid, ps[0].Field, ps[0].Message)
}

// Move changes the report's state to `to`, recording who did it, refusing
// a change the state machine does not allow. Entering Ready requires the
// documents to conform; entering Acknowledged requires the recipient's id
// (a hotline may give its reference only when it confirms receipt).
func (r *Report) Move(to State, actor string, at time.Time, note string) error {
	if !CanMove(r.State, to) {
		return fmt.Errorf("report %d: %s → %s: %w", r.ID, r.State, to, ErrTransition)
	}
	if actor == "" {
		return fmt.Errorf("report %d: %s → %s: no actor", r.ID, r.State, to)
	}
	switch to {
	case Ready:
		if err := r.Validate(); err != nil {
			return fmt.Errorf("report %d: %w", r.ID, err)
		}
	case Acknowledged:
		if r.RecipientReportID == "" {
			return fmt.Errorf("report %d: %s without the recipient's report id: %w", r.ID, to, ErrTransition)
		}
	}
	r.History = append(r.History, Change{From: r.State, To: to, Actor: actor, At: at.UTC(), Note: note})
	r.State = to
	r.Updated = at.UTC()
	return nil
}

// Transition moves report id to state `to` in s, atomically; set, if not
// nil, changes the report first (e.g. to record the recipient's id).
func Transition(ctx context.Context, s Store, id int64, to State, actor, note string, now time.Time, set func(*Report)) (Report, error) {
	return s.UpdateLEReport(ctx, id, func(r *Report) error {
		if set != nil {
			set(r)
		}
		return r.Move(to, actor, now, note)
	})
}

// Edit changes a draft's documents; a report that is not a draft is
// refused, so what was validated is what is sent.
func Edit(ctx context.Context, s Store, id int64, now time.Time, edit func(*Report)) (Report, error) {
	return s.UpdateLEReport(ctx, id, func(r *Report) error {
		if r.State != Draft {
			return fmt.Errorf("report %d is %s; only a draft can be edited: %w", r.ID, r.State, ErrTransition)
		}
		edit(r)
		r.Updated = now.UTC()
		return nil
	})
}
