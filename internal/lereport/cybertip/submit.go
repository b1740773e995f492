package cybertip

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/lereport"
)

// Recipient is the Report.Recipient of reports for the CyberTipline; the
// Submitter refuses any other, so a report meant for a hotline is never
// sent here.
const Recipient = "cybertipline"

// Recorder appends to the audit log; *audit.Log is one.
type Recorder interface {
	Record(ctx context.Context, actor, action, subject string, detail any) (audit.Entry, error)
}

// Submitter sends stored reports through an API.
type Submitter struct {
	API   API
	Store lereport.Store
	Files lereport.Files
	// Log, if not nil, records each step that reached the recipient
	// (lereport.AuditSubmit, AuditFile, AuditFinish, AuditRetract). A step
	// is stored before it is recorded: if recording fails, Send returns
	// the error and the step is not repeated.
	Log Recorder
	Now func() time.Time // time.Now if nil
}

func (s *Submitter) record(ctx context.Context, actor, action string, id int64, detail any) error {
	if s.Log == nil {
		return nil
	}
	if _, err := s.Log.Record(ctx, actor, action, lereport.Subject(id), detail); err != nil {
		return fmt.Errorf("cybertip: report %d: recording %s: %w", id, action, err)
	}
	return nil
}

// Send sends report id, which must be ready, or submitted and cut short
// before: it submits the report (once; the recipient's id is stored before
// anything else happens), uploads each file whose details the recipient
// does not have yet and sends its details, then finishes and marks the
// report acknowledged. Each step is stored as soon as it is done, so Send
// can be called again after any failure and continues from there.
func (s *Submitter) Send(ctx context.Context, id int64, actor string) (lereport.Report, error) {
	r, err := s.Store.LEReport(ctx, id)
	if err != nil {
		return lereport.Report{}, err
	}
	if r.Recipient != Recipient {
		return r, fmt.Errorf("cybertip: report %d is for %q, not the CyberTipline", id, r.Recipient)
	}
	switch r.State {
	case lereport.Ready:
		// Validate again: the schema may have changed since the report
		// became ready, and nothing malformed may leave.
		doc, err := r.Document.Encode()
		if err != nil {
			return r, fmt.Errorf("cybertip: send report %d: %w", id, err)
		}
		rid, err := s.API.Submit(ctx, doc)
		if err != nil {
			return r, fmt.Errorf("cybertip: send report %d: %w", id, err)
		}
		sub, err := lereport.Transition(ctx, s.Store, id, lereport.Submitted, actor, "submitted", now(s.Now), func(r *lereport.Report) {
			r.RecipientReportID = rid
		})
		if err != nil {
			// The recipient has a report we could not record: say its id,
			// so a person can retract or finish it by hand.
			return r, fmt.Errorf("cybertip: report %d was submitted as %s but could not be recorded: %w", id, rid, err)
		}
		r = sub
		if err := s.record(ctx, actor, lereport.AuditSubmit, id, map[string]string{"recipient_report_id": rid}); err != nil {
			return r, err
		}
	case lereport.Submitted:
		if r.RecipientReportID == "" {
			return r, fmt.Errorf("cybertip: report %d is submitted but has no CyberTipline report id", id)
		}
	default:
		return r, fmt.Errorf("cybertip: send report %d: it is %s, not ready: %w", id, r.State, lereport.ErrTransition)
	}
	for i := range r.Files {
		if r.Files[i].InfoSent {
			continue
		}
		if r, err = s.sendFile(ctx, r, i); err != nil {
			return r, err
		}
		f := r.Files[i]
		if err := s.record(ctx, actor, lereport.AuditFile, id, map[string]any{
			"evidence_id": f.EvidenceID, "file_id": f.Details.FileID, "file_viewed_by_esp": f.Details.FileViewedByESP,
		}); err != nil {
			return r, err
		}
	}
	if err := s.API.Finish(ctx, r.RecipientReportID); err != nil {
		return r, fmt.Errorf("cybertip: finish report %d (%s): %w", id, r.RecipientReportID, err)
	}
	done, err := lereport.Transition(ctx, s.Store, id, lereport.Acknowledged, actor, "finished", now(s.Now), nil)
	if err != nil {
		return r, err
	}
	return done, s.record(ctx, actor, lereport.AuditFinish, id, map[string]string{"recipient_report_id": done.RecipientReportID})
}

