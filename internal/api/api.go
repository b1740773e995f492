// Package api is Safeguard's HTTP API: JSON under /v1, every route behind an
// API key whose role must grant the route's permission, errors as
// {"error": {"code", "message"}}, and the OpenAPI document that describes
// it all served at /v1/openapi.json. Operator serves /metrics, /readyz and
// /healthz for the operator's listener, Public the keyless routes alone.
//
// Handlers only translate HTTP to the domain packages and back: deciding is
// internal/scan's, storing is the stores', permissions are internal/auth's.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime/debug"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/cybertip"
	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/limits"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/selfreport"
	"github.com/safeguard-oss/safeguard/internal/spool"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/transparency"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Default limits.
const (
	// DefaultMaxBody bounds an uploaded piece of content: larger than any
	// photograph a platform accepts, small enough that a few dozen at once
	// fit in memory.
	DefaultMaxBody = 32 << 20
	// DefaultMaxImport bounds a bank file uploaded for import: about 3 M
	// entries of CSV with provenance.
	DefaultMaxImport = 512 << 20
	// maxJSON bounds every JSON request body.
	maxJSON = 1 << 20
)

// Config is what the API serves from. Every store is required; the server
// passes one database's store for all of them.
type Config struct {
	// Tx runs a change and its audit entry in one transaction of the
	// stores below (usecase.Over of the server's store); nil writes them
	// one after the other, for tests over in-memory stores.
	Tx usecase.Tx
	// BankChanges and Decisions are the use cases the routes call; nil
	// builds them from the fields below (as tests do).
	BankChanges *usecase.Banks
	Decisions   *usecase.Review
	Banks       bank.Store
	Keys        auth.Store // authenticates requests: see New for its cache
	Rules       rules.Store
	Webhooks    webhook.Store
	Audit       audit.Store // read for /v1/audit; Log appends
	Log         *audit.Log
	Scans       scan.Store
	Matcher     *match.Matcher
	Pipeline    *scan.Pipeline
	Hasher      *hasher.Hasher
	// Evidence, when nil, means content cannot be kept, so rules that
	// quarantine or report are refused.
	Evidence *evidence.Store
	// WebhookPolicy says where webhooks may point; the zero value allows
	// public addresses only.
	WebhookPolicy webhook.Policy
	// Wake is called after a dead letter is replayed (the dispatcher's Wake).
	Wake func()
	// Ready reports whether the server can take traffic, for /readyz.
	Ready func(ctx context.Context) error
	// Metrics, if set, is registered on /metrics and fed by every request.
	Metrics *Metrics
	// Review takes reports in and keeps the review queues; nil answers the
	// review routes 503.
	Review *review.Desk
	// ReviewWebhook names the webhook that gets review events (report
	// outcomes, escalations, decisions' actions); none are sent while no
	// webhook of that name is registered.
	ReviewWebhook string
	// ReviewBank is the service's own bank, where a decision's bank action
	// adds the case's hashes (created on first use); empty leaves bank.add
	// to the review webhook's receiver.
	ReviewBank string
	// Now is the clock of countdowns and the default stats window
	// (time.Now if nil); tests pass the Desk's fake clock.
	Now func() time.Time
	// SelfReports takes Report Remove's submissions, from anyone, without
	// a key; nil answers its routes 503.
	SelfReports *selfreport.Service
	// LEReports keeps law-enforcement reports; nil answers their routes
	// 503. LEReporter is the service as every report names it, and
	// CyberTip the CyberTipline account reports are submitted through
	// (nil: submission answers 503; packages for hotlines still work).
	LEReports lereport.Store
	// Conversations, if set, is the platform's messages around flagged
	// ones (the text signal keeps them): drafts, evidence packages and
	// data-request exports include them.
	Conversations lereport.Conversations
	LEReporter    lereport.Reporter
	CyberTip      cybertip.API
	// LERequests keeps authorities' data requests and reads what their
	// exports hold; nil answers their routes 503.
	LERequests export.Store
	// Exchanges are the hash-list exchanges the server runs; nil answers
	// their routes 503.
	Exchanges Exchanges
	// Feeds serves the banks this server publishes to partner instances;
	// nil answers GET /v1/peer/feed/{bank} 503.
	Feeds *usecase.Feeds

	// BodyBudget, if set, admits uploaded content (scans, reports with
	// content, bank uploads) by its size before it is read (admitBody).
	BodyBudget *media.Budget
	// Networks takes account-network activity (POST /v1/events); nil
	// answers it 503.
	Networks *usecase.Networks
	// Text scores messages (POST /v1/text) and TextMessages reads the kept
	// ones; nil answers their routes 503.
	Text         *usecase.Text
	TextMessages textmsg.Store
	// Transparency is read for the transparency figures; nil answers
	// their routes 503.
	Transparency transparency.Stores
	// Notices is the notice register (POST /v1/notices ...); nil answers
	// its routes 503.
	Notices *usecase.Notices

	// KeyLimits counts every key's requests, as it counts them on the
	// server's other entry points (the HMA listener, the console); nil:
	// requests are not limited.
	KeyLimits *auth.Limiter

	MaxBody   int64 // of scanned or uploaded content; DefaultMaxBody if 0
	MaxVideo  int64 // of a scanned video, spooled to disk; DefaultMaxVideo if 0
	MaxImport int64 // of a bank import; DefaultMaxImport if 0
	// SpoolDir is where uploaded videos and evidence packages are
	// spooled for the length of their request (spool.Open's, the
	// server's alone); os.TempDir() if empty.
	SpoolDir spool.Dir
	Logger   *slog.Logger
}

