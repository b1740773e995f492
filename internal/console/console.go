// Package console is the review console at /console: server-rendered pages
// where a reviewer works the review queues all day, and an auditor reads
// them. It signs a person in with their API key once, then keeps a
// server-side session; it is a client of the /v1 API, calling it in process
// with the signed-in key, so the console can see and decide exactly what
// the key could through the API, every decision's effects (audit entries,
// bank additions, webhooks) are carried out by the one code that does so
// for the API, and revoking the key ends the session at the next click.
//
// What the console adds is for the people using it: content previews
// blurred and greyscale until revealed, one at a time; video that never
// plays by itself; a reminder to take a break; keyboard shortcuts; and a
// record in the audit log of every look at content (evidence.read with
// purpose "view", which internal/lereport reads to say whether the
// service viewed a reported file). docs/console.md describes it.
package console

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/scan"
	sess "github.com/safeguard-oss/safeguard/internal/session"
	"github.com/safeguard-oss/safeguard/internal/spool"
)

// Defaults.
const (
	// DefaultBreakAfter is when the reminder to take a break first shows,
	// and how long dismissing it puts it off.
	DefaultBreakAfter = 50 * time.Minute
	// DefaultUndoAfter is how long a decision can be undone in the page
	// before it is sent.
	DefaultUndoAfter = 5 * time.Second
	// DefaultIdle ends a session nobody has used for this long.
	DefaultIdle = time.Hour
	// DefaultMaxSession ends any session this long after sign-in: a
	// working day.
	DefaultMaxSession = 12 * time.Hour
)

// Audit actions the console records besides the API's own.
const (
	ActionSignIn  = "console.signin"
	ActionSignOut = "console.signout"
)

// Config is what the console serves from.
type Config struct {
	// API is the /v1 API the console calls with the signed-in key
	// (internal/api.API). Required.
	API http.Handler
	// Keys checks the key pasted at sign-in, and again on every request,
	// so a revoked key's session ends at once. Required. The server gives
	// the API's key cache (auth.Cache), so that check costs no database
	// read and a key the API forgets ends its session at once.
	Keys auth.Store
	// Limits counts each signed-in key's requests, a page one, in the
	// bucket its requests to the API count against (the page's calls to
	// the API are not counted again); nil limits nothing.
	Limits *auth.Limiter
	// Log records sign-ins and every view of content. Required.
	Log *audit.Log
	// Scans and Evidence find and read the content a case is about; with
	// either nil the console shows hashes only ("no preview kept").
	Scans    scan.Store
	Evidence *evidence.Store
	// SpoolDir is where a kept video is copied for ffmpeg to make its
	// keyframe strip, for the length of the request (the API's spool
	// directory); os.TempDir() if empty.
	SpoolDir spool.Dir
	// UndoAfter is how long a decision waits in the page, with a
	// countdown and Undo, before it is sent; DefaultUndoAfter if zero,
	// none if negative.
	UndoAfter time.Duration
	// BreakAfter is DefaultBreakAfter if zero.
	BreakAfter time.Duration
	// Idle and MaxSession bound sessions; DefaultIdle and
	// DefaultMaxSession if zero.
	Idle, MaxSession time.Duration
	// Sessions keeps the signed-in sessions: the store, so that every
	// server sharing it serves every session; a sess.Memory (this
	// process only) if nil.
	Sessions sess.Store
	// SecureCookies marks the session cookie Secure even on plain HTTP,
	// for a server behind a proxy that ends TLS. Over TLS it always is.
	SecureCookies bool
	// Now is the clock of sessions and the break reminder (time.Now if nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Console serves the console. Create it with New and mount it at
// /console/ (it serves /console itself too).
type Console struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	pages    map[string]*template.Template
	sessions *sessions
}

//go:embed templates static
var files embed.FS

