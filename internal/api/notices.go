package api

// Issue 18: a reporter's own view of their reports (GET /v1/reports/mine),
// and the register of notices to outside hosts, chased until removal
// (/v1/notices). The domains are internal/review (Desk.Reporter) and
// internal/notice; usecase.Notices writes the changes with their audit
// entries and the server's worker does the chasing.

import (
	"net/http"
	"strconv"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/limits"
	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// Bounds of GET /v1/reports/mine's list (its figures count every report).
const (
	DefaultMine = 100
	MaxMine     = 1000
)

// outcomeJSON is review.Outcome with its durations in seconds.
type outcomeJSON struct {
	review.Outcome
	Age        time.Duration `json:"-"`
	AgeSeconds int64         `json:"age_seconds"`
}

type tallyJSON struct {
	review.Tally
	Oldest        time.Duration `json:"-"`
	OldestSeconds int64         `json:"oldest_pending_seconds"`
	Summary       string        `json:"summary"`
}

type reporterJSON struct {
	Source   review.Source `json:"source"`
	Reporter string        `json:"reporter"`
	Tally    tallyJSON     `json:"tally"`
	Reports  []outcomeJSON `json:"reports"`
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// Summary is the tally in a sentence: "100 sent, 61 actioned, 31
// dismissed, 8 pending — oldest 13 days".
func Summary(t review.Tally) string {
	s := strconv.Itoa(t.Sent) + " sent, " + strconv.Itoa(t.Actioned) + " actioned, " + strconv.Itoa(t.Dismissed) + " dismissed, " +
		strconv.Itoa(t.Pending) + " pending"
	if t.Pending > 0 {
		s += " — oldest " + Age(t.Oldest)
	}
	if t.Overdue > 0 {
		s += " (" + strconv.Itoa(t.Overdue) + " past target, " + strconv.Itoa(t.Escalated) + " escalated)"
	}
	return s
}

// Age is a duration as people say it: "13 days", "5 hours", "12 minutes".
func Age(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d >= 48*time.Hour:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= 2*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	default:
		return plural(int64(d/time.Minute), "minute")
	}
}

// myReports handles GET /v1/reports/mine: a trusted flagger's own reports
// (its key is the reporter); the platform asks for one of its users', by
// ?reporter=, and sees only reports filed as that user's. Never another
// reporter's identity, the content or the reviewers.
func (a *API) myReports(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	desk, err := a.desk()
	if err != nil {
		return err
	}
	q := request.Parsed(r)
	source, reporter := review.User, q.Text("reporter")
	if k.Role == auth.Flagger {
		if reporter != "" && reporter != k.ID {
			return errorf(http.StatusForbidden, CodeForbidden, "a trusted flagger sees its own reports only; leave reporter out")
		}
		source, reporter = review.Flagger, k.ID
	} else if reporter == "" {
		return errorf(http.StatusBadRequest, CodeBadRequest, "reporter is required: the id of the user whose reports to show")
	}
	if err := limits.Line("reporter", reporter, limits.ID); err != nil {
		return err
	}
	v, err := desk.Reporter(r.Context(), source, reporter, int(q.Number("limit")))
	if err != nil {
		return err
	}
	out := reporterJSON{Source: source, Reporter: reporter, Reports: make([]outcomeJSON, len(v.Outcomes)),
		Tally: tallyJSON{Tally: v.Tally, OldestSeconds: seconds(v.Tally.Oldest), Summary: Summary(v.Tally)}}
	for i, o := range v.Outcomes {
		out.Reports[i] = outcomeJSON{Outcome: o, AgeSeconds: seconds(o.Age)}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// notices is the notice use case, or 503.
func (a *API) notices() (*usecase.Notices, error) {
	if a.cfg.Notices == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeUnavailable, "notices are not available on this server")
	}
	return a.cfg.Notices, nil
}

// noticeBody is the body of POST /v1/notices. Content, if sent, is the
// material as found, kept encrypted as the evidence; its hashes are what
// each check looks for at the URL. It comes base64 in the JSON (which
// bounds every string to 64 KiB), or as the part "content" of a
// multipart form whose part "notice" is this JSON (up to max-body).
type noticeBody struct {
	URL         string          `json:"url"`
	Host        string          `json:"host"`
	Contact     string          `json:"contact"`
	Category    review.Category `json:"category"`
	LegalBasis  string          `json:"legal_basis"`
	Note        string          `json:"note"`
	Content     []byte          `json:"content"`
	ContentType string          `json:"content_type"`
}

// createNotice handles POST /v1/notices.
func (a *API) createNotice(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	u, err := a.notices()
	if err != nil {
		return err
	}
	var in noticeBody
	if mt, _ := checkContentType(r, "multipart/form-data"); mt != "" {
		content, release, err := a.readJSONForm(w, r, k, "notice", &in)
		if err != nil {
			return err
		}
		defer release()
		if content != nil {
			if in.Content != nil {
				return errorf(http.StatusBadRequest, CodeBadRequest, "send the content as a part or in the JSON, not both")
			}
			in.Content = content
		}
	} else if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := u.Create(r.Context(), k.ID, notice.Notice{URL: in.URL, Host: in.Host, Contact: in.Contact, Category: in.Category,
		LegalBasis: in.LegalBasis, Note: in.Note}, in.Content, in.ContentType)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, n)
	return nil
}

