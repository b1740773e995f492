package hma

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bodyrate"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/limits"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/request"
)

// Authenticator returns the key a request presented as its bearer token, or
// an error wrapping one of auth's refusals (auth.ErrMalformed, ErrUnknown,
// ErrRevoked), which are answered 401. auth.Authenticate over a key store
// is one.
type Authenticator func(ctx context.Context, presented string) (auth.Key, error)

// Config configures the handler.
type Config struct {
	Backend      Backend
	Authenticate Authenticator // required
	// Anonymous, when set, is the role of requests that present no key.
	// HMA has no authentication and Coop sends none, so this lets them in;
	// it is honoured only for requests from loopback or private addresses
	// (RFC 1918, RFC 4193), never from the internet, since anyone reaching
	// the listener would otherwise hold the role.
	Anonymous auth.Role
	// Limits counts each key's requests as the /v1 API counts them, in
	// the same buckets; requests without a key count against one bucket
	// of the anonymous role's, of the default limit. Nil limits nothing.
	Limits *auth.Limiter
	// FetchAllow lists the hosts whose content may be fetched by URL
	// (?url= on /h/hash, /m/lookup and /c/bank/<name>/content); a host
	// matches itself and its subdomains. Empty turns fetching off: fetching
	// what a caller names is a server-side request forgery waiting to
	// happen, so it is opt-in per host.
	FetchAllow []string
	// Client fetches URLs; nil means a client with a 30 s timeout.
	Client *http.Client
	// MaxContent bounds uploaded and fetched content; 0 means
	// DefaultMaxContent.
	MaxContent int64
	// BodyBudget, if set, admits uploads by their size before a byte is
	// read, as the API's uploads are (the server gives both the same
	// budget): many large uploads at once then wait their turn instead of
	// costing their sum in memory.
	BodyBudget *media.Budget
	// StaleAfter makes /status answer 503 INDEX-STALE when the index has
	// not caught up with the banks for this long; 0 never does.
	StaleAfter time.Duration
	Log        *slog.Logger // nil discards
}

// DefaultMaxContent is the largest content accepted unless configured:
// large enough for photographs and short videos, small enough that a few
// concurrent uploads cannot exhaust memory.
const DefaultMaxContent = 32 << 20

// maxJSON bounds a JSON request body; HMA's are a few hashes and names.
const maxJSON = 1 << 20

// anonymousID is the audit log's actor for requests made without a key.
const anonymousID = "hma-anonymous"

type handler struct {
	cfg   Config
	be    Backend
	mux   *http.ServeMux
	fetch *fetcher
	log   *slog.Logger
}

// New returns the handler serving HMA's routes at the root of its listener.
func New(cfg Config) (http.Handler, error) {
	if cfg.Backend == nil {
		return nil, errors.New("hma: no backend")
	}
	if cfg.Authenticate == nil {
		return nil, errors.New("hma: no authenticator (anonymous access, if wanted, is Config.Anonymous)")
	}
	if cfg.Anonymous != "" && !cfg.Anonymous.Valid() {
		return nil, fmt.Errorf("hma: anonymous role %q: unknown role", cfg.Anonymous)
	}
	if cfg.MaxContent <= 0 {
		cfg.MaxContent = DefaultMaxContent
	}
	h := &handler{cfg: cfg, be: cfg.Backend, mux: http.NewServeMux(), log: cfg.Log}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if h.fetch, err = newFetcher(cfg.FetchAllow, cfg.Client, cfg.MaxContent); err != nil {
		return nil, err
	}
	h.mux.HandleFunc("GET /status", h.status)
	h.mux.HandleFunc("GET /status/live", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "I-AM-ALIVE") })
	for _, rt := range h.routes() {
		h.mux.Handle(rt.pattern, h.guard(rt))
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, message(fmt.Sprintf("no route %s %s", r.Method, clip(r.URL.Path))))
	})
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// route is one HMA route, what a key must be allowed to call it (any one
// of perms) and the query parameters it takes: those HMA's handler reads
// (request.args, its pydantic query models), and Coop's content_id and
// content_uri. request.Check refuses any other, and one given twice, where
// HMA would silently ignore it or keep the first.
type route struct {
	pattern string
	perms   []auth.Permission
	fn      func(w http.ResponseWriter, r *http.Request, k auth.Key) error
	query   []request.Param
}

