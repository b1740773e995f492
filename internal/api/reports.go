package api

// Reports and review (issue 5): intake from the platform and from trusted
// flaggers, each report's status for its reporter, the queues, a case with
// its signals and history, decisions, appeals and time to action. The
// domain is internal/review; these handlers decide who may see what and
// carry out what a change asks for (review.Effects): its audit entries go
// to the audit log and its events to the review webhook, before the
// answer.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/signal"
)

// MaxBulk bounds the reports of one bulk submission; with the 1 MiB JSON
// limit that is about 1 KiB a report.
const MaxBulk = 1000

// DefaultStatsWindow is how far back GET /v1/stats looks without since.
const DefaultStatsWindow = 30 * 24 * time.Hour

// reportRequest is one report as a client sends it. Who reported comes
// from the key: a flagger's reports are the flagger's own; the platform
// names the user it reports for. Bank matches are never taken from the
// client, since a known-CSAM report with an exact match is acted on with
// no reviewer: the server looks the hashes up itself.
type reportRequest struct {
	Reporter       string          `json:"reporter"`
	Category       review.Category `json:"category"`
	Text           string          `json:"text"`
	ContentID      string          `json:"content_id"`
	AccountID      string          `json:"account_id"`
	Hashes         review.Hashes   `json:"hashes"`
	MinorSuspected bool            `json:"minor_suspected"`
	Reach          review.Reach    `json:"reach"`
}

// reportStatus is what a reporter may know of a report.
type reportStatus struct {
	ID         int64           `json:"id"`
	CaseID     int64           `json:"case_id"`
	Source     review.Source   `json:"source"`
	Reporter   string          `json:"reporter"`
	Category   review.Category `json:"category"`
	ContentID  string          `json:"content_id,omitempty"`
	AccountID  string          `json:"account_id,omitempty"`
	Status     review.Status   `json:"status"`
	ReceivedAt time.Time       `json:"received_at"`
	DecidedAt  time.Time       `json:"decided_at,omitzero"`
}

func statusOf(r review.Report) reportStatus {
	return reportStatus{r.ID, r.CaseID, r.Source, r.Reporter, r.Category, r.ContentID, r.AccountID, r.Status, r.ReceivedAt, r.DecidedAt}
}

// desk is the review desk, or 503 when this server was built without one.
func (a *API) desk() (*review.Desk, error) {
	if a.cfg.Review == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeUnavailable, "review is not available on this server: its store keeps no reports")
	}
	return a.cfg.Review, nil
}

func (a *API) now() time.Time {
	if a.cfg.Now != nil {
		return a.cfg.Now()
	}
	return time.Now()
}

// report turns a request from key k into a report: a flagger reports as
// its key, anyone else for the user it names.
// Content the server hashed (computed) is matched as a scan would match it,
// dihedral variants included; hashes the reporter sent are claims.
func (a *API) report(ctx context.Context, k auth.Key, in reportRequest, computed *signal.Set) (review.Report, error) {
	r := review.Report{
		Source: review.User, Reporter: in.Reporter, Category: in.Category, Text: in.Text,
		ContentID: in.ContentID, AccountID: in.AccountID, Hashes: in.Hashes,
		MinorSuspected: in.MinorSuspected, Reach: in.Reach,
	}
	if k.Role == auth.Flagger {
		if in.Reporter != "" && in.Reporter != k.ID {
			return r, fmt.Errorf("report: reporter %q: a trusted flagger reports as its key (%s); leave reporter out: %w", clip(in.Reporter), k.ID, review.ErrInvalid)
		}
		r.Source, r.Reporter = review.Flagger, k.ID
	}
	if err := r.Validate(); err != nil {
		return r, err
	}
	var err error
	set := r.Hashes.Set()
	if computed != nil {
		set = *computed
	}
	r.Matches, err = a.review.Match(ctx, set)
	return r, err
}

// createReport handles POST /v1/reports.
func (a *API) createReport(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	if _, err := a.desk(); err != nil {
		return err
	}
	var in reportRequest
	var computed *signal.Set
	if mt, _ := checkContentType(r, "multipart/form-data"); mt != "" {
		var err error
		if computed, err = a.readReportForm(w, r, k, &in); err != nil {
			return err
		}
	} else if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rep, err := a.report(r.Context(), k, in, computed)
	if err != nil {
		return invalidAs(CodeInvalidReport, err)
	}
	rep, err = a.review.File(r.Context(), k.ID, rep)
	if err != nil {
		return invalidAs(CodeInvalidReport, err)
	}
	writeJSON(w, http.StatusCreated, statusOf(rep))
	return nil
}