// API serves HTTP requests. Create it with New.
type API struct {
	cfg      Config
	banks    *usecase.Banks
	review   *usecase.Review
	changes  *usecase.Changes
	rules    *usecase.Rules
	log      *slog.Logger
	mux      *http.ServeMux // every route of the table, and /healthz
	public   *http.ServeMux // the public routes, and /healthz
	operator *http.ServeMux // /metrics, /readyz, /healthz
	routes   []route
	keys     *auth.Cache // cfg.Keys, with reads cached for authentication
	denied   deniedLog   // access.denied entries, coalesced
}

// route is one operation: its method and path pattern (as ServeMux and the
// OpenAPI document write them) and the permission it asks for. An empty
// permission means any valid key will do; public, that no key is needed.
// Query are the query parameters it takes (request.Check refuses any other
// before the handler runs).
type route struct {
	method, path string
	perm         auth.Permission
	handle       func(w http.ResponseWriter, r *http.Request, k auth.Key) error
	query        []request.Param
}

// rt is a route of the table, with the query parameters it takes.
func rt(method, path string, perm auth.Permission, handle func(w http.ResponseWriter, r *http.Request, k auth.Key) error, query ...request.Param) route {
	return route{method, path, perm, handle, query}
}

// New returns an API serving from cfg.
func New(cfg Config) *API {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxVideo <= 0 {
		cfg.MaxVideo = DefaultMaxVideo
	}
	if cfg.MaxImport <= 0 {
		cfg.MaxImport = DefaultMaxImport
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &API{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	// An *auth.Cache (the server's, shared with the console and the HMA
	// listener) is read as it is, so a key this API revokes is forgotten
	// by all of them; any other store through a cache of the API's own.
	if a.keys, _ = cfg.Keys.(*auth.Cache); a.keys == nil {
		a.keys = auth.NewCache(cfg.Keys)
	}
	stores := usecase.Stores{Banks: cfg.Banks, Audit: cfg.Audit, Keys: cfg.Keys, Rules: cfg.Rules, Webhooks: cfg.Webhooks,
		LEReports: cfg.LEReports}
	if cfg.LERequests != nil {
		stores.LERequests = cfg.LERequests
	}
	tx := cfg.Tx
	if tx == nil {
		tx = usecase.Separately(stores)
	}
	a.banks = cfg.BankChanges
	if a.banks == nil {
		a.banks = &usecase.Banks{Stores: stores, Tx: tx, Log: cfg.Log, Matcher: cfg.Matcher}
	}
	a.changes = &usecase.Changes{Tx: tx, Log: cfg.Log}
	a.rules = &usecase.Rules{Stores: stores, Tx: tx, Log: cfg.Log, KeepsEvidence: cfg.Evidence != nil}
	a.review = cfg.Decisions
	if a.review == nil {
		a.review = &usecase.Review{Tx: tx, Log: cfg.Log, Desk: cfg.Review, Banks: a.banks, Matcher: cfg.Matcher,
			ReviewBank: cfg.ReviewBank, ReviewWebhook: cfg.ReviewWebhook, Wake: cfg.Wake}
		if cfg.Evidence != nil && cfg.LEReports != nil {
			a.review.Drafts = &usecase.Drafts{Evidence: cfg.Evidence, Scans: cfg.Scans, Reporter: cfg.LEReporter,
				Conversations: cfg.Conversations, Now: cfg.Now}
		}
	}
	a.routes = a.table()
	a.public = http.NewServeMux()
	for _, rt := range a.routes {
		a.mux.Handle(rt.method+" "+rt.path, a.authenticated(rt))
		// The public listener serves Report Remove's API alone: other routes
		// that need no key (the API document) describe the private API and
		// stay with it.
		if rt.perm == public && strings.HasPrefix(rt.path, "/v1/self-reports") {
			a.public.Handle(rt.method+" "+rt.path, a.authenticated(rt))
		}
	}
	healthz := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
	a.mux.HandleFunc("GET /healthz", healthz)
	a.public.HandleFunc("GET /healthz", healthz)
	a.operator = http.NewServeMux()
	a.operator.HandleFunc("GET /healthz", healthz)
	a.operator.HandleFunc("GET /readyz", a.readyz)
	if cfg.Metrics != nil {
		a.operator.Handle("GET /metrics", cfg.Metrics.Handler())
	}
	return a
}

// Operator serves the operator's routes, /metrics, /readyz and /healthz,
// for a listener of their own (loopback by default): metrics name banks
// and count silent report actions, which an uploader must not read.
func (a *API) Operator() http.Handler { return a.operator }

// Public serves only the routes anyone may call without a key (Report
// Remove's) and /healthz, for a listener a deployment puts on the
// internet while the rest of the API stays on its private network.
func (a *API) Public() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.route(w, r, a.public) })
}