// sendFile uploads file i unless it was uploaded before, stores its file
// id, sends its details and stores that they were sent.
func (s *Submitter) sendFile(ctx context.Context, r lereport.Report, i int) (lereport.Report, error) {
	f := r.Files[i]
	if f.Details.FileID == "" {
		fid, err := s.upload(ctx, r, f)
		if err != nil {
			return r, err
		}
		up, err := s.Store.UpdateLEReport(ctx, r.ID, func(r *lereport.Report) error {
			r.Files[i].Details.ReportID = r.RecipientReportID
			r.Files[i].Details.FileID = fid
			return nil
		})
		if err != nil {
			return r, fmt.Errorf("cybertip: report %d: file %s was uploaded as %s but could not be recorded: %w", r.ID, f.EvidenceID, fid, err)
		}
		r, f = up, up.Files[i]
	}
	details, err := f.Details.Encode()
	if err != nil {
		return r, fmt.Errorf("cybertip: report %d: file %s: %w", r.ID, f.EvidenceID, err)
	}
	if err := s.API.FileInfo(ctx, details); err != nil {
		return r, fmt.Errorf("cybertip: report %d: details of %s: %w", r.ID, f.EvidenceID, err)
	}
	return s.Store.UpdateLEReport(ctx, r.ID, func(r *lereport.Report) error {
		r.Files[i].InfoSent = true
		return nil
	})
}

// upload streams file f's content to the recipient, opening it anew for
// each attempt (a Send after a failed one opens it again). A failure
// reading the content is ours, not the recipient's, and is said as such
// whatever the transport made of the request it cut short.
func (s *Submitter) upload(ctx context.Context, r lereport.Report, f lereport.File) (string, error) {
	rc, size, err := s.Files.File(ctx, f.EvidenceID)
	if err != nil {
		return "", fmt.Errorf("cybertip: report %d: file %s: %w", r.ID, f.EvidenceID, err)
	}
	defer rc.Close()
	name := f.Details.OriginalFileName
	if name == "" {
		name = f.EvidenceID
	}
	content := &readErr{r: rc}
	fid, err := s.API.Upload(ctx, r.RecipientReportID, name, content, size)
	if content.err != nil && content.err != io.EOF {
		return "", fmt.Errorf("cybertip: report %d: upload %s: reading the file: %w", r.ID, f.EvidenceID, content.err)
	}
	if err != nil {
		return "", fmt.Errorf("cybertip: report %d: upload %s: %w", r.ID, f.EvidenceID, err)
	}
	return fid, nil
}

// readErr is a reader that keeps the error its reader gave.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// Retract withdraws report id: a submitted report is retracted at the
// recipient first; a draft or ready one, which the recipient never saw,
// only here. An acknowledged report cannot be retracted through the API.
func (s *Submitter) Retract(ctx context.Context, id int64, actor, reason string) (lereport.Report, error) {
	r, err := s.Store.LEReport(ctx, id)
	if err != nil {
		return lereport.Report{}, err
	}
	if !lereport.CanMove(r.State, lereport.Retracted) {
		return r, fmt.Errorf("cybertip: retract report %d: it is %s: %w", id, r.State, lereport.ErrTransition)
	}
	if r.State == lereport.Submitted {
		if err := s.API.Retract(ctx, r.RecipientReportID); err != nil {
			return r, fmt.Errorf("cybertip: retract report %d (%s): %w", id, r.RecipientReportID, err)
		}
	}
	done, err := lereport.Transition(ctx, s.Store, id, lereport.Retracted, actor, reason, now(s.Now), nil)
	if err != nil {
		return r, err
	}
	return done, s.record(ctx, actor, lereport.AuditRetract, id, map[string]string{
		"recipient_report_id": done.RecipientReportID, "reason": reason,
	})
}
