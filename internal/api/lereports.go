package api

// Law-enforcement reports and preserved evidence (issue 6), for the
// le_liaison role: a draft report from a confirmed case, edits while it is
// a draft, ready (checked against the schema), submission to the
// CyberTipline or a hotline's evidence package, retraction; and the
// evidence itself: what an item is and how long it is held, hold
// extensions, and a reviewer's view of a case's content. The domain is
// internal/lereport and internal/evidence; these handlers check the case
// and the items against each other and keep the chain of custody: every
// read of preserved content records evidence.read with its purpose.

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/cybertip"
	"github.com/safeguard-oss/safeguard/internal/lereport/hotline"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/spool"
)

// Codes of the law-enforcement routes (added to, never changed).

// Purposes of the evidence.read entries these routes record. Only
// lereport.ViewPurpose, a person looking at the content, makes a report say
// fileViewedByEsp.
const (
	purposeReport  = "report"  // read for its hashes, to put in a report
	purposeSubmit  = "submit"  // sent to the CyberTipline
	purposePackage = "package" // put in a hotline's evidence package
	purposeInspect = "inspect" // its description and hold shown to le_liaison
)

// recipientName is what a report's recipient may be called: the
// CyberTipline's name or a hotline's.
var recipientName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// leFile is one file of a report as a client names it. Its hashes come
// from the evidence store and whether it was viewed from the audit log,
// never from the client.
type leFile struct {
	EvidenceID        string                    `json:"evidence_id"`
	OriginalFileName  string                    `json:"original_file_name"`
	Relevance         lereport.FileRelevance    `json:"relevance"`
	Annotations       lereport.FileAnnotations  `json:"annotations"`
	Classification    lereport.Classification   `json:"classification"`
	PubliclyAvailable *bool                     `json:"publicly_available"`
	IPCaptureEvents   []lereport.IPCaptureEvent `json:"ip_capture_events"`
	ExifShown         bool                      `json:"exif_shown"`
}

// leDocument is a report's document as a client writes it: the <report>
// XML's content in its JSON form, without the reporter, which is the
// service's own (Config.LEReporter).
type leDocument struct {
	IncidentSummary      lereport.IncidentSummary       `json:"incidentSummary"`
	InternetDetails      []lereport.InternetDetails     `json:"internetDetails"`
	PersonOrUserReported *lereport.PersonOrUserReported `json:"personOrUserReported"`
	Victims              []lereport.Victim              `json:"victim"`
	AdditionalInfo       string                         `json:"additionalInfo"`
	// Reporter is accepted so that a report read can be sent back as it
	// is, and ignored: the reporter is the service's.
	Reporter json.RawMessage `json:"reporter,omitempty"`
}

// leReportRequest is the body of POST /v1/le-reports; PUT takes it without
// case_id and recipient, which do not change.
type leReportRequest struct {
	CaseID    int64      `json:"case_id"`
	Recipient string     `json:"recipient"` // cybertip.Recipient if empty
	Document  leDocument `json:"document"`
	Files     []leFile   `json:"files"`
}

func (a *API) leStore() (lereport.Store, error) {
	if a.cfg.LEReports == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeUnavailable, "law-enforcement reports are not available on this server: its store keeps none")
	}
	if a.cfg.Evidence == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeUnavailable, "law-enforcement reports need the evidence store, and this server has no evidence key (set SAFEGUARD_EVIDENCE_KEYS)")
	}
	return a.cfg.LEReports, nil
}

// leReportOf is the store and the report id of a /v1/le-reports/{id}
// route: every such handler starts with both.
func (a *API) leReportOf(r *http.Request) (lereport.Store, int64, error) {
	st, err := a.leStore()
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r, "law-enforcement report")
	return st, id, err
}

func (a *API) evidenceStore() (*evidence.Store, error) {
	if a.cfg.Evidence == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeUnavailable, "this server keeps no evidence (set SAFEGUARD_EVIDENCE_KEYS)")
	}
	return a.cfg.Evidence, nil
}