// Review is the review use case the routes call: the server's timer
// escalates through it, and tests file rule reports through it.
func (a *API) Review() *usecase.Review { return a.review }

func (a *API) table() []route {
	return []route{
		rt("POST", "/v1/scan", auth.Scan, a.scan, request.TextParams(scanFields...)...),
		rt("POST", "/v1/lookup", auth.Lookup, a.lookup),
		rt("POST", "/v1/events", auth.Scan, a.events),
		rt("POST", "/v1/text", auth.Scan, a.scoreText),
		rt("POST", "/v1/text/batch", auth.Scan, a.scoreTexts),
		rt("GET", "/v1/text/messages/{id}/around", auth.ReviewRead, a.messagesAround,
			request.NumberParam("before", 0, textmsg.Keep, 10), request.NumberParam("after", 0, textmsg.Keep, 10)),
		rt("GET", "/v1/scans/{id}", auth.AuditRead, a.getScan),

		rt("GET", "/v1/banks", auth.BanksRead, a.listBanks),
		rt("POST", "/v1/banks", auth.BanksWrite, a.createBank),
		rt("GET", "/v1/banks/{bank}", auth.BanksRead, a.getBank),
		rt("DELETE", "/v1/banks/{bank}", auth.BanksWrite, a.deleteBank),
		rt("GET", "/v1/exchanges", auth.BanksRead, a.listExchanges),
		rt("GET", "/v1/exchanges/{exchange}", auth.BanksRead, a.getExchange),
		rt("POST", "/v1/exchanges/{exchange}/fetch", auth.BanksWrite, a.fetchExchange),
		// The feed protocol's own parser (peer.ParseQuery, shared with a
		// peer listener) reads these values.
		rt("GET", "/v1/peer/feed/{bank}", auth.FeedsRead, a.peerFeed, request.TextParams("after", "limit")...),
		// An image's provenance; entries sent as JSON carry their own.
		rt("POST", "/v1/banks/{bank}/entries", auth.BanksWrite, a.addEntries, request.TextParams("source", "external_id", "category", "note")...),
		rt("DELETE", "/v1/banks/{bank}/entries/{signal}/{value}", auth.BanksWrite, a.removeEntry),
		rt("POST", "/v1/banks/{bank}/import", auth.BanksWrite, a.importEntries,
			append(request.TextParams("source", "category"), request.EnumParam("format", bank.Formats...))...),
		rt("GET", "/v1/banks/{bank}/export", auth.BanksExport, a.exportBank, request.EnumParam("format", bank.Formats...)),

		rt("GET", "/v1/rules", auth.RulesRead, a.listRules),
		rt("POST", "/v1/rules", auth.RulesWrite, a.createRule),
		rt("GET", "/v1/rules/{id}", auth.RulesRead, a.getRule),
		rt("PUT", "/v1/rules/{id}", auth.RulesWrite, a.updateRule),
		rt("POST", "/v1/rules/{id}/disable", auth.RulesWrite, a.disableRule),
		rt("GET", "/v1/rules/{id}/history", auth.RulesRead, a.ruleHistory),

		rt("GET", "/v1/webhooks", auth.WebhooksAdmin, a.listWebhooks),
		rt("POST", "/v1/webhooks", auth.WebhooksAdmin, a.createWebhook),
		rt("DELETE", "/v1/webhooks/{name}", auth.WebhooksAdmin, a.deleteWebhook),
		rt("POST", "/v1/webhooks/{name}/rotate", auth.WebhooksAdmin, a.rotateWebhook),
		rt("GET", "/v1/webhooks/dead-letters", auth.WebhooksAdmin, a.deadLetters, request.NumberParam("limit", 1, 1000, 100)),
		rt("POST", "/v1/webhooks/dead-letters/{id}/replay", auth.WebhooksAdmin, a.replay),

		rt("GET", "/v1/keys", auth.KeysRead, a.listKeys),
		rt("POST", "/v1/keys", auth.KeysAdmin, a.createKey),
		rt("DELETE", "/v1/keys/{id}", auth.KeysAdmin, a.revokeKey),

		rt("GET", "/v1/audit", auth.AuditRead, a.auditEntries,
			request.NumberParam("from", 1, math.MaxInt64, 1), request.NumberParam("limit", 1, 1000, 100)),
		rt("GET", "/v1/audit/verify", auth.AuditRead, a.auditVerify),

		rt("POST", "/v1/reports", auth.ReportsCreate, a.createReport),
		rt("POST", "/v1/reports/bulk", auth.ReportsCreate, a.createReports),
		rt("GET", "/v1/reports/{id}", auth.ReportsCreate, a.getReport),
		rt("GET", "/v1/reports/mine", auth.ReportsCreate, a.myReports,
			append(request.TextParams("reporter"), request.NumberParam("limit", 1, MaxMine, DefaultMine))...),
		rt("GET", "/v1/queues", auth.ReviewRead, a.listQueues),
		rt("GET", "/v1/queues/{queue}", auth.ReviewRead, a.getQueue, request.NumberParam("limit", 1, 1000, 100)),
		rt("GET", "/v1/cases/{id}", auth.ReviewRead, a.getCase),
		rt("POST", "/v1/cases/{id}/decision", auth.Review, a.decide),
		rt("POST", "/v1/cases/{id}/appeal", auth.AppealsCreate, a.appeal),
		rt("GET", "/v1/stats", auth.ReviewRead, a.stats, request.TimeParam("since")),
		rt("GET", "/v1/transparency", auth.TransparencyRead, a.transparencyJSON, transparencyParams...),
		rt("GET", "/v1/transparency.csv", auth.TransparencyRead, a.transparencyCSV, transparencyParams...),
		rt("GET", "/v1/transparency/dsa.csv", auth.TransparencyRead, a.transparencyDSA, transparencyParams...),

		rt("POST", "/v1/self-reports", public, a.createSelfReport),
		rt("POST", "/v1/self-reports/{code}/status", public, a.selfReportStatus),
		rt("POST", "/v1/self-reports/{code}/withdraw", public, a.withdrawSelfReport),

		rt("POST", "/v1/le-reports", auth.LEReports, a.createLEReport),
		rt("GET", "/v1/le-reports", auth.LEReports, a.listLEReports, request.EnumParam("state", leReportStates...)),
		rt("GET", "/v1/le-reports/{id}", auth.LEReports, a.getLEReport),
		rt("PUT", "/v1/le-reports/{id}", auth.LEReports, a.editLEReport),
		rt("POST", "/v1/le-reports/{id}/ready", auth.LEReports, a.readyLEReport),
		rt("POST", "/v1/le-reports/{id}/submit", auth.LEReports, a.submitLEReport),
		rt("POST", "/v1/le-reports/{id}/retract", auth.LEReports, a.retractLEReport),
		rt("POST", "/v1/le-reports/{id}/package", auth.LEReports, a.packageLEReport),
		rt("POST", "/v1/le-reports/{id}/acknowledge", auth.LEReports, a.acknowledgeLEReport),
		rt("POST", "/v1/le-reports/{id}/draft", auth.LEReports, a.unreadyLEReport),
		rt("GET", "/v1/le-reports/{id}/context", auth.LEReports, a.leReportContext),
		rt("GET", "/v1/le-queue", auth.LEReports, a.leQueue),
		rt("GET", "/v1/evidence/{id}", auth.LEReports, a.getEvidence),
		rt("POST", "/v1/evidence/{id}/hold", auth.LEReports, a.extendHold),
		rt("DELETE", "/v1/evidence/{id}", auth.LEReports, a.deleteEvidence),
		rt("GET", "/v1/cases/{id}/evidence/{item}", auth.Review, a.viewCaseEvidence),
		rt("POST", "/v1/le-requests", auth.LEReports, a.createLERequest),
		rt("GET", "/v1/le-requests", auth.LEReports, a.listLERequests, request.EnumParam("state", lerequest.States...)),
		rt("GET", "/v1/le-requests/{id}", auth.LEReports, a.getLERequest),
		rt("POST", "/v1/le-requests/{id}/export", auth.LEReports, a.exportLERequest),
		rt("POST", "/v1/le-requests/{id}/close", auth.LEReports, a.closeLERequest),

		rt("POST", "/v1/notices", auth.Notices, a.createNotice),
		rt("GET", "/v1/notices", auth.NoticesRead, a.listNotices),
		rt("GET", "/v1/notices/figures", auth.NoticesRead, a.noticeFigures),
		rt("GET", "/v1/notices/{id}", auth.NoticesRead, a.getNotice),
		rt("POST", "/v1/notices/{id}/withdraw", auth.Notices, a.withdrawNotice),

		rt("GET", "/v1/openapi.json", public, a.openapi),
	}
}

