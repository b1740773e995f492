package console

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// The admin screens: banks, rules, webhooks with their dead letters, API
// keys and the audit log, for keys of role admin only. Like the review
// pages they are clients of the /v1 API, called in process with the
// signed-in key, so every change goes through the use case the API uses
// and is audited by it, and the key's permissions are checked by the
// same code. docs/console.md, "Admin screens", describes them.

// auditPage is how many audit entries a page shows.
const auditPage = 100

// auditParams are the audit screen's: the entry to start from, whether to
// verify the chain, and the notice every admin screen shows.
var auditParams = append(request.TextParams("done", "verify"), request.NumberParam("from", 1, math.MaxInt64, 1))

// adminRoutes mounts the admin screens.
func (c *Console) adminRoutes() {
	c.mux.Handle("GET /console/admin/{$}", c.admin(func(w http.ResponseWriter, r *http.Request, _ *session) {
		http.Redirect(w, r, "/console/admin/banks", http.StatusSeeOther)
	}))
	// Every screen shows the notice its form's redirect names (done).
	c.mux.Handle("GET /console/admin/banks", c.admin(c.adminBanks, doneParam...))
	c.mux.Handle("GET /console/admin/rules", c.admin(c.adminRules, doneParam...))
	c.mux.Handle("POST /console/admin/rules/{id}/disable", c.admin(c.adminDisableRule))
	c.mux.Handle("GET /console/admin/webhooks", c.admin(c.adminWebhooks, doneParam...))
	c.mux.Handle("POST /console/admin/webhooks/dead-letters/{id}/replay", c.admin(c.adminReplay))
	c.mux.Handle("GET /console/admin/keys", c.admin(c.adminKeys, doneParam...))
	c.mux.Handle("POST /console/admin/keys", c.admin(c.adminCreateKey))
	c.mux.Handle("POST /console/admin/keys/{id}/revoke", c.admin(c.adminRevokeKey))
	c.mux.Handle("GET /console/admin/audit", c.admin(c.adminAudit, auditParams...))
}

// admin wraps an admin screen: a signed-in session (with the CSRF checks
// of every POST and the query's, session) whose key has role admin.
func (c *Console) admin(h func(http.ResponseWriter, *http.Request, *session), query ...request.Param) http.Handler {
	return c.session(func(w http.ResponseWriter, r *http.Request, s *session) {
		if s.key.Role != auth.Admin {
			c.fail(w, r, s, http.StatusForbidden, "The admin screens are for keys of role admin; yours is "+string(s.key.Role)+".")
			return
		}
		h(w, r, s)
	}, false, query...)
}

// notices are the messages an admin action redirects with, by code, so a
// link cannot put words of its own on the page.
var notices = map[string]string{
	"disabled": "Rule disabled.",
	"replayed": "Dead letter queued for delivery again.",
	"revoked":  "Key revoked: it is refused from now on.",
}

// adminPage is what every admin screen gets besides its own data.
type adminPage struct {
	Notice string
	Data   any
}

func (c *Console) renderAdmin(w http.ResponseWriter, r *http.Request, s *session, name, title string, data any) {
	c.render(w, http.StatusOK, name, c.newPage(r, s, title, adminPage{Notice: notices[request.Parsed(r).Text("done")], Data: data}))
}

// bankRow is a bank as its screen shows it.
type bankRow struct {
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Threshold   int                `json:"threshold"`
	Entries     int64              `json:"entries"`
	CreatedAt   time.Time          `json:"created_at"`
	Sources     []bank.SourceCount `json:"sources"`
	LastAdded   *time.Time         `json:"last_added"`
}

func (c *Console) adminBanks(w http.ResponseWriter, r *http.Request, s *session) {
	var list struct {
		Banks []bankRow `json:"banks"`
	}
	if err := c.call(r.Context(), s, "GET", "/v1/banks", nil, &list); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	// The list has the counts; each bank's own answer adds its sources
	// and last addition.
	for i, b := range list.Banks {
		if err := c.call(r.Context(), s, "GET", "/v1/banks/"+url.PathEscape(b.Name), nil, &list.Banks[i]); err != nil {
			c.failAPI(w, r, s, err)
			return
		}
	}
	c.renderAdmin(w, r, s, "admin_banks", "Banks", list.Banks)
}

func (c *Console) adminRules(w http.ResponseWriter, r *http.Request, s *session) {
	var list struct {
		Rules []rules.Rule `json:"rules"`
	}
	if err := c.call(r.Context(), s, "GET", "/v1/rules", nil, &list); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	c.renderAdmin(w, r, s, "admin_rules", "Rules", list.Rules)
}

func (c *Console) adminDisableRule(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, s, http.StatusNotFound, fmt.Sprintf("There is no rule %q.", clip(r.PathValue("id"))))
		return
	}
	if err := c.call(r.Context(), s, "POST", "/v1/rules/"+strconv.FormatInt(id, 10)+"/disable", nil, nil); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/console/admin/rules?done=disabled", http.StatusSeeOther)
}

type webhookRow struct {
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
}