// HMA's query parameters are all text, each handler reading it as HMA
// does. takesLong are those whose values may be longer than an id: a URL
// to fetch, a vPDQ hash, a list of banks.
var takes, takesLong = request.TextParams, func(names ...string) []request.Param { return request.TextParamsWithin(limits.Text, names...) }

func (h *handler) routes() []route {
	read := []auth.Permission{auth.BanksRead}
	write := []auth.Permission{auth.BanksWrite}
	lookup := []auth.Permission{auth.Lookup}
	// Integrators may read content and configuration (never the hashes:
	// see getContent), as HMA's matchers do.
	readOrLookup := []auth.Permission{auth.BanksRead, auth.Lookup}
	return []route{
		{"POST /h/hash", []auth.Permission{auth.Scan}, h.hashPost, takes("types")},
		{"GET /h/hash", []auth.Permission{auth.Scan}, h.hashGet, slices.Concat(takesLong("url"), takes("content_type", "types"))},

		{"GET /m/raw_lookup", lookup, h.rawLookup, slices.Concat(takesLong("signal", "banks"), takes("signal_type", "include_distance"))},
		{"GET /m/lookup", lookup, h.lookupGet, slices.Concat(takesLong("url", "signal", "banks"),
			takes("content_type", "types", "signal_type", "seed", "bypass_coinflip"))},
		{"POST /m/lookup", lookup, h.lookupPost, slices.Concat(takesLong("banks"), takes("types", "seed", "bypass_coinflip"))},
		{"GET /m/index/status", lookup, h.indexStatus, takes("signal_type")},
		{"POST /m/compare", lookup, h.compare, nil},

		{"GET /c/banks", read, h.listBanks, nil},
		{"POST /c/banks", write, h.createBank, nil},
		{"GET /c/bank/{bank}", read, h.getBank, nil},
		{"PUT /c/bank/{bank}", write, h.updateBank, nil},
		{"DELETE /c/bank/{bank}", write, h.deleteBank, nil},
		{"POST /c/bank/{bank}/content", write, h.addContent, slices.Concat(takesLong("url", "content_uri"), takes("content_type", "types", "content_id"))},
		{"POST /c/bank/{bank}/signal", write, h.addSignals, nil},
		{"GET /c/bank/{bank}/content/{id}", readOrLookup, h.getContent, takes("include_signals", "include_metadata")},
		{"PUT /c/bank/{bank}/content/{id}", write, h.updateContent, nil},
		{"DELETE /c/bank/{bank}/content/{id}", write, h.deleteContent, nil},

		{"GET /c/exchanges", read, h.listExchanges, nil},
		{"POST /c/exchanges", write, h.configuredElsewhere, nil},
		{"GET /c/exchanges/apis", read, h.listExchangeAPIs, nil},
		{"GET /c/exchanges/api/{api}", read, h.getExchangeAPI, nil},
		{"POST /c/exchanges/api/{api}", write, h.configuredElsewhere, nil},
		{"GET /c/exchanges/api/{api}/schema", read, h.getExchangeSchema, nil},
		{"GET /c/exchange/{name}", read, h.getExchange, nil},
		{"PUT /c/exchange/{name}", write, h.configuredElsewhere, nil},
		{"DELETE /c/exchange/{name}", write, h.configuredElsewhere, nil},
		{"POST /c/exchange/{name}/credentials", write, h.configuredElsewhere, nil},
		{"GET /c/exchange/{name}/status", read, h.getExchangeStatus, nil},

		{"GET /c/signal_type", readOrLookup, h.signalTypes, nil},
		{"GET /c/signal_type/index", readOrLookup, h.signalTypeIndex, takes("signal_type")},
		{"GET /c/content_type", readOrLookup, h.contentTypes, nil},
	}
}

// guard authenticates the request, checks the key's role and the query
// parameters (as /v1 does, in that order), runs the route and turns its
// error, or a panic, into HMA's {"message": ...} answer.
func (h *handler) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				h.log.Error("hma: panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeJSON(w, http.StatusInternalServerError, message("internal error"))
			}
		}()
		k, err := h.authenticate(r)
		if err == nil {
			// Before the permission check, as on /v1: a refused request
			// costs the server too.
			err = h.cfg.Limits.Allow(r.Context(), k)
		}
		if err == nil {
			err = allowed(k, rt.perms)
		}
		if err == nil {
			r, err = request.Check(r, rt.pattern, rt.query)
		}
		if err == nil {
			err = rt.fn(w, r, k)
		}
		if err != nil {
			h.writeError(w, r, err)
		}
	})
}