// listNotices handles GET /v1/notices.
func (a *API) listNotices(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	u, err := a.notices()
	if err != nil {
		return err
	}
	ns, err := u.Store.Notices(r.Context())
	if err != nil {
		return err
	}
	if ns == nil {
		ns = []notice.Notice{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notices": ns})
	return nil
}

// hostRowJSON is notice.HostRow with its durations in seconds.
type hostRowJSON struct {
	notice.HostRow
	MedianToRemoval        time.Duration `json:"-"`
	Oldest                 time.Duration `json:"-"`
	MedianToRemovalSeconds int64         `json:"median_to_removal_seconds"`
	OldestUpSeconds        int64         `json:"oldest_up_seconds"`
}

// noticeFigures handles GET /v1/notices/figures: per host, notices sent,
// removed, median time to removal, still up, with the notices counted.
func (a *API) noticeFigures(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	u, err := a.notices()
	if err != nil {
		return err
	}
	rows, err := a.hostRows(r, u)
	if err != nil {
		return err
	}
	out := make([]hostRowJSON, len(rows))
	for i, row := range rows {
		out[i] = hostRowJSON{HostRow: row, MedianToRemovalSeconds: seconds(row.MedianToRemoval), OldestUpSeconds: seconds(row.Oldest)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"hosts": out, "at": a.now().UTC()})
	return nil
}

func (a *API) hostRows(r *http.Request, u *usecase.Notices) ([]notice.HostRow, error) {
	ns, err := u.Store.Notices(r.Context())
	if err != nil {
		return nil, err
	}
	return notice.Figures(ns, a.now()), nil
}

// getNotice handles GET /v1/notices/{id}: the notice and its events, the
// evidence of every check and sending.
func (a *API) getNotice(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	u, err := a.notices()
	if err != nil {
		return err
	}
	id, err := pathID(r, "notice")
	if err != nil {
		return err
	}
	n, err := u.Store.Notice(r.Context(), id)
	if err != nil {
		return err
	}
	evs, err := u.Store.NoticeEvents(r.Context(), id)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []notice.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notice": n, "events": evs})
	return nil
}

// withdrawNotice handles POST /v1/notices/{id}/withdraw.
func (a *API) withdrawNotice(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	u, err := a.notices()
	if err != nil {
		return err
	}
	id, err := pathID(r, "notice")
	if err != nil {
		return err
	}
	reason, err := decodeReason(w, r)
	if err != nil {
		return err
	}
	n, err := u.Withdraw(r.Context(), k.ID, id, reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}
