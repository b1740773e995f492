// Package server assembles the running service: it opens the store, loads
// the matcher's index and keeps it in step, runs the webhook dispatcher,
// and serves internal/api over HTTP until told to stop, then finishes the
// requests in flight before closing anything.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/console"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/cybertip"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/selfreport"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/postgres"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/webhook"
	"github.com/safeguard-oss/safeguard/web/remove"
)

// Config is what `safeguard serve` reads from flags, SAFEGUARD_* variables
// and the config file. The zero value, after Defaults, serves SQLite in
// ./safeguard-data on 127.0.0.1:8080.
type Config struct {
	Listen      string // host:port; DefaultListen
	Data        string // SQLite's directory, and the evidence directory's parent
	DatabaseURL string // postgres://...; when set, used instead of SQLite
	// EvidenceKeys is the evidence keyring, "id:key,id:key" with the current
	// key first (see docs/audit.md); empty means content cannot be kept,
	// and rules that quarantine or report are refused.
	EvidenceKeys string
	EvidenceDir  string // default Data/evidence
	MaxBody      int64  // bytes of one uploaded piece of content; api.DefaultMaxBody
	// DecodeBudget bounds the memory all image decodes hold at once
	// (media.DefaultBudget when 0); see docs/hostile.md.
	DecodeBudget int64
	SyncEvery    time.Duration // how often the index picks up other processes' bank changes
	// ShutdownTimeout bounds how long shutdown waits for requests in flight.
	ShutdownTimeout time.Duration
	// WebhooksElsewhere leaves sending webhooks to other processes sharing
	// the database: this one only queues them. (Dispatchers lease what
	// they send, so several may share an outbox.)
	WebhooksElsewhere bool
	// RemoveAssets is a directory holding hasher.wasm and wasm_exec.js to
	// serve at /remove instead of the ones built in (web/remove).
	RemoveAssets string
	// RemoveHelplines are the helplines /remove shows, by region; nil:
	// remove.DefaultHelplines (the UK's and the US's).
	RemoveHelplines *remove.Helplines
	// ReviewWebhook names the webhook that gets review events (report
	// outcomes, escalations, decisions' actions); DefaultReviewWebhook. Until
	// a webhook of that name is registered, none are sent.
	ReviewWebhook string
	// ReviewBank is the service's own bank, where reviewers' bank
	// decisions add confirmed content; DefaultReviewBank.
	ReviewBank string
	// EscalateEvery is how often cases past their time-to-action target
	// are escalated; a minute by default.
	EscalateEvery time.Duration

	// EvidenceHolds is the preservation policy, e.g. "default=365d,DE=180d"
	// (evidence.ParseHolds); empty holds every item a year.
	EvidenceHolds string
	// CyberTipURL is the CyberTipline's reporting API (e.g.
	// "https://report.cybertip.org/ispws"), with the account's
	// CyberTipUser and CyberTipPassword; like the evidence keys they come
	// from the environment or the config file, never flags. Empty: reports
	// cannot be submitted (hotline packages still can).
	CyberTipURL, CyberTipUser, CyberTipPassword string
	// WebhookAllow lists the CIDR prefixes, addresses and host names that
	// webhooks may reach although private or local (webhook.Policy.Allow);
	// by default only public addresses are.
	WebhookAllow []string
	// LEReporter is the service as its law-enforcement reports name it;
	// the CyberTipline requires the reporting person's email.
	LEReporter lereport.Reporter
}

// Defaults.
const (
	DefaultListen        = "127.0.0.1:8080"
	DefaultData          = "./safeguard-data"
	DefaultReviewWebhook = "review"
	DefaultReviewBank    = "confirmed"
)

// withDefaults fills in what is unset.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Data == "" {
		c.Data = DefaultData
	}
	if c.EvidenceDir == "" {
		c.EvidenceDir = filepath.Join(c.Data, "evidence")
	}
	if c.SyncEvery <= 0 {
		c.SyncEvery = 5 * time.Second
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.ReviewWebhook == "" {
		c.ReviewWebhook = DefaultReviewWebhook
	}
	if c.ReviewBank == "" {
		c.ReviewBank = DefaultReviewBank
	}
	if c.EscalateEvery <= 0 {
		c.EscalateEvery = time.Minute
	}
	return c
}

// OpenStores opens the database cfg names: PostgreSQL when DatabaseURL is
// set, else SQLite in Data.
func OpenStores(ctx context.Context, cfg Config) (store.Store, error) {
	cfg = cfg.withDefaults()
	if u := cfg.DatabaseURL; u != "" {
		if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
			return nil, fmt.Errorf("database URL %q: want a postgres:// URL", u)
		}
		return postgres.Open(ctx, u)
	}
	return sqlite.Open(ctx, cfg.Data)
}

