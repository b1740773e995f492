package api

import (
	"net/http"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// webhookJSON is an endpoint as listed: never its secret, which is shown
// once, when the endpoint is created.
type webhookJSON struct {
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	Secret    string    `json:"secret,omitempty"`
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	es, err := a.cfg.Webhooks.ListWebhooks(r.Context())
	if err != nil {
		return err
	}
	out := make([]webhookJSON, 0, len(es))
	for _, e := range es {
		out = append(out, webhookJSON{Name: e.Name, URL: e.URL, Enabled: e.Enabled, CreatedAt: e.CreatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
	return nil
}

// createWebhook handles POST /v1/webhooks. The secret is generated unless
// given, and answered this once.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	var in struct {
		Name    string `json:"name"`
		URL     string `json:"url"`
		Secret  string `json:"secret"`
		Enabled *bool  `json:"enabled"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	e := webhook.Endpoint{Name: in.Name, URL: in.URL, Secret: in.Secret, Enabled: in.Enabled == nil || *in.Enabled,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if e.Secret == "" {
		e.Secret = webhook.NewSecret()
	}
	if err := e.Validate(); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	// Refused here as well as when dialled, so an admin learns at once
	// that a target is internal (see webhook.Policy).
	if err := webhook.CheckURL(r.Context(), e.URL, a.cfg.WebhookPolicy); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "webhook %q: %v", e.Name, err)
	}
	err := a.changes.Do(r.Context(), k.ID, audit.WebhookUpdate, func(tx usecase.Stores) (string, any, error) {
		return e.Name, map[string]any{"created": true, "url": e.URL, "enabled": e.Enabled}, tx.Webhooks.CreateWebhook(r.Context(), e)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, webhookJSON{Name: e.Name, URL: e.URL, Enabled: e.Enabled, CreatedAt: e.CreatedAt, Secret: e.Secret})
	return nil
}

// Bounds of a rotation's overlap: long enough for a receiver's operator to
// deploy the new secret, short enough that a leaked old one soon stops.
const (
	defaultOverlap = 24 * time.Hour
	maxOverlap     = 7 * 24 * time.Hour
)

// rotateWebhook handles POST /v1/webhooks/{name}/rotate: a new secret
// (generated unless given), answered this once; the old one keeps signing
// beside it for the overlap, so the receiver can switch at any moment.
func (a *API) rotateWebhook(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	var in struct {
		Secret         string `json:"secret"`
		OverlapSeconds *int64 `json:"overlap_seconds"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	overlap := defaultOverlap
	if in.OverlapSeconds != nil {
		if *in.OverlapSeconds < 0 || *in.OverlapSeconds > int64(maxOverlap/time.Second) {
			return errorf(http.StatusBadRequest, CodeBadRequest, "overlap_seconds %d: want 0 to %d", *in.OverlapSeconds, int64(maxOverlap/time.Second))
		}
		overlap = time.Duration(*in.OverlapSeconds) * time.Second
	}
	if in.Secret == "" {
		in.Secret = webhook.NewSecret()
	}
	name := r.PathValue("name")
	var e webhook.Endpoint
	err := a.changes.Do(r.Context(), k.ID, audit.WebhookUpdate, func(tx usecase.Stores) (string, any, error) {
		old, err := tx.Webhooks.Webhook(r.Context(), name)
		if err != nil {
			return name, nil, err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		if e, err = old.Rotate(in.Secret, now, overlap); err != nil {
			return name, nil, errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
		}
		return name, map[string]any{"rotated": true, "previous_until": e.PreviousUntil}, tx.Webhooks.UpdateWebhook(r.Context(), e)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": e.Name, "secret": e.Secret, "previous_until": e.PreviousUntil})
	return nil
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	name := r.PathValue("name")
	err := a.changes.Do(r.Context(), k.ID, audit.WebhookUpdate, func(tx usecase.Stores) (string, any, error) {
		return name, map[string]any{"deleted": true}, tx.Webhooks.DeleteWebhook(r.Context(), name)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deliveryJSON is a dead letter as listed: what, where, and why it failed.
type deliveryJSON struct {
	ID        string    `json:"id"`
	Webhook   string    `json:"webhook"`
	Event     string    `json:"event"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
	DoneAt    time.Time `json:"failed_at"`
}

func (a *API) deadLetters(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	ds, err := a.cfg.Webhooks.DeadLetters(r.Context(), int(request.Parsed(r).Number("limit")))
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, deliveryJSON{d.ID, d.Webhook, d.Event, d.Attempts, d.LastError, d.CreatedAt, d.DoneAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": out})
	return nil
}

func (a *API) replay(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	id := r.PathValue("id")
	err := a.changes.Do(r.Context(), k.ID, audit.WebhookUpdate, func(tx usecase.Stores) (string, any, error) {
		return id, map[string]any{"replayed": id}, tx.Webhooks.ReplayDeadLetter(r.Context(), id, time.Now())
	})
	if err != nil {
		return err
	}
	if a.cfg.Wake != nil {
		a.cfg.Wake()
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	ks, err := a.cfg.Keys.ListKeys(r.Context())
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []auth.Key{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": ks})
	return nil
}

// createKey handles POST /v1/keys; the answer holds the key's plaintext,
// which exists nowhere else.
func (a *API) createKey(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	var in struct {
		Role  string          `json:"role"`
		Name  string          `json:"name"`
		Limit *auth.RateLimit `json:"rate_limit"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	role, err := auth.ParseRole(in.Role)
	if err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	if in.Limit != nil {
		if err := in.Limit.Validate(); err != nil {
			return errorf(http.StatusBadRequest, CodeBadRequest, "rate_limit: %v", err)
		}
	}
	// Generate checks the name; a refusal there is the client's fault,
	// one from Create the store's.
	if _, _, _, err := auth.Generate(role, in.Name); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	var plain string
	var nk auth.Key
	err = a.changes.Do(r.Context(), k.ID, audit.KeyCreate, func(tx usecase.Stores) (string, any, error) {
		var err error
		plain, nk, err = auth.CreateLimited(r.Context(), tx.Keys, role, in.Name, k.ID, in.Limit)
		return nk.ID, nk.Created(), err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		auth.Key
		Plaintext string `json:"key"`
	}{nk, plain})
	return nil
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	id := r.PathValue("id")
	err := a.changes.Do(r.Context(), k.ID, audit.KeyRevoke, func(tx usecase.Stores) (string, any, error) {
		return id, nil, tx.Keys.RevokeKey(r.Context(), id, time.Now().UTC().Truncate(time.Microsecond))
	})
	a.keys.Forget(id)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// auditEntries handles GET /v1/audit?from=SEQ&limit=N.
func (a *API) auditEntries(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	q := request.Parsed(r)
	from, limit := q.Number("from"), int(q.Number("limit"))
	out := []audit.Entry{}
	for e, err := range a.cfg.Audit.AuditEntries(r.Context(), from) {
		if err != nil {
			return err
		}
		out = append(out, e)
		if len(out) == limit {
			break
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out})
	return nil
}

// auditVerify handles GET /v1/audit/verify: the whole chain checked, with
// every break named. A broken chain is still a 200: the report is the
// answer.
func (a *API) auditVerify(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	rep, err := audit.Verify(a.cfg.Audit.AuditEntries(r.Context(), 1))
	if err != nil && !rep.OK() {
		err = nil
	}
	if err != nil {
		return err
	}
	if rep.Problems == nil {
		rep.Problems = []audit.Problem{}
	}
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
		audit.Report
	}{rep.OK(), rep})
	return nil
}