// readJSONForm reads a multipart form of one JSON part, named part, decoded
// strictly into in, and at most one "content" part (up to MaxBody), which
// it returns (nil if absent). The body is admitted by its size first;
// release gives the admission back once the content is done with.
func (a *API) readJSONForm(w http.ResponseWriter, r *http.Request, k auth.Key, part string, in any) (content []byte, release func(), err error) {
	if err := limitBody(w, r, a.cfg.MaxBody+maxJSON); err != nil {
		return nil, nil, err
	}
	admitted, err := a.admitBody(r, k, a.cfg.MaxBody+maxJSON)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			admitted() // every failing return leaves release nil
		}
	}()
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, errorf(http.StatusBadRequest, CodeBadRequest, "multipart form: %v", err)
	}
	sawJSON := false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, bodyError("multipart form", err)
		}
		switch name := p.FormName(); {
		case name == part && !sawJSON:
			sawJSON = true
			b, err := io.ReadAll(io.LimitReader(p, maxJSON+1))
			if err != nil {
				return nil, nil, bodyError("multipart form: part "+part, err)
			}
			if len(b) > maxJSON {
				return nil, nil, errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "multipart form: part %s is over %d bytes", part, maxJSON)
			}
			if err := unmarshalStrict(b, in, "multipart form: part "+part+": "); err != nil {
				return nil, nil, err
			}
		case name == "content" && content == nil:
			if content, err = readContent(p, a.cfg.MaxBody); err != nil {
				return nil, nil, err
			}
			if content == nil {
				content = []byte{}
			}
		default:
			return nil, nil, errorf(http.StatusBadRequest, CodeBadRequest, "multipart form: unexpected part %q: want one %s and at most one content", clip(name), part)
		}
		p.Close()
	}
	if !sawJSON {
		return nil, nil, errorf(http.StatusBadRequest, CodeEmptyBody, "multipart form: no %s part", part)
	}
	return content, admitted, nil
}