// ServeHTTP implements http.Handler. A panic in a handler is answered 500
// and logged with its stack; the server goes on. Unknown paths and methods
// are answered in the JSON error form like everything else.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.route(w, r, a.mux) }

func (a *API) route(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.Error("api: panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			writeErrorBody(w, errorf(http.StatusInternalServerError, CodeInternal, "internal error; the server log has the details"))
		}
	}()
	h, pattern := mux.Handler(r)
	if pattern == "" {
		// ServeMux answers 404 or 405 (with Allow) in plain text; learn
		// which from it, then answer in JSON.
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if allow := rec.Header().Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		code := CodeNotFound
		if rec.Code == http.StatusMethodNotAllowed {
			code = CodeMethod
		}
		writeErrorBody(w, errorf(rec.Code, code, "%s %s: %s", r.Method, r.URL.Path, strings.ToLower(http.StatusText(rec.Code))))
		return
	}
	mux.ServeHTTP(w, r)
}

// authenticated wraps a route with authentication, its permission check,
// metrics and error answers.
func (a *API) authenticated(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		err := a.serve(sw, r, rt)
		if err != nil {
			a.writeError(sw, r, err)
		}
		if a.cfg.Metrics != nil {
			a.cfg.Metrics.request(rt.method+" "+rt.path, sw.status, time.Since(start))
		}
	})
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, rt route) error {
	if rt.perm == public {
		r, err := withParams(r, rt)
		if err != nil {
			return err
		}
		return rt.handle(w, r, auth.Key{})
	}
	presented, ok := bearer(r)
	if !ok {
		return errorf(http.StatusUnauthorized, CodeUnauthenticated, "no API key: send Authorization: Bearer sg_...")
	}
	k, err := auth.Authenticate(r.Context(), a.keys, presented)
	switch {
	case errors.Is(err, auth.ErrMalformed), errors.Is(err, auth.ErrUnknown), errors.Is(err, auth.ErrRevoked):
		// Say which, but never echo the key.
		msg := "unknown API key"
		if errors.Is(err, auth.ErrMalformed) {
			msg = "malformed API key"
		} else if errors.Is(err, auth.ErrRevoked) {
			msg = "revoked API key"
		}
		return errorf(http.StatusUnauthorized, CodeUnauthenticated, "%s", msg)
	case err != nil:
		return err
	}
	// After authentication (an unknown key has no bucket to fill), before
	// the permission check (a refused request costs the server too).
	if err := a.cfg.KeyLimits.Allow(r.Context(), k); err != nil {
		return err
	}
	if rt.perm != "" {
		if err := k.Check(rt.perm); err != nil {
			a.recordDenied(r, k, rt)
			return errorf(http.StatusForbidden, CodeForbidden, "key %s has role %s, which may not %s (needs %s)", k.ID, k.Role, rt.method+" "+rt.path, rt.perm)
		}
	}
	r, err = withParams(r, rt)
	if err != nil {
		return err
	}
	return rt.handle(w, r, k)
}