// Server is a running service. Create it with New, then call Run.
type Server struct {
	cfg        Config
	st         store.Store
	log        *slog.Logger
	ln         net.Listener
	http       *http.Server
	matcher    *match.Matcher
	dispatcher *webhook.Dispatcher
	audit      *audit.Log
	api        *api.API
	desk       *review.Desk
	review     *usecase.Review
	handler    http.Handler // api, and Report Remove's page
}

// New builds the service over st and starts listening (so Addr is known
// before Run), but serves nothing until Run. It loads the whole index
// first: a server that answered scans before knowing its banks would say
// "no match" to content it lists.
func New(ctx context.Context, cfg Config, st store.Store, logger *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{cfg: cfg, st: st, log: logger}
	var ev *evidence.Store
	if cfg.EvidenceKeys != "" {
		kr, err := evidence.ParseKeyring(cfg.EvidenceKeys)
		if err != nil {
			return nil, err
		}
		if ev, err = evidence.Open(cfg.EvidenceDir, kr); err != nil {
			return nil, err
		}
		if ev.Holds, err = evidence.ParseHolds(cfg.EvidenceHolds); err != nil {
			return nil, err
		}
	}
	s.matcher = match.New(st)
	start := time.Now()
	if err := s.matcher.Sync(ctx); err != nil {
		return nil, err
	}
	stats := s.matcher.Stats()
	logger.Info("index loaded", "pdq", stats.PDQ, "digests", stats.Exact, "took", time.Since(start).Round(time.Millisecond))

	metrics := api.NewMetrics(st.DeliveryBacklog)
	policy := webhook.Policy{Allow: cfg.WebhookAllow}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	s.dispatcher = webhook.New(st, webhook.Config{Metrics: metrics, Logger: logger, Policy: policy})
	budget := cfg.DecodeBudget
	if budget <= 0 {
		budget = media.DefaultBudget
	}
	h := &hasher.Hasher{Dihedral: true, Budget: media.NewBudget(budget)}
	if limit := media.SetMemoryLimit(h.Budget); limit > 0 {
		logger.Info("memory limit set", "bytes", limit, "decode_budget", budget)
	}
	log := audit.NewLog(st)
	s.audit = log
	// Every scan that matches lists the rules; writes through the cache
	// empty it, other servers' writes are seen within the TTL.
	rs := rules.NewCache(st, 5*time.Second)
	// One Desk per server: it files one report at a time, so reports of
	// the same new content arriving together open one case.
	s.desk = review.NewDesk(st, st, review.Config{})
	stores, tx := usecase.Over(st)
	banks := &usecase.Banks{Stores: stores, Tx: tx, Log: log, Matcher: s.matcher}
	selfReports := &selfreport.Service{Store: st, Banks: banks, Rules: rs, Log: log}
	s.review = &usecase.Review{Tx: tx, Log: log, Desk: s.desk, Banks: banks, Matcher: s.matcher,
		ReviewBank: cfg.ReviewBank, ReviewWebhook: cfg.ReviewWebhook, Wake: s.dispatcher.Wake}
	s.api = api.New(api.Config{
		Tx: tx, BankChanges: banks, Decisions: s.review, WebhookPolicy: policy,
		Banks: st, Keys: st, Rules: rs, Webhooks: st, Audit: st, Log: log,
		Scans: st, Matcher: s.matcher, Hasher: h, Evidence: ev, Wake: s.dispatcher.Wake,
		Review: s.desk, ReviewWebhook: cfg.ReviewWebhook, ReviewBank: cfg.ReviewBank,
		Metrics: metrics, MaxBody: cfg.MaxBody, Logger: logger, SelfReports: selfReports,
		LEReports: st, LEReporter: cfg.LEReporter, CyberTip: cyberTip(cfg),
		LERequests: st,
		Pipeline: &scan.Pipeline{
			Hasher: h, Matcher: s.matcher, Rules: rs, Scans: st, Outbox: st,
			Audit: log, Evidence: ev, Wake: s.dispatcher.Wake, Logger: logger,
			Enqueue: s.review.Enqueue,
			// Two images per CPU keep the CPUs busy while bounding the
			// memory a burst of large uploads takes.
			Slots: make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
		},
		Ready: func(ctx context.Context) error {
			if s.matcher.Stats().Synced.IsZero() {
				return errors.New("index not loaded")
			}
			_, err := st.ListBanks(ctx)
			return err
		},
	})
	s.handler = s.api
	assets, missing := remove.Assets(cfg.RemoveAssets)
	if missing != nil {
		logger.Warn("/remove will not work: this build lacks the browser hasher (web/remove/dist); run go generate ./web/remove, then build again", "missing", missing)
	}
	mux := http.NewServeMux()
	helplines := remove.DefaultHelplines
	if cfg.RemoveHelplines != nil {
		helplines = *cfg.RemoveHelplines
	}
	removePage := remove.Handler(assets, helplines)
	mux.Handle("/remove", removePage)
	mux.Handle("/remove/", removePage)
	mux.HandleFunc("GET /{$}", landing) // links the console, Report Remove, the API document, health
	mux.Handle("/", s.api)
	s.handler = mux
	// The review console (docs/console.md) is the API's client for people.
	if s.desk != nil {
		mux := http.NewServeMux()
		mux.Handle("/console/", console.New(console.Config{API: s.api, Keys: st, Log: log, Scans: st, Evidence: ev, Logger: logger}))
		mux.Handle("/", s.handler)
		s.handler = mux
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // a bank import may be large
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// cyberTip is the CyberTipline client cfg configures, or nil.
func cyberTip(cfg Config) cybertip.API {
	if cfg.CyberTipURL == "" {
		return nil
	}
	// A report's files are uploaded one request each; a minute bounds a
	// large one on a slow link without letting a stalled peer hang.
	return &cybertip.Client{BaseURL: cfg.CyberTipURL, User: cfg.CyberTipUser, Password: cfg.CyberTipPassword,
		HTTP: &http.Client{Timeout: time.Minute}}
}

// Addr is where the server listens, e.g. "127.0.0.1:8080".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Handler is the API and /remove, for serving them elsewhere (tests).
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves until ctx ends, then shuts down gracefully: it stops taking
// connections, lets requests in flight finish (up to ShutdownTimeout),
// lets webhook attempts in flight finish and be recorded, and closes the
// store. It returns the first error that stopped it, or nil.
func (s *Server) Run(ctx context.Context) error {
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.matcher.Watch(bg, s.cfg.SyncEvery, func(err error) { s.log.Error("index sync", "err", err) })
	}()
	go func() {
		defer wg.Done()
		if s.cfg.WebhooksElsewhere {
			return
		}
		if err := s.dispatcher.Run(bg); err != nil && bg.Err() == nil {
			s.log.Error("webhook dispatcher stopped", "err", err)
		}
	}()

	// The audit log's head goes to the log hourly when it has moved: an
	// operator who ships logs off the machine keeps anchors that catch a
	// log rewritten afterwards (docs/audit.md).
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.audit.AnchorEvery(bg, time.Hour, func(a audit.Anchor) { s.log.Info("audit anchor", "anchor", a.String()) },
			func(err error) { s.log.Error("audit anchor", "err", err) })
	}()

	// Cases past their time-to-action target go to the top of their queue
	// whether or not this runs; it sends the notify webhook, once a case.
	if s.desk != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(s.cfg.EscalateEvery)
			defer t.Stop()
			for {
				select {
				case <-bg.Done():
					return
				case <-t.C:
				}
				if n, err := s.review.Escalate(bg); err != nil && bg.Err() == nil {
					s.log.Error("escalating overdue cases", "err", err)
				} else if n > 0 {
					s.log.Info("escalated overdue cases", "cases", n)
				}
			}
		}()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(s.ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	s.log.Info("shutting down: finishing requests in flight", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if e := s.http.Shutdown(sctx); e != nil && err == nil {
		err = fmt.Errorf("shutdown: %w", e)
	}
	stop()
	wg.Wait()
	if e := s.st.Close(); e != nil && err == nil {
		err = e
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Banner prints where the server listens and how to get in.
func (s *Server) Banner(w io.Writer) {
	where := "SQLite in " + s.cfg.Data
	flag := "--data " + s.cfg.Data
	if s.cfg.DatabaseURL != "" {
		where, flag = "PostgreSQL", "--database-url '<the same URL>'"
	}
	fmt.Fprintf(w, "safeguard: serving http://%s/v1 (%s)\n", s.Addr(), where)
	fmt.Fprintf(w, "safeguard: open http://%s/ for the review console, Report Remove and the API document\n", s.Addr())
	fmt.Fprintf(w, "safeguard: create the first admin key with: safeguard apikey create --role admin --name NAME %s\n", flag)
}