// readReportForm reads a report sent with its content: a multipart form
// whose "report" part is the report's JSON and whose "content" part is the
// image. The content is hashed, as a scan would hash it, and dropped: the
// hashes join the report to cases about the same or near-duplicate
// content and are looked up in the banks.
func (a *API) readReportForm(w http.ResponseWriter, r *http.Request, k auth.Key, in *reportRequest) (*signal.Set, error) {
	if a.cfg.Hasher == nil {
		return nil, errorf(http.StatusUnsupportedMediaType, CodeContentType, "this server takes reports as application/json only")
	}
	content, release, err := a.readJSONForm(w, r, k, "report", in)
	if err != nil {
		return nil, err
	}
	defer release()
	if content == nil {
		return nil, nil
	}
	if in.Hashes != (review.Hashes{}) {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "send the content or its hashes, not both")
	}
	// Hashing holds a decoded image: it waits for one of the scans' slots.
	if p := a.cfg.Pipeline; p != nil && p.Slots != nil {
		select {
		case p.Slots <- struct{}{}:
			defer func() { <-p.Slots }()
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	sig, err := a.cfg.Hasher.HashContext(r.Context(), "report", content)
	if err != nil {
		return nil, err
	}
	// A flat image's PDQ hash is near every other flat image's: it would
	// join unrelated cases.
	if sig.Quality >= match.DefaultQualityFloor {
		in.Hashes.PDQ = &sig.PDQ
	}
	in.Hashes.MD5, in.Hashes.SHA256 = hex.EncodeToString(sig.MD5[:]), hex.EncodeToString(sig.SHA256[:])
	set := sig.Set()
	return &set, nil
}

// createReports handles POST /v1/reports/bulk: a trusted flagger's batch,
// filed all or none if any item is invalid.
func (a *API) createReports(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	if k.Role != auth.Flagger {
		return errorf(http.StatusForbidden, CodeForbidden, "key %s has role %s: bulk submission is for trusted flaggers; file reports one at a time with POST /v1/reports", k.ID, k.Role)
	}
	if _, err := a.desk(); err != nil {
		return err
	}
	var in struct {
		Reports []reportRequest `json:"reports"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	switch n := len(in.Reports); {
	case n == 0:
		return errorf(http.StatusBadRequest, CodeInvalidReport, "no reports: want {\"reports\": [...]}")
	case n > MaxBulk:
		return errorf(http.StatusBadRequest, CodeInvalidReport, "%d reports, more than %d in one batch", n, MaxBulk)
	}
	// Every bad item is named, and none is filed if any is bad, so a
	// flagger never has to work out which of a batch went in.
	rs := make([]review.Report, len(in.Reports))
	var bad []string
	for i, x := range in.Reports {
		rep, err := a.report(r.Context(), k, x, nil)
		if errors.Is(err, review.ErrInvalid) {
			bad = append(bad, fmt.Sprintf("item %d: %v", i, strings.TrimSuffix(err.Error(), ": "+review.ErrInvalid.Error())))
			continue
		} else if err != nil {
			return err
		}
		rs[i] = rep
	}
	if len(bad) > 0 {
		return errorf(http.StatusBadRequest, CodeInvalidReport, "%s; nothing was filed", strings.Join(bad, "; "))
	}
	filed, err := a.review.FileBulk(r.Context(), k.ID, rs)
	if err != nil {
		return invalidAs(CodeInvalidReport, fmt.Errorf("%w; nothing was filed", err))
	}
	out := make([]reportStatus, len(filed))
	for i, rep := range filed {
		out[i] = statusOf(rep)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"reports": out})
	return nil
}

func pathID(r *http.Request, what string) (int64, error) {
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusBadRequest, CodeBadRequest, "%s id %q: want a positive integer", what, clip(s))
	}
	return id, nil
}

// getReport handles GET /v1/reports/{id}. A flagger sees only its own
// reports; another's is answered as if it did not exist.
func (a *API) getReport(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	desk, err := a.desk()
	if err != nil {
		return err
	}
	id, err := pathID(r, "report")
	if err != nil {
		return err
	}
	rep, err := desk.Report(r.Context(), id)
	if err == nil && k.Role == auth.Flagger && rep.Reporter != k.ID || errors.Is(err, review.ErrNotFound) {
		// One answer, word for word, for a report that does not exist
		// and another flagger's: the wording must not tell them apart.
		return errorf(http.StatusNotFound, CodeNotFound, "no report %d", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusOf(rep))
	return nil
}

// queueJSON is a queue at a glance, with its target in seconds.
type queueJSON struct {
	Queue         review.Queue `json:"queue"`
	TargetSeconds int64        `json:"target_seconds"`
	Cases         int          `json:"cases"`
	Overdue       int          `json:"overdue"`
	NextDue       time.Time    `json:"next_due,omitzero"`
}

// listQueues handles GET /v1/queues.
func (a *API) listQueues(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	desk, err := a.desk()
	if err != nil {
		return err
	}
	qs, err := desk.Queues(r.Context())
	if err != nil {
		return err
	}
	out := make([]queueJSON, len(qs))
	for i, q := range qs {
		out[i] = queueJSON{q.Queue, int64(q.Target / time.Second), q.Cases, q.Overdue, q.NextDue}
	}
	writeJSON(w, http.StatusOK, map[string]any{"queues": out})
	return nil
}

// rankedJSON is a case in a queue: the case, its priority with every
// contribution, and its countdown (negative once overdue).
type rankedJSON struct {
	Case         review.Case     `json:"case"`
	Priority     review.Priority `json:"priority"`
	DueInSeconds int64           `json:"due_in_seconds"`
	// Reason is the first words of the reports' reasons (queues only).
	Reason string `json:"reason,omitempty"`
}

// reasonWords is how many words of a report's reason a queue row shows.
const reasonWords = 12

func countdown(c review.Case, now time.Time) int64 {
	return int64(c.DueAt.Sub(now).Truncate(time.Second) / time.Second)
}

// getQueue handles GET /v1/queues/{queue}?limit=N: the undecided cases in
// the order a reviewer should take them.
func (a *API) getQueue(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	desk, err := a.desk()
	if err != nil {
		return err
	}
	q := review.Queue(r.PathValue("queue"))
	if !q.Valid() {
		return errorf(http.StatusNotFound, CodeNotFound, "no queue %q: the queues are %v", clip(string(q)), review.Queues())
	}
	limit := int(request.Parsed(r).Number("limit"))
	ranked, err := desk.Queue(r.Context(), q)
	if err != nil {
		return err
	}
	now := a.now()
	out := make([]rankedJSON, 0, min(limit, len(ranked)))
	mask := a.maskFor(r.Context(), k)
	for _, rk := range ranked[:min(limit, len(ranked))] {
		mask.caseView(&rk.Case, &rk.Priority, nil)
		reason, err := desk.Reason(r.Context(), rk.Case.ID, reasonWords)
		if err != nil {
			return err
		}
		out = append(out, rankedJSON{rk.Case, rk.Priority, countdown(rk.Case, now), reason})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"queue": q, "target_seconds": int64(desk.Target(q) / time.Second), "total": len(ranked), "cases": out,
	})
	return nil
}

// getCase handles GET /v1/cases/{id}: the case with its signals, its
// priority's breakdown, its reports and its decisions. The view is in the
// audit log before it is answered.
func (a *API) getCase(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	desk, err := a.desk()
	if err != nil {
		return err
	}
	id, err := pathID(r, "case")
	if err != nil {
		return err
	}
	c, p, rs, err := desk.Case(r.Context(), id)
	if err != nil {
		return err
	}
	if err := a.record(r.Context(), k, "case.view", "case:"+strconv.FormatInt(id, 10),
		map[string]any{"state": c.State, "queue": c.Queue, "version": c.Version}); err != nil {
		return err
	}
	if rs == nil {
		rs = []review.Report{}
	}
	a.maskFor(r.Context(), k).caseView(&c, &p, rs)
	writeJSON(w, http.StatusOK, map[string]any{
		"case": c, "priority": p, "reports": rs, "due_in_seconds": countdown(c, a.now()),
	})
	return nil
}

// decide handles POST /v1/cases/{id}/decision. The reviewer is the key.
func (a *API) decide(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	if _, err := a.desk(); err != nil {
		return err
	}
	id, err := pathID(r, "case")
	if err != nil {
		return err
	}
	var in struct {
		Verdict        review.Verdict        `json:"verdict"`
		Classification review.Classification `json:"classification"`
		Actions        []review.Action       `json:"actions"`
		Reason         string                `json:"reason"`
		// Except, on a network case, names members the decision spares.
		Except []string `json:"except"`
		// Version, if set, is the version of the case the reviewer
		// looked at: a report that joined since (perhaps a graver one)
		// must be seen before deciding.
		Version int `json:"version"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := a.review.Decide(r.Context(), k.ID, id, in.Version, review.Decision{
		Reviewer: k.ID, Verdict: in.Verdict, Classification: in.Classification, Actions: in.Actions, Reason: in.Reason,
		Except: in.Except,
	})
	if err != nil {
		return invalidAs(CodeInvalidDecision, err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"case": c})
	return nil
}

// appeal handles POST /v1/cases/{id}/appeal, sent by the platform for the
// uploader. The answer says where the appeal waits, not what the case
// holds (other reporters, signals), which is for reviewers.
func (a *API) appeal(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	if _, err := a.desk(); err != nil {
		return err
	}
	id, err := pathID(r, "case")
	if err != nil {
		return err
	}
	var in struct {
		Appellant string `json:"appellant"`
		Reason    string `json:"reason"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := a.review.Appeal(r.Context(), k.ID, id, review.Appeal{Appellant: in.Appellant, Reason: in.Reason})
	if err != nil {
		return invalidAs(CodeInvalidDecision, err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"case_id": c.ID, "state": c.State, "queue": c.Queue, "due_at": c.DueAt})
	return nil
}

// rowJSON is a row of time to action with its times in seconds.
type rowJSON struct {
	Category      review.Category `json:"category"`
	Source        review.Source   `json:"source"`
	Received      int             `json:"received"`
	Decided       int             `json:"decided"`
	Actioned      int             `json:"actioned"`
	ShareActioned float64         `json:"share_actioned"`
	MedianSeconds float64         `json:"median_seconds"`
	P90Seconds    float64         `json:"p90_seconds"`
}

// stats handles GET /v1/stats?since=RFC3339: time to action per category
// and source of the reports received since then (DefaultStatsWindow ago
// by default).
func (a *API) stats(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	desk, err := a.desk()
	if err != nil {
		return err
	}
	since := request.Parsed(r).Time("since")
	if since.IsZero() {
		since = a.now().Add(-DefaultStatsWindow)
	}
	rows, err := desk.Stats(r.Context(), since)
	if err != nil {
		return err
	}
	out := make([]rowJSON, len(rows))
	for i, x := range rows {
		out[i] = rowJSON{x.Category, x.Source, x.Received, x.Decided, x.Actioned, x.Share, x.Median.Seconds(), x.P90.Seconds()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": since.UTC(), "rows": out})
	return nil
}