func (a *API) builder() *lereport.Builder {
	return &lereport.Builder{Reporter: a.cfg.LEReporter, Views: lereport.AuditViews{Log: a.cfg.Audit}, Now: a.now}
}

// openEvidence opens item id's content for key k and records the read,
// with its purpose and what it was for, before a byte of the content is
// used: a read the log does not show never happens. For the package and
// submission writers, which stream it (evidence.Store.Open: a segment at
// a time, each authenticated before it is yielded).
func (a *API) openEvidence(ctx context.Context, k auth.Key, id, purpose, forWhat string) (io.ReadCloser, evidence.Item, error) {
	ev, err := a.evidenceStore()
	if err != nil {
		return nil, evidence.Item{}, err
	}
	rc, item, err := ev.Open(id)
	if err != nil {
		return nil, evidence.Item{}, err
	}
	if err := a.recordRead(ctx, k, item, purpose, forWhat); err != nil {
		rc.Close()
		return nil, evidence.Item{}, err
	}
	return rc, item, nil
}

// verifyEvidence is openEvidence for a caller that needs only the item's
// description but vouches for its content (a report's hashes, an item's
// description to an auditor): the item is checked through, in constant
// memory (evidence.Store.Verify), and the read recorded.
func (a *API) verifyEvidence(ctx context.Context, k auth.Key, id, purpose, forWhat string) (evidence.Item, error) {
	ev, err := a.evidenceStore()
	if err != nil {
		return evidence.Item{}, err
	}
	item, err := ev.Verify(id)
	if err != nil {
		return evidence.Item{}, err
	}
	return item, a.recordRead(ctx, k, item, purpose, forWhat)
}

// recordRead records key k's read of item with its purpose and what it
// was for.
func (a *API) recordRead(ctx context.Context, k auth.Key, item evidence.Item, purpose, forWhat string) error {
	return a.record(ctx, k, audit.EvidenceRead, item.ID, map[string]string{
		"purpose": purpose, "for": forWhat, "sha256": item.SHA256.String(),
	})
}

// custodyFiles gives the Submitter and the package writer a report's
// files, each read recorded as key k's with the purpose.
type custodyFiles struct {
	a       *API
	k       auth.Key
	purpose string
	report  int64
}

func (f custodyFiles) File(ctx context.Context, id string) (io.ReadCloser, int64, error) {
	rc, item, err := f.a.openEvidence(ctx, f.k, id, f.purpose, lereport.Subject(f.report))
	return rc, item.Size, err
}

// confirmedCase returns case id if its standing decision confirms it.
func (a *API) confirmedCase(ctx context.Context, id int64) (review.Case, error) {
	desk, err := a.desk()
	if err != nil {
		return review.Case{}, err
	}
	c, _, _, err := desk.Case(ctx, id)
	if err != nil {
		return review.Case{}, err
	}
	if _, ok := confirmation(c); ok {
		return c, nil
	}
	return review.Case{}, errorf(http.StatusConflict, CodeNotConfirmed, "case %d is %s without a standing confirmation: only confirmed cases are reported", id, c.State)
}

// ofCase reports whether item is content of case c: its content id or its
// SHA-256 is one of the case's.
func ofCase(c review.Case, item evidence.Item) bool {
	return item.Meta.ContentID != "" && slices.Contains(c.ContentIDs, item.Meta.ContentID) ||
		slices.Contains(c.Digests, "sha256:"+item.SHA256.String())
}

