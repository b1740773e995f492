package console

// The law-enforcement liaison's pages: the queue of reports waiting, a
// report's editor (each schema problem shown at its field), its
// submission status and receipts, and the evidence package download.
// Like every page they call the /v1 API with the signed-in key, so what
// the liaison may do and what is recorded is the API's.

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/request"
)

// leQueueItem is an entry of GET /v1/le-queue.
type leQueueItem struct {
	ReportID       int64              `json:"report_id"`
	CaseID         string             `json:"case_id"`
	State          lereport.State     `json:"state"`
	Recipient      string             `json:"recipient"`
	DecidedAt      time.Time          `json:"decided_at"`
	WaitingSeconds int64              `json:"waiting_seconds"`
	Files          int                `json:"files"`
	Problems       []lereport.Problem `json:"problems"`
}

func (c *Console) leQueue(w http.ResponseWriter, r *http.Request, s *session) {
	var out struct {
		Reports []leQueueItem `json:"reports"`
	}
	if err := c.call(r.Context(), s, "GET", "/v1/le-queue", nil, &out); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	c.render(w, http.StatusOK, "lequeue", c.newPage(r, s, "Law-enforcement reports", out.Reports))
}

// leField is one editable field of the draft form, with its problem.
type leField struct {
	Name, Label, Value, Path, Problem string
	Long                              bool     // a textarea
	Options                           []string // a select
}

// leData is the report page's.
type leData struct {
	Report   lereport.Report
	Fields   []leField
	Files    []leFileView
	Other    []lereport.Problem // problems at no field of the form
	Notice   string
	CanEdit  bool
	CyberTip bool
}

type leFileView struct {
	lereport.File
	Problems []lereport.Problem
}

// incidentTypes are the select's options.
var incidentTypes = []string{"", string(lereport.ChildPornography), string(lereport.ChildSexTrafficking), string(lereport.ChildSexTourism),
	string(lereport.ChildSexualMolestation), string(lereport.MisleadingDomainName), string(lereport.MisleadingWordsOrImages),
	string(lereport.OnlineEnticement), string(lereport.UnsolicitedObsceneMaterial)}

func leReportID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (c *Console) leReport(w http.ResponseWriter, r *http.Request, s *session) {
	c.showLEReport(w, r, s, http.StatusOK, "", request.Parsed(r).Text("done"))
}

func (c *Console) showLEReport(w http.ResponseWriter, r *http.Request, s *session, status int, msg, notice string) {
	id, ok := leReportID(r)
	if !ok {
		c.fail(w, r, s, http.StatusNotFound, "No such report.")
		return
	}
	var rep lereport.Report
	if err := c.call(r.Context(), s, "GET", fmt.Sprintf("/v1/le-reports/%d", id), nil, &rep); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	d := leData{Report: rep, CanEdit: rep.State == lereport.Draft, CyberTip: rep.Recipient == "cybertipline"}
	switch notice {
	case "saved", "ready", "draft", "submitted":
		d.Notice = "Report " + notice + "."
	}
	doc := rep.Document
	var account lereport.PersonOrUserReported
	if doc.PersonOrUserReported != nil {
		account = *doc.PersonOrUserReported
	}
	when := ""
	if !doc.IncidentSummary.IncidentDateTime.IsZero() {
		when = doc.IncidentSummary.IncidentDateTime.UTC().Format(time.RFC3339)
	}
	d.Fields = []leField{
		{Name: "incidentType", Label: "Incident type", Value: string(doc.IncidentSummary.IncidentType), Path: "report/incidentSummary/incidentType", Options: incidentTypes},
		{Name: "incidentDateTime", Label: "Incident time (RFC 3339)", Value: when, Path: "report/incidentSummary/incidentDateTime"},
		{Name: "escalateToHighPriority", Label: "Escalate: why a child is in immediate danger (leave empty if not)", Value: doc.IncidentSummary.EscalateToHighPriority, Path: "report/incidentSummary/escalateToHighPriority"},
		{Name: "espIdentifier", Label: "Account reported (platform id)", Value: account.ESPIdentifier, Path: "report/personOrUserReported/espIdentifier"},
		{Name: "screenName", Label: "Screen name", Value: account.ScreenName, Path: "report/personOrUserReported/screenName"},
		{Name: "additionalInfo", Label: "Additional information", Value: doc.AdditionalInfo, Path: "report/additionalInfo", Long: true},
	}
	for _, f := range rep.Files {
		d.Files = append(d.Files, leFileView{File: f})
	}
	for _, p := range rep.Problems() {
		placed := false
		for i := range d.Fields {
			if strings.HasPrefix(p.Field, d.Fields[i].Path) {
				d.Fields[i].Problem, placed = p.Message, true
				break
			}
		}
		if n, ok := fileIndex(p.Field); ok && n <= len(d.Files) {
			d.Files[n-1].Problems = append(d.Files[n-1].Problems, p)
			placed = true
		}
		if !placed {
			d.Other = append(d.Other, p)
		}
	}
	p := c.newPage(r, s, fmt.Sprintf("Report %d", id), d)
	p.Error = msg
	c.render(w, status, "lereport", p)
}