func (h *handler) authenticate(r *http.Request) (auth.Key, error) {
	v := r.Header.Get("Authorization")
	if v == "" {
		if h.cfg.Anonymous == "" {
			return auth.Key{}, fail(http.StatusUnauthorized, "missing Authorization: Bearer <API key>")
		}
		if !privateAddr(r.RemoteAddr) {
			return auth.Key{}, fail(http.StatusUnauthorized, "missing Authorization: Bearer <API key> (anonymous access is only for loopback and private networks)")
		}
		return auth.Key{ID: anonymousID, Name: "anonymous HMA client", Role: h.cfg.Anonymous}, nil
	}
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return auth.Key{}, fail(http.StatusUnauthorized, "Authorization: want \"Bearer <API key>\"")
	}
	k, err := h.cfg.Authenticate(r.Context(), strings.TrimSpace(token))
	switch {
	case errors.Is(err, auth.ErrMalformed), errors.Is(err, auth.ErrUnknown), errors.Is(err, auth.ErrRevoked):
		return auth.Key{}, fail(http.StatusUnauthorized, "%v", err)
	case err != nil:
		return auth.Key{}, fmt.Errorf("authenticating: %w", err)
	}
	return k, nil
}

// privateAddr reports whether a request's remote address is loopback or in
// a private range.
func privateAddr(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate()
}

func allowed(k auth.Key, perms []auth.Permission) error {
	for _, p := range perms {
		if k.Role.Can(p) {
			return nil
		}
	}
	return fail(http.StatusForbidden, "%v", k.Check(perms[0]))
}

// httpError is an answer other than 200: HMA's status and message.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, format string, args ...any) error {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

// writeError writes err as HMA does: {"message": ...} with the status it means.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if slow := bodyrate.Cut(r.Context()); slow != nil {
		err = slow
	}
	var he *httpError
	var mbe *http.MaxBytesError
	var slow *bodyrate.Error
	var rle *ratelimit.LimitError
	var me *media.Error
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &he):
		status = he.status
	case errors.As(err, &rle):
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", rle.Header())
	case errors.As(err, &me) && me.Kind == media.Busy:
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", "1")
		// Its body is unread: without this, net/http reads up to 256 KB
		// of it before answering, which a slow sender holds back.
		w.Header().Set("Connection", "close")
	case errors.As(err, &mbe):
		status, err = http.StatusRequestEntityTooLarge, fmt.Errorf("content over the %d-byte limit", mbe.Limit)
	case errors.As(err, &slow):
		status = http.StatusRequestTimeout // the connection cannot carry another request
		w.Header().Set("Connection", "close")
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrExists):
		status = http.StatusForbidden
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrUnsupported), errors.Is(err, derrors.Invalid):
		status = http.StatusBadRequest // derrors.Invalid: internal/request's refusals
	case errors.Is(err, context.Canceled):
		return // the client left
	}
	msg := err.Error()
	if status == http.StatusInternalServerError {
		h.log.Error("hma: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	writeJSON(w, status, message(msg))
}

func message(s string) map[string]string { return map[string]string{"message": s} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeText(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, s)
}

// status is HMA's readiness check: 503 until the index is loaded, and when
// it has fallen behind for longer than StaleAfter.
func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	st, err := h.be.IndexStatus(r.Context())
	if err != nil {
		h.log.Error("hma: index status", "err", err)
		writeText(w, http.StatusServiceUnavailable, "INDEX-NOT-LOADED")
		return
	}
	for _, s := range st {
		if !s.Present {
			writeText(w, http.StatusServiceUnavailable, "INDEX-NOT-LOADED")
			return
		}
		if h.cfg.StaleAfter > 0 && time.Since(s.BuiltTo) > h.cfg.StaleAfter {
			writeText(w, http.StatusServiceUnavailable, "INDEX-STALE")
			return
		}
	}
	writeText(w, http.StatusOK, "I-AM-ALIVE")
}

// clip keeps error messages short when the input is long garbage.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
