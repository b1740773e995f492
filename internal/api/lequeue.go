package api

// The law-enforcement liaison's work: the queue of cases that need a
// report, what a report is about (its case, the scans and the evidence's
// description: exactly those, every read recorded), and sending a ready
// report back to draft.

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

// leQueueItem is one report waiting for the liaison.
type leQueueItem struct {
	ReportID  int64          `json:"report_id"`
	CaseID    string         `json:"case_id"`
	State     lereport.State `json:"state"`
	Recipient string         `json:"recipient"`
	// DecidedAt is when a person confirmed the case; the law asks for a
	// report "as soon as reasonably possible" after knowing, so the
	// queue is oldest first and says how long each has waited.
	DecidedAt      time.Time `json:"decided_at"`
	WaitingSeconds int64     `json:"waiting_seconds"`
	Files          int       `json:"files"`
	// Problems are what stands between the draft and ready, each at its
	// field: what a person must still decide or fix.
	Problems []lereport.Problem `json:"problems"`
}

// leQueue handles GET /v1/le-queue: every report not yet submitted (draft
// or ready), oldest decision first.
func (a *API) leQueue(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	st, err := a.leStore()
	if err != nil {
		return err
	}
	desk, err := a.desk()
	if err != nil {
		return err
	}
	now := a.now()
	items := []leQueueItem{}
	for _, s := range []lereport.State{lereport.Draft, lereport.Ready} {
		rs, err := st.LEReports(r.Context(), s)
		if err != nil {
			return err
		}
		for _, rep := range rs {
			it := leQueueItem{ReportID: rep.ID, CaseID: rep.CaseID, State: rep.State, Recipient: rep.Recipient,
				DecidedAt: rep.Created, Files: len(rep.Files), Problems: rep.Problems()}
			if it.Problems == nil {
				it.Problems = []lereport.Problem{}
			}
			if id, err := strconv.ParseInt(rep.CaseID, 10, 64); err == nil {
				if c, _, _, err := desk.Case(r.Context(), id); err == nil {
					if d, ok := confirmation(c); ok {
						it.DecidedAt = d.At
					}
				}
			}
			it.WaitingSeconds = int64(now.Sub(it.DecidedAt) / time.Second)
			items = append(items, it)
		}
	}
	slices.SortStableFunc(items, func(x, y leQueueItem) int {
		return cmp.Or(x.DecidedAt.Compare(y.DecidedAt), cmp.Compare(x.ReportID, y.ReportID))
	})
	writeJSON(w, http.StatusOK, map[string]any{"reports": items})
	return nil
}

// confirmation is c's standing confirmation, if it has one.
func confirmation(c review.Case) (review.Decision, bool) {
	for _, d := range slices.Backward(c.Decisions) {
		if d.Pending {
			continue
		}
		return d, d.Verdict == review.Confirm
	}
	return review.Decision{}, false
}

// leContext is what a report is about, for the liaison who writes it.
type leContext struct {
	Report   lereport.Report  `json:"report"`
	Case     review.Case      `json:"case"`
	Reports  []review.Report  `json:"reports"`
	Scans    []scan.Record    `json:"scans"`
	Evidence []evidenceAnswer `json:"evidence"`
}

// leReportContext handles GET /v1/le-reports/{id}/context: the case the
// report is about with its reports, the scans those name, and the
// description and hold of each file the report attaches or the scans
// kept. It is the liaison's only way to read cases and scans, and only
// those of a report; the read is recorded (lereport.context, naming what
// was read) and so is each evidence item's (evidence.read, purpose
// inspect).
func (a *API) leReportContext(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	st, err := a.leStore()
	if err != nil {
		return err
	}
	desk, err := a.desk()
	if err != nil {
		return err
	}
	ev, err := a.evidenceStore()
	if err != nil {
		return err
	}
	id, err := pathID(r, "law-enforcement report")
	if err != nil {
		return err
	}
	rep, err := st.LEReport(r.Context(), id)
	if err != nil {
		return err
	}
	caseID, err := strconv.ParseInt(rep.CaseID, 10, 64)
	if err != nil {
		return errorf(http.StatusConflict, CodeWrongState, "report %d names no case of the review desk (%q)", id, clip(rep.CaseID))
	}
	c, _, rs, err := desk.Case(r.Context(), caseID)
	if err != nil {
		return err
	}
	out := leContext{Report: rep, Case: c, Reports: rs, Scans: []scan.Record{}, Evidence: []evidenceAnswer{}}
	var items []string
	for _, f := range rep.Files {
		items = append(items, f.EvidenceID)
	}
	for _, rr := range rs {
		sid, ok := strings.CutPrefix(rr.Text, "scan ")
		if rr.Source != review.Rule || !ok || a.cfg.Scans == nil {
			continue
		}
		rec, err := a.cfg.Scans.ScanRecord(r.Context(), sid)
		if err != nil {
			continue // a report naming a scan this store never kept
		}
		out.Scans = append(out.Scans, rec)
		if rec.Evidence != "" && !slices.Contains(items, rec.Evidence) {
			items = append(items, rec.Evidence)
		}
	}
	var scanIDs []string
	for _, s := range out.Scans {
		scanIDs = append(scanIDs, s.ID)
	}
	if err := a.record(r.Context(), k, "lereport.context", lereport.Subject(id), map[string]any{
		"case": caseID, "scans": scanIDs, "evidence": items,
	}); err != nil {
		return err
	}
	for _, item := range items {
		it, err := a.verifyEvidence(r.Context(), k, item, purposeInspect, lereport.Subject(id))
		if err != nil {
			return err
		}
		h, err := ev.Hold(item)
		if err != nil {
			return err
		}
		out.Evidence = append(out.Evidence, evidenceAnswer{Item: it, Hold: h})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// unreadyLEReport handles POST /v1/le-reports/{id}/draft {"reason"}: a
// ready report not yet submitted goes back to draft for more edits.
func (a *API) unreadyLEReport(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	st, id, err := a.leReportOf(r)
	if err != nil {
		return err
	}
	reason, err := decodeReason(w, r)
	if err != nil {
		return err
	}
	out, err := lereport.Transition(r.Context(), st, id, lereport.Draft, k.ID, reason, a.now(), nil)
	if err != nil {
		return err
	}
	if err := a.record(r.Context(), k, "lereport.unready", lereport.Subject(id), map[string]string{"reason": reason}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