// fileIndex is N of a problem at "files/N/…".
func fileIndex(field string) (int, bool) {
	rest, ok := strings.CutPrefix(field, "files/")
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, "/")
	n, err := strconv.Atoi(num)
	return n, err == nil && n > 0
}

// leEdit saves the draft form: only the document's fields it shows, as a
// partial edit, so the files and every other field stay as they are.
func (c *Console) leEdit(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := leReportID(r)
	if !ok {
		c.fail(w, r, s, http.StatusNotFound, "No such report.")
		return
	}
	summary := map[string]any{"incidentType": r.PostFormValue("incidentType"),
		"escalateToHighPriority": strings.TrimSpace(r.PostFormValue("escalateToHighPriority"))}
	if v := strings.TrimSpace(r.PostFormValue("incidentDateTime")); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			c.showLEReport(w, r, s, http.StatusBadRequest, fmt.Sprintf("Incident time %q: write it as 2026-11-20T10:00:00Z.", clip(v)), "")
			return
		}
		summary["incidentDateTime"] = t.UTC()
	}
	doc := map[string]any{
		"incidentSummary": summary,
		"personOrUserReported": map[string]any{"espIdentifier": strings.TrimSpace(r.PostFormValue("espIdentifier")),
			"screenName": strings.TrimSpace(r.PostFormValue("screenName"))},
		"additionalInfo": r.PostFormValue("additionalInfo"),
	}
	if err := c.call(r.Context(), s, "PUT", fmt.Sprintf("/v1/le-reports/%d", id), map[string]any{"document": doc}, nil); err != nil {
		c.leFailed(w, r, s, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/console/le/%d?done=saved", id), http.StatusSeeOther)
}

// leMove posts a state change (ready, draft, submit) and shows the report
// again, with the API's refusal if there was one: a schema problem is
// named at its field by the page itself.
func (c *Console) leMove(step, notice string) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		id, ok := leReportID(r)
		if !ok {
			c.fail(w, r, s, http.StatusNotFound, "No such report.")
			return
		}
		var body any
		if step == "draft" {
			body = map[string]string{"reason": strings.TrimSpace(r.PostFormValue("reason"))}
		}
		if err := c.call(r.Context(), s, "POST", fmt.Sprintf("/v1/le-reports/%d/%s", id, step), body, nil); err != nil {
			c.leFailed(w, r, s, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/console/le/%d?done=%s", id, notice), http.StatusSeeOther)
	}
}

// leFailed shows the report with the API's refusal.
func (c *Console) leFailed(w http.ResponseWriter, r *http.Request, s *session, err error) {
	if ae, ok := err.(*apiError); ok && ae.Status != http.StatusUnauthorized && ae.Status != http.StatusNotFound && ae.Status != http.StatusForbidden {
		c.showLEReport(w, r, s, ae.Status, ae.Message, "")
		return
	}
	c.failAPI(w, r, s, err)
}

// lePackage downloads the report's evidence package for the recipient's
// public key, as the API writes it.
func (c *Console) lePackage(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := leReportID(r)
	if !ok {
		c.fail(w, r, s, http.StatusNotFound, "No such report.")
		return
	}
	rec, err := c.callRaw(r.Context(), s, "POST", fmt.Sprintf("/v1/le-reports/%d/package", id),
		map[string]string{"recipient_key": strings.TrimSpace(r.PostFormValue("recipient_key"))})
	if err != nil {
		c.leFailed(w, r, s, err)
		return
	}
	for _, h := range []string{"Content-Type", "Content-Disposition", "X-Manifest-SHA256"} {
		w.Header().Set(h, rec.Header().Get(h))
	}
	w.WriteHeader(http.StatusOK)
	io.Copy(w, rec.Body)
}

// canLE says whether s's key works law-enforcement reports.
func canLE(k auth.Key) bool { return k.Check(auth.LEReports) == nil }
