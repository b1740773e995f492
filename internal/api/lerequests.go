package api

// Data requests from authorities (issue 6, item 4), for the le_liaison
// role: the register (agency, legal basis, accounts, period, deadline,
// emergency), listed as they are worked — emergencies first, then by
// deadline — each with its countdown; an export of what the service holds
// about the accounts as a ZIP package whose manifest has the SHA-256 of
// every member; and closing a request as fulfilled or refused. Every change
// and every export is recorded in the audit log, the export with its
// manifest's SHA-256, so the package handed over can be proved later. The
// domain is internal/lerequest.

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// leRequestBody is the body of POST /v1/le-requests.
type leRequestBody struct {
	Agency     string    `json:"agency"`
	Reference  string    `json:"reference"`
	LegalBasis string    `json:"legal_basis"`
	Accounts   []string  `json:"accounts"`
	Cases      []int64   `json:"cases"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Deadline   time.Time `json:"deadline"`
	Emergency  bool      `json:"emergency"`
}

// leRequestView is a request as the API shows it: with its clock.
type leRequestView struct {
	lerequest.Request
	Overdue bool `json:"overdue"`
	// DueInSeconds counts down to the deadline; negative once past it.
	DueInSeconds int64 `json:"due_in_seconds"`
}

func (a *API) leRequestView(r lerequest.Request) leRequestView {
	now := a.now()
	return leRequestView{Request: r, Overdue: r.Overdue(now), DueInSeconds: int64(r.Deadline.Sub(now).Truncate(time.Second) / time.Second)}
}

func (a *API) register() (*lerequest.Register, export.Store, error) {
	if a.cfg.LERequests == nil {
		return nil, nil, errorf(http.StatusServiceUnavailable, CodeUnavailable, "data requests are not available on this server: its store keeps none")
	}
	return &lerequest.Register{Store: a.cfg.LERequests, Now: a.now}, a.cfg.LERequests, nil
}

func leRequestSubject(id int64) string { return fmt.Sprintf("le-request/%d", id) }

// createLERequest handles POST /v1/le-requests. Linked cases must exist.
func (a *API) createLERequest(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	g, st, err := a.register()
	if err != nil {
		return err
	}
	var in leRequestBody
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	req := lerequest.Request{Agency: in.Agency, Reference: in.Reference, LegalBasis: in.LegalBasis, Accounts: in.Accounts,
		Cases: in.Cases, From: in.From, To: in.To, Deadline: in.Deadline, Emergency: in.Emergency}
	if err := req.Validate(); err != nil {
		return err
	}
	for _, id := range in.Cases {
		if _, err := st.Case(r.Context(), id); errors.Is(err, review.ErrNotFound) {
			return errorf(http.StatusUnprocessableEntity, CodeInvalidLERequest, "cases: there is no case %d", id)
		} else if err != nil {
			return err
		}
	}
	var created lerequest.Request
	err = a.changes.Do(r.Context(), k.ID, "lerequest.create", func(tx usecase.Stores) (string, any, error) {
		var err error
		g := &lerequest.Register{Store: tx.LERequests, Now: g.Now}
		created, err = g.Create(r.Context(), req, k.ID)
		return leRequestSubject(created.ID), map[string]any{
			"agency": created.Agency, "legal_basis": created.LegalBasis, "accounts": created.Accounts, "cases": created.Cases,
			"from": created.From, "to": created.To, "deadline": created.Deadline, "emergency": created.Emergency,
		}, err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.leRequestView(created))
	return nil
}

// listLERequests handles GET /v1/le-requests[?state=]: in the order they
// are worked, emergencies first.
func (a *API) listLERequests(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	g, _, err := a.register()
	if err != nil {
		return err
	}
	rs, err := g.List(r.Context(), lerequest.State(request.Parsed(r).Text("state")))
	if err != nil {
		return err
	}
	out := make([]leRequestView, 0, len(rs))
	overdue := 0
	for _, q := range rs {
		v := a.leRequestView(q)
		if v.Overdue {
			overdue++
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out, "overdue": overdue})
	return nil
}

// getLERequest handles GET /v1/le-requests/{id}.
func (a *API) getLERequest(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	_, st, err := a.register()
	if err != nil {
		return err
	}
	id, err := pathID(r, "data request")
	if err != nil {
		return err
	}
	q, err := st.LERequest(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.leRequestView(q))
	return nil
}

// exportLERequest handles POST /v1/le-requests/{id}/export: the package of
// what the service holds about the request's accounts. The export is
// entered in the request and the audit log before the package is sent. A
// refused request gets none.
func (a *API) exportLERequest(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	g, st, err := a.register()
	if err != nil {
		return err
	}
	id, err := pathID(r, "data request")
	if err != nil {
		return err
	}
	q, err := st.LERequest(r.Context(), id)
	if err != nil {
		return err
	}
	if q.State == lerequest.Refused {
		return errorf(http.StatusConflict, CodeWrongState, "data request %d was refused; nothing is exported for it", id)
	}
	recs, err := export.Gather(r.Context(), st, st, q)
	if err != nil {
		return err
	}
	if a.cfg.Conversations != nil {
		msgs, err := a.cfg.Conversations.Around(r.Context(), q.Accounts)
		if err != nil {
			return err
		}
		recs.Messages = lereport.Between(msgs, q.From, q.To)
	}
	now := a.now()
	var pkg bytes.Buffer
	sum, err := export.Write(&pkg, q, recs, now)
	if err != nil {
		return err
	}
	e := lerequest.Export{At: now, By: k.ID, SHA256: hex.EncodeToString(sum[:]), Scans: len(recs.Scans), Cases: len(recs.Cases), Reports: len(recs.Reports)}
	if _, err := g.Exported(r.Context(), id, e); err != nil {
		return err
	}
	if err := a.record(r.Context(), k, "lerequest.export", leRequestSubject(id), map[string]any{
		"manifest_sha256": e.SHA256, "size": pkg.Len(), "scans": e.Scans, "cases": e.Cases, "reports": e.Reports,
	}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="le-request-%d.zip"`, id))
	w.Header().Set("X-Manifest-SHA256", e.SHA256)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(pkg.Bytes())
	return err
}

// closeLERequest handles POST /v1/le-requests/{id}/close {"state", "reason"}.
func (a *API) closeLERequest(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	g, _, err := a.register()
	if err != nil {
		return err
	}
	id, err := pathID(r, "data request")
	if err != nil {
		return err
	}
	var in struct {
		State  lerequest.State `json:"state"`
		Reason string          `json:"reason"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	closed, err := g.Close(r.Context(), id, in.State, k.ID, in.Reason)
	if err != nil {
		return err
	}
	if err := a.record(r.Context(), k, "lerequest.close", leRequestSubject(id), map[string]any{
		"state": closed.State, "reason": closed.Reason, "overdue": closed.Closed.After(closed.Deadline),
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.leRequestView(closed))
	return nil
}