// New returns a console serving from cfg.
func New(cfg Config) *Console {
	if cfg.BreakAfter <= 0 {
		cfg.BreakAfter = DefaultBreakAfter
	}
	if cfg.UndoAfter == 0 {
		cfg.UndoAfter = DefaultUndoAfter
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.MaxSession <= 0 {
		cfg.MaxSession = DefaultMaxSession
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Sessions == nil {
		cfg.Sessions = &sess.Memory{}
	}
	c := &Console{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), pages: parsePages(),
		sessions: &sessions{store: cfg.Sessions, idle: cfg.Idle, max: cfg.MaxSession}}
	static, _ := fs.Sub(files, "static")
	assets := http.StripPrefix("/console/static/", http.FileServerFS(static))
	c.mux.HandleFunc("GET /console/static/", func(w http.ResponseWriter, r *http.Request) {
		// Files only: a directory's listing tells a prober what the
		// console is built of.
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		assets.ServeHTTP(w, r)
	})
	c.mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
	})
	c.mux.HandleFunc("GET /console/signin", c.signInPage)
	c.mux.HandleFunc("POST /console/signin", c.signIn)
	c.mux.Handle("POST /console/signout", c.session(c.signOut, false))
	c.mux.Handle("POST /console/break", c.session(c.snooze, false))
	c.mux.Handle("GET /console/{$}", c.session(c.queues, false))
	c.mux.Handle("GET /console/queues/{queue}", c.session(c.queue, false, queueParams...))
	c.mux.Handle("GET /console/cases/{id}", c.session(c.caseView, false))
	c.mux.Handle("POST /console/cases/{id}/decision", c.session(c.decide, true))
	c.mux.Handle("GET /console/cases/{id}/content/{item}", c.session(c.content, true))
	c.mux.Handle("POST /console/cases/{id}/content/{item}/reveal", c.session(c.reveal, true))
	c.mux.Handle("GET /console/cases/{id}/content/{item}/strip", c.session(c.strip, true))
	c.mux.Handle("GET /console/stats", c.session(c.stats, false))
	c.mux.Handle("GET /console/transparency", c.session(c.transparencyPage(false), false, transparencyParams...))
	c.mux.Handle("GET /console/transparency/print", c.session(c.transparencyPage(true), false, transparencyParams...))
	c.mux.Handle("GET /console/transparency/figures.csv", c.session(c.transparencyDownload("/v1/transparency.csv"), false, transparencyParams...))
	c.mux.Handle("GET /console/transparency/dsa.csv", c.session(c.transparencyDownload("/v1/transparency/dsa.csv"), false, transparencyParams...))
	c.mux.Handle("GET /console/mine", c.session(c.mine, false))
	c.mux.Handle("GET /console/notices", c.session(c.notices, false))
	c.adminRoutes()
	c.mux.Handle("GET /console/le", c.session(c.leQueue, false))
	c.mux.Handle("GET /console/le/{id}", c.session(c.leReport, false, doneParam...))
	c.mux.Handle("POST /console/le/{id}/edit", c.session(c.leEdit, false))
	c.mux.Handle("POST /console/le/{id}/ready", c.session(c.leMove("ready", "ready"), false))
	c.mux.Handle("POST /console/le/{id}/draft", c.session(c.leMove("draft", "draft"), false))
	c.mux.Handle("POST /console/le/{id}/submit", c.session(c.leMove("submit", "submitted"), false))
	c.mux.Handle("POST /console/le/{id}/package", c.session(c.lePackage, false))
	return c
}

// ServeHTTP implements http.Handler. Every answer forbids caching, framing
// and any script, style or image from elsewhere.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer, browsers send
	// "Origin: null" on form posts, and sameOrigin could not check them.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"countdown": countdownText,
		"ago":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") },
		"seconds":   func(d time.Duration) int64 { return int64(d / time.Second) },
		"dur":       durSeconds,
		"pct":       formatPct,
		"inc":       func(i int) int { return i + 1 },
		"waited":    func(sec int64) string { return humanDuration(time.Duration(sec) * time.Second) },
		"marked":    marked,
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "queues", "queue", "case", "stats", "error", "lequeue", "lereport",
		"admin_banks", "admin_rules", "admin_webhooks", "admin_keys", "admin_audit", "transparency", "mine", "notices"} {
		pages[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}