// incident turns a request into the Builder's input, reading each file
// (recorded) for its hashes and refusing files not of the case.
func (a *API) incident(ctx context.Context, k auth.Key, c review.Case, recipient string, in leReportRequest) (lereport.Incident, error) {
	inc := lereport.Incident{
		CaseID:    strconv.FormatInt(c.ID, 10),
		Recipient: recipient,
		Summary:   in.Document.IncidentSummary,
		Internet:  in.Document.InternetDetails,
		Reported:  in.Document.PersonOrUserReported,
		Victims:   in.Document.Victims,
		Info:      in.Document.AdditionalInfo,
	}
	if len(in.Files) > 100 {
		return inc, errorf(http.StatusBadRequest, CodeBadRequest, "%d files: a report takes at most 100", len(in.Files))
	}
	seen := map[string]bool{}
	for i, f := range in.Files {
		if seen[f.EvidenceID] {
			return inc, errorf(http.StatusBadRequest, CodeBadRequest, "file %d: evidence %s is listed twice", i+1, clip(f.EvidenceID))
		}
		seen[f.EvidenceID] = true
		item, err := a.verifyEvidence(ctx, k, f.EvidenceID, purposeReport, "case:"+inc.CaseID)
		if err != nil {
			return inc, fmt.Errorf("file %d: %w", i+1, err)
		}
		if !ofCase(c, item) {
			return inc, errorf(http.StatusUnprocessableEntity, CodeNotInCase, "file %d: evidence %s (content %q) is not content of case %d", i+1, item.ID, item.Meta.ContentID, c.ID)
		}
		hashes := []lereport.FileHash{{Type: "MD5", Value: item.MD5.String()}, {Type: "SHA256", Value: item.SHA256.String()}}
		if pdq := a.intakePDQ(ctx, item); pdq != "" {
			hashes = append(hashes, lereport.FileHash{Type: "PDQ", Value: pdq})
		}
		inc.Files = append(inc.Files, lereport.EvidenceFile{
			EvidenceID:        item.ID,
			OriginalFileName:  f.OriginalFileName,
			Relevance:         f.Relevance,
			Annotations:       f.Annotations,
			Classification:    f.Classification,
			PubliclyAvailable: f.PubliclyAvailable,
			Hashes:            hashes,
			IPCaptureEvents:   f.IPCaptureEvents,
			ExifShown:         f.ExifShown,
		})
	}
	return inc, nil
}

// intakePDQ is the PDQ hash of item computed at intake: the one recorded
// with the item, else the one of the scan that kept it (the pipeline
// records it with the scan), if that scan names the item.
func (a *API) intakePDQ(ctx context.Context, item evidence.Item) string {
	if item.Meta.PDQ != "" || a.cfg.Scans == nil {
		return item.Meta.PDQ
	}
	scanID, ok := strings.CutPrefix(item.Meta.Source, "scan ")
	if !ok {
		return ""
	}
	rec, err := a.cfg.Scans.ScanRecord(ctx, scanID)
	if err != nil || rec.Evidence != item.ID {
		return ""
	}
	return rec.PDQ
}