type deadLetter struct {
	ID        string    `json:"id"`
	Webhook   string    `json:"webhook"`
	Event     string    `json:"event"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
	FailedAt  time.Time `json:"failed_at"`
}

func (c *Console) adminWebhooks(w http.ResponseWriter, r *http.Request, s *session) {
	var d struct {
		Webhooks    []webhookRow `json:"webhooks"`
		DeadLetters []deadLetter `json:"dead_letters"`
	}
	if err := c.call(r.Context(), s, "GET", "/v1/webhooks", nil, &d); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	if err := c.call(r.Context(), s, "GET", "/v1/webhooks/dead-letters?limit=200", nil, &d); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	c.renderAdmin(w, r, s, "admin_webhooks", "Webhooks", d)
}

func (c *Console) adminReplay(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.call(r.Context(), s, "POST", "/v1/webhooks/dead-letters/"+url.PathEscape(r.PathValue("id"))+"/replay", nil, nil); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/console/admin/webhooks?done=replayed", http.StatusSeeOther)
}

// keysData is the keys screen's: every key, the roles a new one may
// have, and, once, the plaintext of a key just created.
type keysData struct {
	Keys    []auth.Key
	Roles   []auth.Role
	Created *createdKey
	Confirm *auth.Key // a key whose revocation waits to be confirmed
	Form    struct{ Role, Name string }
}

type createdKey struct {
	auth.Key
	Plaintext string `json:"key"`
}

func (c *Console) keysData(r *http.Request, s *session) (keysData, error) {
	d := keysData{Roles: auth.Roles()}
	d.Form.Role = string(auth.Reviewer) // the usual new key; admin is never the default
	var list struct {
		Keys []auth.Key `json:"keys"`
	}
	err := c.call(r.Context(), s, "GET", "/v1/keys", nil, &list)
	d.Keys = list.Keys
	return d, err
}

func (c *Console) adminKeys(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := c.keysData(r, s)
	if err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	c.renderAdmin(w, r, s, "admin_keys", "API keys", d)
}

// adminCreateKey creates a key and shows its plaintext on this answer
// only (served no-store, like every page): it is not kept anywhere.
func (c *Console) adminCreateKey(w http.ResponseWriter, r *http.Request, s *session) {
	in := struct {
		Role string `json:"role"`
		Name string `json:"name"`
	}{r.PostFormValue("role"), r.PostFormValue("name")}
	var created createdKey
	callErr := c.call(r.Context(), s, "POST", "/v1/keys", in, &created)
	d, err := c.keysData(r, s)
	if err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	p := c.newPage(r, s, "API keys", adminPage{Data: &d})
	status := http.StatusOK
	var ae *apiError
	if errors.As(callErr, &ae) && ae.Status != http.StatusUnauthorized && ae.Status < 500 {
		d.Form.Role, d.Form.Name = in.Role, in.Name
		p.Error, status = ae.Message, ae.Status
	} else if callErr != nil {
		c.failAPI(w, r, s, callErr)
		return
	} else {
		d.Created = &created
	}
	c.render(w, status, "admin_keys", p)
}

// adminRevokeKey asks first: without confirm=yes it shows the key and a
// button that confirms; with it, the key is revoked.
func (c *Console) adminRevokeKey(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if r.PostFormValue("confirm") != "yes" {
		d, err := c.keysData(r, s)
		if err != nil {
			c.failAPI(w, r, s, err)
			return
		}
		for i := range d.Keys {
			if d.Keys[i].ID == id {
				d.Confirm = &d.Keys[i]
			}
		}
		if d.Confirm == nil {
			c.fail(w, r, s, http.StatusNotFound, fmt.Sprintf("There is no key %q.", clip(id)))
			return
		}
		c.render(w, http.StatusOK, "admin_keys", c.newPage(r, s, "Revoke a key", adminPage{Data: &d}))
		return
	}
	if err := c.call(r.Context(), s, "DELETE", "/v1/keys/"+url.PathEscape(id), nil, nil); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/console/admin/keys?done=revoked", http.StatusSeeOther)
}

// auditData is the audit screen's: a page of entries with their actors
// named, the next page's start, and the chain's verification when asked.
type auditData struct {
	Entries []auditRow
	From    int64
	Next    int64 // 0: no further page
	Verify  *verifyReport
}

type auditRow struct {
	audit.Entry
	Who string
}

type verifyReport struct {
	OK bool `json:"ok"`
	audit.Report
}

func (c *Console) adminAudit(w http.ResponseWriter, r *http.Request, s *session) {
	q := request.Parsed(r)
	d := auditData{From: q.Number("from")}
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	if err := c.call(r.Context(), s, "GET", fmt.Sprintf("/v1/audit?from=%d&limit=%d", d.From, auditPage), nil, &page); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	n := c.names(r.Context())
	for _, e := range page.Entries {
		d.Entries = append(d.Entries, auditRow{e, n.reviewer(e.Actor)})
	}
	if len(page.Entries) == auditPage {
		d.Next = page.Entries[len(page.Entries)-1].Seq + 1
	}
	// Verifying reads the whole chain: only when asked.
	if q.Text("verify") != "" {
		d.Verify = new(verifyReport)
		if err := c.call(r.Context(), s, "GET", "/v1/audit/verify", nil, d.Verify); err != nil {
			c.failAPI(w, r, s, err)
			return
		}
	}
	c.renderAdmin(w, r, s, "admin_audit", "Audit log", d)
}