// withParams checks the request's path values and query parameters
// (request.Check) and gives the handler their parsed values
// (request.Parsed).
func withParams(r *http.Request, rt route) (*http.Request, error) {
	return request.Check(r, rt.method+" "+rt.path, rt.query)
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	key = strings.TrimSpace(key)
	return key, key != ""
}

// statusWriter remembers the status for metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.cfg.Ready(ctx); err != nil {
			writeErrorBody(w, errorf(http.StatusServiceUnavailable, CodeUnavailable, "not ready: %v", err))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// checkContentType refuses a body whose media type is not one of want.
func checkContentType(r *http.Request, want ...string) (string, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, w := range want {
			if mt == w || strings.HasSuffix(w, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(w, "*")) {
				return mt, nil
			}
		}
	}
	if ct == "" {
		ct = "none"
	}
	return "", errorf(http.StatusUnsupportedMediaType, CodeContentType, "Content-Type %s: want %s", ct, strings.Join(want, " or "))
}

// limitBody refuses, before reading a byte, a body that says it is larger
// than limit, and bounds one that does not say.
func limitBody(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.ContentLength > limit {
		return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "body of %d bytes is over the %d-byte limit", r.ContentLength, limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return nil
}

// decodeReason reads the {"reason"} body that every state change back or
// out (to draft, retract, withdraw) takes, and checks it as a reason.
func decodeReason(w http.ResponseWriter, r *http.Request) (string, error) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return "", err
	}
	if err := limits.Prose("reason", in.Reason, limits.Description); err != nil {
		return "", err
	}
	return in.Reason, nil
}