// createLEReport handles POST /v1/le-reports: a draft from a confirmed case.
func (a *API) createLEReport(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	st, err := a.leStore()
	if err != nil {
		return err
	}
	var in leReportRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Recipient == "" {
		in.Recipient = cybertip.Recipient
	}
	if !recipientName.MatchString(in.Recipient) {
		return errorf(http.StatusBadRequest, CodeBadRequest, "recipient %q: want %q or a hotline's name (lower-case letters, digits, . _ -)", clip(in.Recipient), cybertip.Recipient)
	}
	if in.CaseID <= 0 {
		return errorf(http.StatusBadRequest, CodeBadRequest, "case_id: want the id of a confirmed case")
	}
	if len(in.Files) == 0 && reflect.ValueOf(in.Document).IsZero() && in.Recipient == cybertip.Recipient {
		// Only the case: the draft is prefilled from what the service
		// knows, as a decision opens it.
		draft, err := a.review.OpenReport(r.Context(), k.ID, in.CaseID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, draft)
		return nil
	}
	c, err := a.confirmedCase(r.Context(), in.CaseID)
	if err != nil {
		return err
	}
	inc, err := a.incident(r.Context(), k, c, in.Recipient, in)
	if err != nil {
		return err
	}
	draft, err := a.builder().Build(r.Context(), inc)
	if err != nil {
		return err
	}
	draft.History = []lereport.Change{{To: lereport.Draft, Actor: k.ID, At: draft.Created, Note: "built from case " + inc.CaseID}}
	created, err := st.CreateLEReport(r.Context(), draft)
	if err != nil {
		return err
	}
	if err := a.record(r.Context(), k, "lereport.create", lereport.Subject(created.ID), map[string]any{
		"case": c.ID, "recipient": created.Recipient, "files": len(created.Files),
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

// getLEReport handles GET /v1/le-reports/{id}.
func (a *API) getLEReport(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	st, id, err := a.leReportOf(r)
	if err != nil {
		return err
	}
	rep, err := st.LEReport(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// leReportStates are the states GET /v1/le-reports?state= takes.
var leReportStates = []lereport.State{lereport.Draft, lereport.Ready, lereport.Submitted, lereport.Acknowledged, lereport.Retracted}

// listLEReports handles GET /v1/le-reports[?state=]: every report, or those
// in one state, by id.
func (a *API) listLEReports(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	st, err := a.leStore()
	if err != nil {
		return err
	}
	states := leReportStates
	if s := request.Parsed(r).Text("state"); s != "" {
		states = []lereport.State{lereport.State(s)}
	}
	all := []lereport.Report{}
	for _, s := range states {
		rs, err := st.LEReports(r.Context(), s)
		if err != nil {
			return err
		}
		all = append(all, rs...)
	}
	slices.SortFunc(all, func(x, y lereport.Report) int { return int(x.ID - y.ID) })
	writeJSON(w, http.StatusOK, map[string]any{"reports": all})
	return nil
}

// leEdit is the body of PUT /v1/le-reports/{id}. It is a partial update:
// the document's fields that are sent replace the draft's, those left out
// stay; files, when sent, are the whole new list, and when left out the
// draft's files stay. An edit can therefore never drop evidence by
// omission.
type leEdit struct {
	CaseID    int64           `json:"case_id"`
	Recipient string          `json:"recipient"`
	Document  json.RawMessage `json:"document"`
	Files     *[]leFile       `json:"files"`
}

// editLEReport handles PUT /v1/le-reports/{id}: the draft is built again
// from its document and files with the edit applied, so an edit is checked
// like a new draft (files of the case, hashes from the store, views from
// the log).
func (a *API) editLEReport(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	st, id, err := a.leReportOf(r)
	if err != nil {
		return err
	}
	var in leEdit
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	cur, err := st.LEReport(r.Context(), id)
	if err != nil {
		return err
	}
	if cur.State != lereport.Draft {
		return errorf(http.StatusConflict, CodeWrongState, "report %d is %s; only a draft can be edited (a ready report goes back with POST /v1/le-reports/%d/draft)", id, cur.State, id)
	}
	caseID, err := strconv.ParseInt(cur.CaseID, 10, 64)
	if err != nil || in.CaseID != 0 && in.CaseID != caseID || in.Recipient != "" && in.Recipient != cur.Recipient {
		return errorf(http.StatusBadRequest, CodeBadRequest, "report %d is about case %s for %s; neither changes in an edit", id, cur.CaseID, cur.Recipient)
	}
	req := leReportRequest{Document: documentOf(cur.Document), Files: filesOf(cur.Files)}
	if len(in.Document) > 0 {
		dec := json.NewDecoder(bytes.NewReader(in.Document))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req.Document); err != nil {
			return errorf(http.StatusBadRequest, CodeBadRequest, "document: %v", err)
		}
	}
	if in.Files != nil {
		req.Files = *in.Files
	}
	c, err := a.confirmedCase(r.Context(), caseID)
	if err != nil {
		return err
	}
	inc, err := a.incident(r.Context(), k, c, cur.Recipient, req)
	if err != nil {
		return err
	}
	built, err := a.builder().Build(r.Context(), inc)
	if err != nil {
		return err
	}
	out, err := lereport.Edit(r.Context(), st, id, a.now(), func(rep *lereport.Report) {
		rep.Document, rep.Files = built.Document, built.Files
	})
	if err != nil {
		return err
	}
	if err := a.record(r.Context(), k, "lereport.edit", lereport.Subject(id), map[string]any{
		"files": len(out.Files), "document_edited": len(in.Document) > 0, "files_replaced": in.Files != nil,
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// documentOf is a stored document as a client writes it (the reporter is
// the service's, set when built).
func documentOf(d lereport.Document) leDocument {
	return leDocument{IncidentSummary: d.IncidentSummary, InternetDetails: d.InternetDetails,
		PersonOrUserReported: d.PersonOrUserReported, Victims: d.Victims, AdditionalInfo: d.AdditionalInfo}
}

// filesOf is a report's files as a client names them; hashes and views
// are taken again from the store and the log when it is built.
func filesOf(fs []lereport.File) []leFile {
	out := make([]leFile, 0, len(fs))
	for _, f := range fs {
		d := f.Details
		out = append(out, leFile{
			EvidenceID: f.EvidenceID, OriginalFileName: d.OriginalFileName, Relevance: d.FileRelevance,
			Annotations: d.FileAnnotations, Classification: d.IndustryClassification, PubliclyAvailable: d.PubliclyAvailable,
			IPCaptureEvents: d.IPCaptureEvents, ExifShown: d.ExifViewedByESP != nil && *d.ExifViewedByESP,
		})
	}
	return out
}

// readyLEReport handles POST /v1/le-reports/{id}/ready: the views are
// asked again (a file viewed since the draft was built is reported so),
// then the report is checked against the schema and refused, naming the
// element, if it does not conform.
func (a *API) readyLEReport(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	st, id, err := a.leReportOf(r)
	if err != nil {
		return err
	}
	cur, err := st.LEReport(r.Context(), id)
	if err != nil {
		return err
	}
	if cur.State != lereport.Draft {
		return errorf(http.StatusConflict, CodeWrongState, "report %d is %s; only a draft becomes ready", id, cur.State)
	}
	if err := a.builder().Refresh(r.Context(), &cur); err != nil {
		return err
	}
	out, err := st.UpdateLEReport(r.Context(), id, func(rep *lereport.Report) error {
		if !rep.Updated.Equal(cur.Updated) {
			return errorf(http.StatusConflict, CodeConflict, "report %d changed while it was being checked; try again", id)
		}
		rep.Files = cur.Files
		return rep.Move(lereport.Ready, k.ID, a.now(), "")
	})
	if err != nil {
		return err
	}
	if err := a.record(r.Context(), k, "lereport.ready", lereport.Subject(id), nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// submitLEReport handles POST /v1/le-reports/{id}/submit: the report goes
// to the CyberTipline, file by file, and is acknowledged when finished. A
// submission cut short is resumed by submitting again.
func (a *API) submitLEReport(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	st, err := a.leStore()
	if err != nil {
		return err
	}
	if a.cfg.CyberTip == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "this server has no CyberTipline account configured (SAFEGUARD_CYBERTIP_URL, _USER, _PASSWORD)")
	}
	id, err := pathID(r, "law-enforcement report")
	if err != nil {
		return err
	}
	cur, err := st.LEReport(r.Context(), id)
	if err != nil {
		return err
	}
	if cur.Recipient != cybertip.Recipient {
		return errorf(http.StatusConflict, CodeWrongState, "report %d is for %s, not the CyberTipline: download its evidence package instead", id, cur.Recipient)
	}
	sub := &cybertip.Submitter{
		API: recipientAPI{a.cfg.CyberTip}, Store: st, Log: a.cfg.Log, Now: a.now,
		Files: custodyFiles{a: a, k: k, purpose: purposeSubmit, report: id},
	}
	out, err := sub.Send(r.Context(), id, k.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// retractLEReport handles POST /v1/le-reports/{id}/retract {"reason"}.
func (a *API) retractLEReport(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	st, id, err := a.leReportOf(r)
	if err != nil {
		return err
	}
	reason, err := decodeReason(w, r)
	if err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return errorf(http.StatusBadRequest, CodeBadRequest, "reason: say why the report is withdrawn")
	}
	cur, err := st.LEReport(r.Context(), id)
	if err != nil {
		return err
	}
	if cur.Recipient != cybertip.Recipient {
		// A hotline's package left by hand; its withdrawal goes the same
		// way, and is recorded here.
		out, err := lereport.Transition(r.Context(), st, id, lereport.Retracted, k.ID, reason, a.now(), nil)
		if err != nil {
			return err
		}
		if err := a.record(r.Context(), k, lereport.AuditRetract, lereport.Subject(id), map[string]string{
			"recipient": out.Recipient, "recipient_report_id": out.RecipientReportID, "reason": reason,
		}); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	if cur.State == lereport.Submitted && a.cfg.CyberTip == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "report %d was submitted to the CyberTipline, and this server has no account configured to retract it", id)
	}
	sub := &cybertip.Submitter{API: recipientAPI{a.cfg.CyberTip}, Store: st, Log: a.cfg.Log, Now: a.now}
	out, err := sub.Retract(r.Context(), id, k.ID, reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// acknowledgeLEReport handles POST /v1/le-reports/{id}/acknowledge
// {"recipient_report_id"}: a hotline's receipt of a package, with its
// reference, makes the report acknowledged. (The CyberTipline's comes from
// /finish, so its reports are refused here.)
func (a *API) acknowledgeLEReport(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	st, id, err := a.leReportOf(r)
	if err != nil {
		return err
	}
	var in struct {
		RecipientReportID string `json:"recipient_report_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	ref := strings.TrimSpace(in.RecipientReportID)
	if ref == "" || len(ref) > 200 {
		return errorf(http.StatusBadRequest, CodeBadRequest, "recipient_report_id: want the hotline's reference for the report (1 to 200 characters)")
	}
	cur, err := st.LEReport(r.Context(), id)
	if err != nil {
		return err
	}
	if cur.Recipient == cybertip.Recipient {
		return errorf(http.StatusConflict, CodeWrongState, "report %d is for the CyberTipline, which acknowledges through submission", id)
	}
	out, err := lereport.Transition(r.Context(), st, id, lereport.Acknowledged, k.ID, "receipt from "+cur.Recipient, a.now(), func(rep *lereport.Report) {
		rep.RecipientReportID = ref
	})
	if err != nil {
		return err
	}
	if err := a.record(r.Context(), k, lereport.AuditFinish, lereport.Subject(id), map[string]string{
		"recipient": out.Recipient, "recipient_report_id": ref,
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// packageLEReport handles POST /v1/le-reports/{id}/package
// {"recipient_key": base64 X25519}: a hotline's evidence package (ZIP), its
// files encrypted for that key. The manifest's SHA-256 is in the audit log
// and the X-Manifest-SHA256 header.
func (a *API) packageLEReport(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	st, id, err := a.leReportOf(r)
	if err != nil {
		return err
	}
	var in struct {
		RecipientKey string `json:"recipient_key"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(in.RecipientKey)
	if err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "recipient_key: want the hotline's X25519 public key in base64: %v", err)
	}
	pub, err := ecdh.X25519().NewPublicKey(raw)
	if err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "recipient_key: %v", err)
	}
	rep, err := st.LEReport(r.Context(), id)
	if err != nil {
		return err
	}
	if rep.State == lereport.Draft || rep.State == lereport.Retracted {
		return errorf(http.StatusConflict, CodeWrongState, "report %d is %s; only a report that is ready or later is packaged", id, rep.State)
	}
	var msgs []lereport.Message
	if a.cfg.Conversations != nil {
		if msgs, err = a.caseConversations(r, rep); err != nil {
			return err
		}
	}
	// The package is spooled to disk, not held: it carries every file of
	// the report, videos included. It is whole, and recorded, before a
	// byte of it leaves, as it was when it was built in memory. Its files
	// are encrypted for the recipient, but not its report.xml, so the
	// spool file is unlinked at once: it is written and read back through
	// this descriptor alone, and no way out of the request, a crash's
	// included, leaves it on disk.
	f, err := a.cfg.SpoolDir.Create(spool.Package, ".zip")
	if err != nil {
		return fmt.Errorf("spooling the evidence package: %w", err)
	}
	defer f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("spooling the evidence package: %w", err)
	}
	sum, err := hotline.Write(r.Context(), f, hotline.Package{
		Report: rep, Recipient: pub, Created: a.now(), Messages: msgs,
		Files: custodyFiles{a: a, k: k, purpose: purposePackage, report: id},
	})
	if err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("spooling the evidence package: %w", err)
	}
	if err := a.record(r.Context(), k, lereport.AuditPackage, lereport.Subject(id), map[string]string{
		"manifest_sha256": hex.EncodeToString(sum[:]), "recipient": rep.Recipient,
	}); err != nil {
		return err
	}
	// For a hotline the package is the submission: the report is
	// submitted until the hotline's receipt is entered (acknowledge). For
	// the CyberTipline it is only a copy.
	if rep.Recipient != cybertip.Recipient && rep.State == lereport.Ready {
		if _, err := lereport.Transition(r.Context(), st, id, lereport.Submitted, k.ID,
			"evidence package, manifest SHA-256 "+hex.EncodeToString(sum[:]), a.now(), nil); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="lereport-%d.zip"`, id))
	w.Header().Set("X-Manifest-SHA256", hex.EncodeToString(sum[:]))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	io.Copy(w, f)
	return nil
}

// caseConversations are the conversations around the flagged messages of
// the accounts of rep's case.
func (a *API) caseConversations(r *http.Request, rep lereport.Report) ([]lereport.Message, error) {
	desk, err := a.desk()
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(rep.CaseID, 10, 64)
	if err != nil {
		return nil, nil
	}
	c, _, _, err := desk.Case(r.Context(), id)
	if err != nil || len(c.AccountIDs) == 0 {
		return nil, err
	}
	msgs, err := a.cfg.Conversations.Around(r.Context(), c.AccountIDs)
	return msgs[:min(len(msgs), lereport.MaxMessages)], err
}

// evidenceAnswer is an item as GET /v1/evidence/{id} shows it: what it is
// and how long it is held, never its content.
type evidenceAnswer struct {
	Item evidence.Item `json:"item"`
	Hold evidence.Hold `json:"hold"`
}

// getEvidence handles GET /v1/evidence/{id}.
func (a *API) getEvidence(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	ev, err := a.evidenceStore()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	item, err := a.verifyEvidence(r.Context(), k, id, purposeInspect, "")
	if err != nil {
		return err
	}
	h, err := ev.Hold(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, evidenceAnswer{Item: item, Hold: h})
	return nil
}

// extendHold handles POST /v1/evidence/{id}/hold {"until", "requested_by",
// "why"}: a preservation request extends an item's hold; it is never
// shortened.
func (a *API) extendHold(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	ev, err := a.evidenceStore()
	if err != nil {
		return err
	}
	var in struct {
		Until       time.Time `json:"until"`
		RequestedBy string    `json:"requested_by"`
		Why         string    `json:"why"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Until.IsZero() || strings.TrimSpace(in.RequestedBy) == "" || strings.TrimSpace(in.Why) == "" {
		return errorf(http.StatusBadRequest, CodeBadRequest, "until, requested_by and why are required")
	}
	id := r.PathValue("id")
	cur, err := ev.Hold(id)
	if err != nil {
		return err
	}
	if in.Until.Before(cur.Until) {
		return errorf(http.StatusConflict, CodeConflict, "evidence %s is held until %s; a hold is extended, never shortened", id, cur.Until.Format(time.RFC3339))
	}
	h, err := ev.Extend(r.Context(), a.cfg.Log, id, k.ID, in.Until, in.RequestedBy, in.Why)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// viewCaseEvidence handles GET /v1/cases/{id}/evidence/{item}: a reviewer
// looks at a case's preserved content. The read is recorded with purpose
// "view", which is what makes a report say fileViewedByEsp.
func (a *API) viewCaseEvidence(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	desk, err := a.desk()
	if err != nil {
		return err
	}
	ev, err := a.evidenceStore()
	if err != nil {
		return err
	}
	id, err := pathID(r, "case")
	if err != nil {
		return err
	}
	c, _, _, err := desk.Case(r.Context(), id)
	if err != nil {
		return err
	}
	// Streamed, a segment at a time, each authenticated before it is sent:
	// the description (authenticated) is known before any content is.
	rc, item, err := ev.Open(r.PathValue("item"))
	if err != nil {
		return err
	}
	defer rc.Close()
	// An item of another case is answered as if it did not exist, so a
	// reviewer cannot browse the store through any case.
	if !ofCase(c, item) {
		return errorf(http.StatusNotFound, CodeNotFound, "case %d has no evidence %s", id, item.ID)
	}
	if err := a.recordRead(r.Context(), k, item, lereport.ViewPurpose, "case:"+strconv.FormatInt(id, 10)); err != nil {
		return err
	}
	ct := item.Meta.ContentType
	if !strings.HasPrefix(ct, "image/") || strings.ContainsAny(ct, "\r\n") {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Content-Length", strconv.FormatInt(item.Size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		// The status is sent; a segment that does not authenticate (or a
		// client gone) can only cut the body short, which the client sees
		// as a broken transfer against the Content-Length, never as the
		// content. The log says which segment.
		if errors.Is(err, evidence.ErrCorrupt) {
			a.log.Error("api: evidence fails its check part way through sending it", "case", id, "item", item.ID, "err", err)
		} else {
			a.log.Info("api: evidence not sent whole", "case", id, "item", item.ID, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

// deleteEvidence handles DELETE /v1/evidence/{id} {"why"}: an item past
// its preservation hold is deleted, the deletion recorded in the audit log
// first; one still held is refused (409 held, saying until when).
func (a *API) deleteEvidence(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	ev, err := a.evidenceStore()
	if err != nil {
		return err
	}
	var in struct {
		Why string `json:"why"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Why) == "" {
		return errorf(http.StatusBadRequest, CodeBadRequest, "why: say why the item is deleted")
	}
	if err := ev.Delete(r.Context(), a.cfg.Log, r.PathValue("id"), k.ID, in.Why); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deniedAudited says which refusals recordDenied puts in the audit log:
// those of routes that guard law-enforcement reports or preserved content,
// since who tried to reach evidence without the role is part of its chain
// of custody.
func deniedAudited(rt route) bool {
	return rt.perm == auth.LEReports || strings.Contains(rt.path, "/evidence")
}

// recipientAPI marks every failure of the CyberTipline's calls — refusals,
// HTTP errors, an unreachable host — as the recipient's, so it is answered
// 502 with what the recipient said, not 500 as if it were ours.
type recipientAPI struct{ api cybertip.API }

// recipientError is a failure of a call to the recipient.
type recipientError struct{ error }

func (e recipientError) Unwrap() error { return e.error }

func recipientFailed(err error) error {
	if err == nil {
		return nil
	}
	return recipientError{err}
}

func (r recipientAPI) Submit(ctx context.Context, report []byte) (string, error) {
	id, err := r.api.Submit(ctx, report)
	return id, recipientFailed(err)
}

func (r recipientAPI) Upload(ctx context.Context, reportID, fileName string, content io.Reader, size int64) (string, error) {
	id, err := r.api.Upload(ctx, reportID, fileName, content, size)
	return id, recipientFailed(err)
}

func (r recipientAPI) FileInfo(ctx context.Context, details []byte) error {
	return recipientFailed(r.api.FileInfo(ctx, details))
}

func (r recipientAPI) Finish(ctx context.Context, reportID string) error {
	return recipientFailed(r.api.Finish(ctx, reportID))
}

func (r recipientAPI) Retract(ctx context.Context, reportID string) error {
	return recipientFailed(r.api.Retract(ctx, reportID))
}