// decodeJSON reads a JSON request body strictly into v: the right content
// type, within maxJSON, then as unmarshalStrict.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if _, err := checkContentType(r, "application/json"); err != nil {
		return err
	}
	if err := limitBody(w, r, maxJSON); err != nil {
		return err
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	return unmarshalStrict(b, v, "")
}

// unmarshalStrict is the one JSON decoding of request bodies: checkBody's
// refusals (null, duplicate keys, bad strings, each naming the field), then
// no unknown fields and nothing after the value. where prefixes messages
// ("multipart form: part report: ").
func unmarshalStrict(b []byte, v any, where string) error {
	if len(bytes.TrimSpace(b)) == 0 && where == "" {
		return errorf(http.StatusBadRequest, CodeEmptyBody, "empty body: want a JSON object")
	}
	if err := checkBody(b, where); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errorf(http.StatusBadRequest, CodeBadRequest, "%s%s", where, typeError(te))
		}
		return errorf(http.StatusBadRequest, CodeBadRequest, "%smalformed JSON: %v", where, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%smalformed JSON: more data after the object", where)
	}
	return nil
}

// typeError says, in JSON's words rather than Go's, which field held a
// value of the wrong type: "threshold: want an integer, got a string".
func typeError(e *json.UnmarshalTypeError) string {
	field := strings.TrimPrefix(e.Field, ".")
	if field == "" {
		field = "the body"
	}
	want := "a " + e.Type.Kind().String()
	switch e.Type.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		want = "an integer" // out of range too: e.Value then shows the number
	case reflect.Float32, reflect.Float64:
		want = "a number"
	case reflect.String:
		want = "a string"
	case reflect.Bool:
		want = "true or false"
	case reflect.Struct, reflect.Map:
		want = "an object"
	case reflect.Slice, reflect.Array:
		want = "an array"
	}
	got := e.Value
	switch got {
	case "object", "array":
		got = "an " + got
	case "string", "number":
		got = "a " + got
	case "bool":
		got = "true or false"
	}
	return fmt.Sprintf("%s: want %s, got %s", field, want, got)
}

// record appends to the audit log what key k did; a failure fails the
// request, since a change the log does not show must not be reported done.
func (a *API) record(ctx context.Context, k auth.Key, action, subject string, detail any) error {
	if _, err := a.cfg.Log.Record(ctx, k.ID, action, subject, detail); err != nil {
		return fmt.Errorf("recording %s %q in the audit log: %w", action, subject, err)
	}
	return nil
}
