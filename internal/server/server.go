// Package server assembles the running service: it opens the store, loads
// the matcher's index and keeps it in step, runs the webhook dispatcher,
// and serves internal/api over HTTP until told to stop, then finishes the
// requests in flight before closing anything.
package server

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bodyrate"
	"github.com/safeguard-oss/safeguard/internal/console"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/evidence/s3"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
	"github.com/safeguard-oss/safeguard/internal/forwarded"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/cybertip"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/selfreport"
	"github.com/safeguard-oss/safeguard/internal/spool"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/postgres"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
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
	// EvidenceDir is the evidence directory: by default Data/evidence on
	// SQLite; on PostgreSQL evidence is kept in the database, which every
	// server sharing it reads, unless EvidenceDir is set.
	EvidenceDir string
	// EvidenceURL, when set, keeps evidence in S3-compatible object
	// storage instead ("s3://BUCKET/PREFIX?endpoint=HOST:PORT", see
	// evidence/s3.Open): every server given the same URL reads the items
	// any of them kept, on SQLite or PostgreSQL alike.
	EvidenceURL string
	MaxBody     int64 // bytes of one uploaded piece of content; api.DefaultMaxBody
	// KeyLimit is the rate limit of an API key without one of its own
	// (auth.DefaultLimit if zero), counted on PostgreSQL in buckets every
	// server shares, for the key's requests to /v1, the console and the
	// HMA listener alike; KeyLimitOff counts nothing.
	KeyLimit    auth.RateLimit
	KeyLimitOff bool
	MaxVideo    int64 // bytes of one uploaded video (spooled to disk); api.DefaultMaxVideo
	// SpoolDir is where uploaded videos and evidence packages are spooled,
	// and kept videos copied for their keyframes, for the length of one
	// request (spool.Open: created 0700, refused when its group or other
	// users may enter it); default Data/spool. What is in it is plaintext
	// content, so each server has its own on local disk (never a shared
	// filesystem); the server removes what a process stopped mid-request
	// left, at start and hourly (sweepSpool).
	SpoolDir string
	// BodyRate is the pace every request body must keep on every
	// listener (bodyrate.Rate; its zero fields bodyrate.Default's): after
	// its grace, a body under the minimum rate is cut off with a 408, and
	// gives back its share of the body budget. BodyRateOff sets no
	// minimum; the whole-body bound, the listeners' read timeout, stays.
	BodyRate    bodyrate.Rate
	BodyRateOff bool
	// ProbeEvery is how long the evidence store's health, as /readyz and
	// the operations metrics see it, stands before it is probed again;
	// DefaultProbeEvery if 0.
	ProbeEvery time.Duration
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
	// NetworkEvery is how often account-network detection runs over the
	// activity sent to POST /v1/events, when events came since the last
	// run; a minute by default.
	NetworkEvery time.Duration

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

	// Exchanges are the hash-list exchanges this server fetches
	// (exchange.LoadConfigFile; docs/exchanges.md), each into the bank of
	// its name, created if missing.
	Exchanges []exchange.Config
	// HMAListen, when set, is the host:port of a second listener serving
	// HMA 2.0's API over the same store and index (docs/hma.md).
	// HMAAnonymous is the role of its requests without a key (only from
	// loopback and private addresses); empty requires a key.
	HMAListen, HMAAnonymous string
	// HMAFetchAllow lists the hosts whose content the HMA listener's ?url=
	// may fetch (hma.Config.FetchAllow); empty turns fetching off.
	HMAFetchAllow []string
	// Publish names the banks this server publishes to partner instances
	// as signed feeds (GET /v1/peer/feed/{bank}, permission feeds.read),
	// signed with PeerKey, the base64 of an Ed25519 seed (safeguard
	// exchange peer-key); like the evidence keys it comes from the
	// environment or the config file, never a flag.
	Publish []string
	PeerKey string
	// RateLimitKey is the hex of the secret (ratelimit.ParseKey) under
	// which Report Remove's rate limits store clients' addresses on
	// PostgreSQL, the same on every server; like the evidence keys it
	// comes from the environment or the config file. Without it the
	// servers take the one the database keeps (rateLimitKey).
	RateLimitKey string
	// OperatorListen is where /metrics, /readyz and /healthz are served
	// (serve's default is DefaultOperatorListen, on loopback); empty
	// serves them on Listen as well, as before there was a choice.
	OperatorListen string
	// PublicListen, if set, is a listener serving only the public part:
	// the Report Remove page, its API and /healthz (docs/hostile.md has a
	// deployment that puts only it on the internet).
	PublicListen string
	// TrustedProxies lists the reverse proxies (addresses or CIDR
	// prefixes) whose X-Forwarded-For / Forwarded / X-Forwarded-Proto are
	// believed: the client address every rate limit uses, and whether the
	// request came over TLS (Secure cookies, HSTS). Others' are removed.
	TrustedProxies []string
	// TLSCert and TLSKey, PEM files, serve the main and public listeners
	// over TLS (cookies Secure, HSTS sent).
	TLSCert, TLSKey string
	// TextModel is a learned text model's file (safeguard text train),
	// "builtin" for the model built in (textrisk.Builtin); empty or
	// "none" scores text with the rules alone.
	TextModel string
	// TextRetention is how long a conversation scored by POST /v1/text in
	// which nothing was flagged or filed is kept after its last message
	// (and a message of no conversation that was not filed after it came);
	// textmsg.DefaultRetention (90 days) if 0, negative keeps it all. Every
	// server prunes, hourly (textmsg.Pruner; docs/text.md "Retention").
	TextRetention time.Duration
	// OperationsEvery is how often the operations metrics (queues,
	// evidence, exchanges, index; docs/operations.md) are gathered for
	// /metrics; DefaultOperationsEvery.
	OperationsEvery time.Duration

	// IndexSnapshot is the matcher's snapshot file (match.WriteSnapshot),
	// written on a clean stop and every SnapshotEvery when the index has
	// changed, and loaded at start when the store holds its mark; default
	// Data/index.snapshot, "off" for none. SnapshotEvery is 10 minutes by
	// default.
	IndexSnapshot string
	SnapshotEvery time.Duration
	// LoadInBackground opens the ports before the index is loaded: /healthz
	// answers at once, /readyz says "not ready" and matching answers 503
	// until the index is loaded (serve sets it). Off, New loads before it
	// returns.
	LoadInBackground bool

	// NoticesFile is the JSON file of the notice register's settings
	// (notice.Config: mail server, authority, schedule, hosts' APIs;
	// docs/notices.md); empty: notices are checked but no e-mail goes
	// out. SMTPUser and SMTPPassword, like the evidence keys, come from
	// the environment or the config file, never flags.
	NoticesFile            string
	SMTPUser, SMTPPassword string
	// ChaseEvery is how often the notice worker looks for due notices; a
	// minute by default.
	ChaseEvery time.Duration
}

// Defaults.
const (
	DefaultListen = "127.0.0.1:8080"
	// DefaultOperatorListen is serve's operator listener: loopback, for
	// a Prometheus and probes on the same host (or a sidecar).
	DefaultOperatorListen = "127.0.0.1:9090"
	DefaultData           = "./safeguard-data"
	DefaultReviewWebhook  = "review"
	DefaultReviewBank     = "confirmed"
)

// withDefaults fills in what is unset.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Data == "" {
		c.Data = DefaultData
	}
	if c.SpoolDir == "" {
		c.SpoolDir = filepath.Join(c.Data, "spool")
	}
	if c.EvidenceDir == "" && c.EvidenceURL == "" && c.DatabaseURL == "" {
		c.EvidenceDir = filepath.Join(c.Data, "evidence")
	}
	if c.SyncEvery <= 0 {
		c.SyncEvery = 5 * time.Second
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.BodyRate.Min <= 0 {
		c.BodyRate.Min = bodyrate.Default.Min
	}
	if c.BodyRateOff {
		c.BodyRate.Min = 0
	}
	if c.BodyRate.Grace <= 0 {
		c.BodyRate.Grace = bodyrate.Default.Grace
	}
	if c.BodyRate.Whole <= 0 {
		c.BodyRate.Whole = bodyrate.Default.Whole
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
	if c.NetworkEvery <= 0 {
		c.NetworkEvery = time.Minute
	}
	if c.ProbeEvery <= 0 {
		c.ProbeEvery = DefaultProbeEvery
	}
	if c.OperationsEvery <= 0 {
		c.OperationsEvery = DefaultOperationsEvery
	}
	switch c.IndexSnapshot {
	case "":
		c.IndexSnapshot = filepath.Join(c.Data, "index.snapshot")
	case "off":
		c.IndexSnapshot = ""
	}
	if c.SnapshotEvery <= 0 {
		c.SnapshotEvery = 10 * time.Minute
	}
	if c.ChaseEvery <= 0 {
		c.ChaseEvery = time.Minute
	}
	if c.TextRetention == 0 {
		c.TextRetention = textmsg.DefaultRetention
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
	rules      *rules.Cache // emptied when another server changes a rule
	keys       *auth.Cache  // forgets a key when another server changes it
	review     *usecase.Review
	networks   *usecase.Networks
	notices    *usecase.Notices
	textPruner *textmsg.Pruner
	spool      spool.Dir
	handler    http.Handler // api, and Report Remove's page
	exchanges  *exchange.Runner
	feedback   *usecase.Feedback
	hmaLn      net.Listener
	hma        *http.Server
	publisher  *peer.Publisher // nil: no bank is published
	metrics    *api.Metrics
	indexLoad  atomic.Int64   // nanoseconds the index took to load (set when loaded)
	ops        api.Operations // the last gathered, touched only by refreshOperations
	// The operator's and the public listener, when configured.
	opLn, pubLn     net.Listener
	opHTTP, pubHTTP *http.Server
	tls             *tls.Config // of the main and public listeners; nil: plain HTTP
	// evidenceProbe checks the evidence store takes writes (/readyz, the
	// operations metrics), at most once per cfg.ProbeEvery; nil when evidence
	// is kept in the database, whose health the store's check covers.
	evidenceProbe *cachedProbe

	snapSeq atomic.Int64 // the feed position of the last snapshot written or loaded
}

// New builds the service over st and starts listening (so Addr is known
// before Run), but serves nothing until Run. It loads the index first (or,
// with LoadInBackground, Run loads it while matching answers 503): a
// server that answered scans before knowing its banks would say "no
// match" to content it lists.
func New(ctx context.Context, cfg Config, st store.Store, logger *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{cfg: cfg, st: st, log: logger}
	var err error
	if s.spool, err = spool.Open(cfg.SpoolDir); err != nil {
		return nil, err
	}
	if cfg.CyberTipURL != "" {
		if err := cybertip.CheckURL(cfg.CyberTipURL); err != nil {
			return nil, err
		}
	}
	var ev *evidence.Store
	if cfg.EvidenceKeys != "" {
		kr, err := evidence.ParseKeyring(cfg.EvidenceKeys)
		if err != nil {
			return nil, err
		}
		var probe func(context.Context) error
		if ev, probe, err = openEvidence(cfg, st, kr); err != nil {
			return nil, err
		}
		if probe != nil {
			s.evidenceProbe = &cachedProbe{probe: probe, every: cfg.ProbeEvery}
		}
		if ev.Holds, err = evidence.ParseHolds(cfg.EvidenceHolds); err != nil {
			return nil, err
		}
	}
	s.matcher = match.New(st)
	if cfg.LoadInBackground {
		s.matcher.Loading()
	} else if err := s.loadIndex(ctx); err != nil {
		return nil, err
	}

	metrics := api.NewMetrics(st.DeliveryBacklog)
	s.metrics = metrics
	s.sweepSpool()
	policy := webhook.Policy{Allow: cfg.WebhookAllow}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	s.dispatcher = webhook.New(st, webhook.Config{Metrics: metrics, Logger: logger, Policy: policy})
	budget := cfg.DecodeBudget
	if budget <= 0 {
		budget = media.DefaultBudget
	}
	// Videos are hashed at one frame a second, as python-threatexchange and
	// HMA hash the lists they share.
	h := &hasher.Hasher{Dihedral: true, Budget: media.NewBudget(budget), Video: vpdq.HashOptions{SecondsPerHash: 1}}
	if limit := media.SetMemoryLimit(h.Budget); limit > 0 {
		logger.Info("memory limit set", "bytes", limit, "decode_budget", budget)
	}
	log := audit.NewLog(st)
	s.audit = log
	// Every scan that matches lists the rules; writes through the cache
	// empty it, other servers' writes at their notification
	// (followChanges), or within the TTL if that is lost.
	rs := rules.NewCache(st, 5*time.Second)
	s.rules = rs
	// One Desk per server: it files one report at a time, so reports of
	// the same new content arriving together open one case.
	s.desk = review.NewDesk(st, st, review.Config{})
	stores, tx := usecase.Over(st)
	banks := &usecase.Banks{Stores: stores, Tx: tx, Log: log, Matcher: s.matcher}
	if len(cfg.Exchanges) > 0 {
		var err error
		if s.exchanges, err = NewExchanges(ctx, cfg.Exchanges, banks, logger); err != nil {
			return nil, err
		}
		s.feedback = &usecase.Feedback{Store: st, Log: log, Send: s.exchanges.SendFeedback}
	}
	// On PostgreSQL every server counts against the same buckets, so a
	// client behind a non-sticky balancer gets the budget once; SQLite's
	// store belongs to one process, which counts in memory.
	buckets, _ := st.(ratelimit.Buckets)
	rateKey, err := rateLimitKey(ctx, cfg.RateLimitKey, buckets)
	if err != nil {
		return nil, err
	}
	selfReports := &selfreport.Service{Store: st, Banks: banks, Rules: rs, Log: log, Limits: selfreport.SharedLimits(buckets, rateKey)}
	// One limiter for every entry point that takes a key (/v1, the
	// console, the HMA listener): a key's requests through any of them
	// count against its one bucket.
	keyLimits := &auth.Limiter{Default: cfg.KeyLimit, Log: logger}
	if !cfg.KeyLimitOff {
		keyLimits.Buckets = ratelimit.NewKeyed("api.keys", buckets)
	}
	metrics.CountLimitErrors(keyLimits)
	// One key cache for the same entry points: a key revoked through the
	// API (the console's revoke calls it), or by another server
	// (followChanges), is refused by all of them at once; one revoked by
	// the CLI on SQLite, within auth.KeyTTL.
	s.keys = auth.NewCache(st)
	// The text signal's kept messages are the chat logs law-enforcement
	// reports and data-request exports carry.
	chats := textmsg.ChatSource{Store: st}
	s.review = &usecase.Review{Tx: tx, Log: log, Desk: s.desk, Banks: banks, Matcher: s.matcher,
		ReviewBank: cfg.ReviewBank, ReviewWebhook: cfg.ReviewWebhook, Wake: s.dispatcher.Wake,
		Drafts: &usecase.Drafts{Evidence: ev, Scans: st, Reporter: cfg.LEReporter, Conversations: chats}}
	if s.networks, err = loadNetworks(ctx, st, tx, log, s.review, logger); err != nil {
		return nil, err
	}
	scorer, err := textrisk.Open(cfg.TextModel)
	if err != nil {
		return nil, err
	}
	var feeds *usecase.Feeds
	if s.publisher, err = newPublisher(cfg, st); err != nil {
		return nil, err
	}
	if s.publisher != nil {
		feeds = &usecase.Feeds{Publisher: s.publisher, Log: log}
	}
	if s.notices, err = newNotices(cfg, st, tx, log, ev, h); err != nil {
		return nil, err
	}
	s.textPruner = &textmsg.Pruner{Store: st, Retention: cfg.TextRetention}
	text := &usecase.Text{Tx: tx, Log: log, Scorer: scorer, Review: s.review, Evidence: ev, Wake: s.dispatcher.Wake, Logger: logger}
	// One body budget for every listener's uploads (the API's and HMA's):
	// apart, each would admit its own 256 MB.
	bodies := media.NewBudget(bodyBudget(cfg.MaxBody))
	s.api = api.New(api.Config{
		Text: text, TextMessages: st, Conversations: chats,
		Tx: tx, BankChanges: banks, Decisions: s.review, WebhookPolicy: policy,
		Banks: st, Keys: s.keys, Rules: rs, Webhooks: st, Audit: st, Log: log,
		Scans: st, Matcher: s.matcher, Hasher: h, Evidence: ev, Wake: s.dispatcher.Wake,
		Review: s.desk, ReviewWebhook: cfg.ReviewWebhook, ReviewBank: cfg.ReviewBank,
		Metrics: metrics, MaxBody: cfg.MaxBody, MaxVideo: cfg.MaxVideo, SpoolDir: s.spool, Logger: logger, SelfReports: selfReports,
		BodyBudget: bodies,
		LEReports:  st, LEReporter: cfg.LEReporter, CyberTip: cyberTip(cfg),
		LERequests: st, Exchanges: s.runnerOrNil(), Networks: s.networks, Feeds: feeds,
		Transparency: st, Notices: s.notices, KeyLimits: keyLimits,
		Pipeline: &scan.Pipeline{
			Hasher: h, Matcher: s.matcher, Rules: rs, Scans: st, Outbox: st,
			Audit: log, Evidence: ev, Wake: s.dispatcher.Wake, Logger: logger,
			Enqueue: s.review.Enqueue, Unkept: metrics.Unkept,
			// Two images per CPU keep the CPUs busy while bounding the
			// memory a burst of large uploads takes.
			Slots: make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
			// A video keeps a CPU busy in its ffmpeg children for a while.
			VideoSlots: make(chan struct{}, runtime.GOMAXPROCS(0)),
		},
		Ready: s.ready,
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
		mux.Handle("/console/", console.New(console.Config{API: s.api, Keys: s.keys, Limits: keyLimits, Log: log, Scans: st, Evidence: ev, SpoolDir: s.spool, Sessions: st, Logger: logger}))
		mux.Handle("/", s.handler)
		s.handler = mux
	}
	primary := s.handler
	if cfg.OperatorListen == "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.api.Operator())
		mux.Handle("GET /readyz", s.api.Operator())
		mux.Handle("/", s.handler)
		primary = mux
	}
	trusted, err := forwarded.Parse(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("tls: give both a certificate and its key (--tls-cert, --tls-key), or neither")
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	primary = trusted.Handler(primary)
	if s.ln, s.http, err = s.listen("listen", cfg.Listen, primary); err != nil {
		return nil, err
	}
	if cfg.OperatorListen != "" {
		if s.opLn, s.opHTTP, err = s.listen("operator-listen", cfg.OperatorListen, s.api.Operator()); err != nil {
			s.ln.Close()
			return nil, err
		}
	}
	if cfg.PublicListen != "" {
		pub := http.NewServeMux()
		pub.Handle("/remove", removePage)
		pub.Handle("/remove/", removePage)
		pub.Handle("/", s.api.Public())
		if s.pubLn, s.pubHTTP, err = s.listen("public-listen", cfg.PublicListen, trusted.Handler(pub)); err != nil {
			s.ln.Close()
			if s.opLn != nil {
				s.opLn.Close()
			}
			return nil, err
		}
	}
	if cfg.HMAListen != "" {
		hmaHandler, err := newHMA(cfg, banks, h, s.exchanges, s.keys, keyLimits, bodies, logger)
		if err == nil {
			s.hmaLn, s.hma, err = s.listen("hma-listen", cfg.HMAListen, hmaHandler)
		}
		if err != nil {
			for _, ln := range []net.Listener{s.ln, s.opLn, s.pubLn} {
				if ln != nil {
					ln.Close()
				}
			}
			return nil, err
		}
	}
	return s, nil
}

// sharedEvidence is a store that keeps evidence files every server
// sharing it reads (PostgreSQL).
type sharedEvidence interface {
	EvidenceFiles() *postgres.EvidenceFiles
}

// openEvidence opens the evidence store cfg names, and how to probe it:
// its directory, its bucket (EvidenceURL), or on PostgreSQL with neither
// set, the database. A directory that servers kept evidence in before it
// moved to a shared store is not silently left behind: its items would be
// 404s.
func openEvidence(cfg Config, st store.Store, kr *evidence.Keyring) (*evidence.Store, func(context.Context) error, error) {
	switch {
	case cfg.EvidenceDir != "" && cfg.EvidenceURL != "":
		return nil, nil, errors.New("evidence: both an evidence directory (--evidence-dir) and an evidence URL (--evidence-url) are set: choose one")
	case cfg.EvidenceDir != "":
		ev, err := evidence.Open(cfg.EvidenceDir, kr)
		return ev, func(context.Context) error { return writable(cfg.EvidenceDir) }, err
	}
	var files evidence.Files
	var probe func(context.Context) error
	target := "--evidence-url " + cfg.EvidenceURL
	if cfg.EvidenceURL != "" {
		b, err := s3.Open(cfg.EvidenceURL)
		if err != nil {
			return nil, nil, fmt.Errorf("evidence: %w", err)
		}
		files, probe = b, b.Ready
	} else {
		shared, ok := st.(sharedEvidence)
		if !ok {
			return nil, nil, errors.New("evidence: this store keeps no evidence files: set an evidence directory (--evidence-dir) or bucket (--evidence-url)")
		}
		files, target = shared.EvidenceFiles(), "--database-url URL"
	}
	old := filepath.Join(cfg.Data, "evidence")
	for name, err := range evidence.Dir(old).Names() {
		if id, ok := strings.CutSuffix(name, ".sgev"); ok && err == nil {
			return nil, nil, fmt.Errorf("evidence: %s holds items (%s, ...) from before evidence moved to a store all servers share; "+
				"copy them in with `safeguard evidence copy --from %s %s`, then remove the directory, or keep using it with --evidence-dir %s (other servers cannot read it)",
				old, id, old, target, old)
		}
	}
	ev, err := evidence.OpenFiles(files, kr)
	return ev, probe, err
}

// listen opens one of the server's listeners (setting names it in errors),
// every request body held to the configured rate.
func (s *Server) listen(setting, addr string, h http.Handler) (net.Listener, *http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", setting, addr, err)
	}
	return ln, &http.Server{
		Handler:           s.cfg.BodyRate.Handler(h),
		ReadHeaderTimeout: 10 * time.Second,
		// Until a body's first read (a request waiting for the body
		// budget); from there bodyrate moves the deadline, within the
		// same bound.
		ReadTimeout:    s.cfg.BodyRate.Whole,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}, nil
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

// runnerOrNil is the exchanges as the API takes them: a nil interface when
// none run, so that their routes answer 503.
func (s *Server) runnerOrNil() api.Exchanges {
	if s.exchanges == nil {
		return nil
	}
	return s.exchanges
}

// HMAAddr is where the HMA listener listens, or "" if there is none.
func (s *Server) HMAAddr() string {
	if s.hmaLn == nil {
		return ""
	}
	return s.hmaLn.Addr().String()
}

// Addr is where the server listens, e.g. "127.0.0.1:8080".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// OperatorAddr is where the operator's routes are served: the operator
// listener's address, or Addr when there is none.
func (s *Server) OperatorAddr() string {
	if s.opLn == nil {
		return s.Addr()
	}
	return s.opLn.Addr().String()
}

// PublicAddr is the public listener's address, or "" when there is none.
func (s *Server) PublicAddr() string {
	if s.pubLn == nil {
		return ""
	}
	return s.pubLn.Addr().String()
}

// Handler is the API and /remove, for serving them elsewhere (tests).
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves until ctx ends, then shuts down gracefully: it stops taking
// connections, lets requests in flight finish (up to ShutdownTimeout),
// lets webhook attempts in flight finish and be recorded, and closes the
// store. It returns the first error that stopped it, or nil.
func (s *Server) Run(ctx context.Context) error {
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	if s.cfg.LoadInBackground {
		wg.Go(func() { s.loadUntilDone(bg) })
	}
	if s.cfg.IndexSnapshot != "" {
		wg.Go(func() { every(bg, s.cfg.SnapshotEvery, func() { s.snapshot(bg) }) })
	}
	wake := s.followChanges(bg, &wg)
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.matcher.Follow(bg, s.cfg.SyncEvery, wake, func(err error) { s.log.Error("index sync", "err", err) })
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
			every(bg, s.cfg.EscalateEvery, func() {
				if n, err := s.review.Escalate(bg); err != nil && bg.Err() == nil {
					s.log.Error("escalating overdue cases", "err", err)
				} else if n > 0 {
					s.log.Info("escalated overdue cases", "cases", n)
				}
			})
		}()
	}

	wg.Go(func() { s.detectNetworks(bg) })
	wg.Go(func() { every(bg, time.Hour, s.sweepSpool) })
	wg.Go(func() {
		s.refreshOperations(bg)
		every(bg, s.cfg.OperationsEvery, func() { s.refreshOperations(bg) })
	})
	wg.Go(func() { chaseNotices(bg, s.notices, s.cfg.ChaseEvery, s.log.With("part", "notices")) })
	if s.cfg.TextRetention >= 0 {
		wg.Go(func() {
			s.pruneText(bg)
			every(bg, textmsg.PruneEvery, func() { s.pruneText(bg) })
		})
	}

	if s.exchanges != nil {
		wg.Go(func() { s.exchanges.Run(bg) })
		wg.Go(func() { sendFeedback(bg, s.feedback, s.st, s.log.With("part", "exchanges")) })
	}

	serveErr := make(chan error, 4)
	servers := []*http.Server{s.http}
	for _, l := range []struct {
		ln  net.Listener
		srv *http.Server
		tls bool
	}{{s.ln, s.http, true}, {s.opLn, s.opHTTP, false}, {s.pubLn, s.pubHTTP, true}, {s.hmaLn, s.hma, false}} {
		if l.ln == nil {
			continue
		}
		if l.srv != s.http {
			servers = append(servers, l.srv)
		}
		ln := l.ln
		if l.tls && s.tls != nil {
			ln = tls.NewListener(ln, s.tls)
		}
		go func() { serveErr <- l.srv.Serve(ln) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	s.log.Info("shutting down: finishing requests in flight", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if e := srv.Shutdown(sctx); e != nil && err == nil {
			err = fmt.Errorf("shutdown: %w", e)
		}
	}
	stop()
	wg.Wait()
	if s.cfg.IndexSnapshot != "" {
		// On a clean stop the next start loads in seconds, not the feed.
		s.snapshot(context.Background())
	}
	if e := s.st.Close(); e != nil && err == nil {
		err = e
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// followChanges follows other servers' changes when the store tells of them
// (PostgreSQL): a revoked key is forgotten at once, the rule cache
// emptied at a rule's change, and the returned
// channel wakes the index's sync. Without a Notifier it returns nil, and
// the index polls every SyncEvery alone.
func (s *Server) followChanges(ctx context.Context, wg *sync.WaitGroup) <-chan struct{} {
	n, ok := s.st.(store.Notifier)
	if !ok {
		return nil
	}
	wake := make(chan struct{}, 1)
	wg.Go(func() {
		n.Listen(ctx, func(c store.Notice) {
			switch c.Topic {
			case store.TopicEntries:
				select {
				case wake <- struct{}{}:
				default: // a sync is already due; it will read this change too
				}
			case store.TopicKeys:
				s.keys.Forget(c.Key)
			case store.TopicRules:
				s.rules.Invalidate()
			}
		}, func(err error) { s.log.Warn("change notifications", "err", err) })
	})
	return wake
}

// Banner prints where the server listens and, while the store has no key
// that is not revoked, how to create the first.
func (s *Server) Banner(ctx context.Context, w io.Writer) {
	where := "SQLite in " + s.cfg.Data
	flag := "--data " + s.cfg.Data
	if s.cfg.DatabaseURL != "" {
		where, flag = "PostgreSQL", "--database-url '<the same URL>'"
	}
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	fmt.Fprintf(w, "safeguard: serving %s://%s/v1 (%s)\n", scheme, s.Addr(), where)
	if s.opLn != nil {
		fmt.Fprintf(w, "safeguard: operator routes (/metrics, /readyz, /healthz) on http://%s\n", s.OperatorAddr())
	}
	if s.pubLn != nil {
		fmt.Fprintf(w, "safeguard: public part (/remove and its API) on %s://%s\n", scheme, s.PublicAddr())
	}
	if a := s.HMAAddr(); a != "" {
		fmt.Fprintf(w, "safeguard: serving HMA 2.0's API at http://%s/ (docs/hma.md)\n", a)
	}
	if p := s.publisher; p != nil {
		fmt.Fprintf(w, "safeguard: publishing banks %s at %s://%s/v1/peer/feed/{bank} to partner keys; subscribers pin public_key %s\n",
			strings.Join(p.Banks, ", "), scheme, s.Addr(), peer.EncodeKey(p.Key.Public().(ed25519.PublicKey)))
	}
	fmt.Fprintf(w, "safeguard: open %s://%s/ for the review console, Report Remove and the API document\n", scheme, s.Addr())
	if !s.hasKey(ctx) {
		fmt.Fprintf(w, "safeguard: create the first admin key with: safeguard apikey create --role admin --name NAME %s\n", flag)
	}
}

// hasKey reports whether the store holds a key not revoked; false when it
// cannot say, so the banner's hint shows.
func (s *Server) hasKey(ctx context.Context) bool {
	ks, err := s.st.ListKeys(ctx)
	if err != nil {
		return false
	}
	now := time.Now()
	for _, k := range ks {
		if !k.Revoked(now) {
			return true
		}
	}
	return false
}

// ready is /readyz: the index loaded, the store answering, and the
// directories the server writes (SQLite's, the evidence directory) taking a
// write that reaches the disk, or the evidence bucket a write. A server on a full disk says so here instead
// of taking traffic it can only refuse.
func (s *Server) ready(ctx context.Context) error {
	if st := s.matcher.Stats(); st.Loading || st.Synced.IsZero() {
		return errors.New("index loading")
	}
	if _, err := s.st.ListBanks(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if s.cfg.DatabaseURL == "" {
		if err := writable(s.cfg.Data); err != nil {
			return fmt.Errorf("store not writable: %w", err)
		}
	}
	if s.evidenceProbe != nil {
		if _, err := s.evidenceProbe.check(ctx); err != nil {
			return fmt.Errorf("evidence not writable: %w", err)
		}
	}
	return nil
}

// writable writes, syncs and removes a probe file of 64 KiB in dir (about
// what a scan's record or a small evidence item needs).
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".ready-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, 64<<10))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// bodyBudget is the memory uploaded bodies may hold at once before they are
// decoded: 256 MiB, or room for two of the largest allowed when that is
// more (docs/hostile.md).
func bodyBudget(maxBody int64) int64 {
	if maxBody <= 0 {
		maxBody = api.DefaultMaxBody
	}
	return max(256<<20, 2*(maxBody+1<<20))
}

// loadIndex loads the matcher: from its snapshot when the store holds the
// snapshot's mark, else from the whole change feed.
func (s *Server) loadIndex(ctx context.Context) error {
	info, err := s.matcher.Load(ctx, s.cfg.IndexSnapshot)
	if err != nil {
		return err
	}
	if info.Refused != nil {
		s.log.Warn("index snapshot not used: loaded the change feed instead", "reason", info.Refused)
	}
	stats := s.matcher.Stats()
	if info.Snapshot {
		s.snapSeq.Store(stats.Seq - info.Changes)
	}
	from := "change feed"
	if info.Snapshot {
		from = "snapshot and change feed"
	}
	s.indexLoad.Store(int64(info.Took))
	s.log.Info("index loaded", "from", from, "changes", info.Changes, "pdq", stats.PDQ, "digests", stats.Exact,
		"videos", stats.Videos, "took", info.Took.Round(time.Millisecond))
	return nil
}

// loadUntilDone loads the index while the server serves, trying again
// every few seconds if the store fails (a database not up yet).
func (s *Server) loadUntilDone(ctx context.Context) {
	for {
		err := s.loadIndex(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		s.log.Error("loading the index (trying again in 5 s)", "err", err)
		s.matcher.Loading()
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
}

// snapshot writes the index snapshot when the index moved since the last.
func (s *Server) snapshot(ctx context.Context) {
	stats := s.matcher.Stats()
	if stats.Loading || stats.Synced.IsZero() || stats.Seq == s.snapSeq.Load() {
		return
	}
	start := time.Now()
	if err := os.MkdirAll(filepath.Dir(s.cfg.IndexSnapshot), 0o700); err != nil {
		s.log.Error("index snapshot", "err", err)
		return
	}
	if err := s.matcher.WriteSnapshot(ctx, s.cfg.IndexSnapshot); err != nil {
		s.log.Error("index snapshot", "err", err)
		return
	}
	s.snapSeq.Store(stats.Seq)
	s.log.Info("index snapshot written", "file", s.cfg.IndexSnapshot, "seq", stats.Seq, "took", time.Since(start).Round(time.Millisecond))
}

// rateLimitKey is the key shared rate limits store addresses under: the
// configured one, else, where limits are shared, the one the store keeps
// for every server on it (made by the first to start), so servers given
// no key still count together. A key kept in the database guards the rows
// against a reader of them alone, not of the whole database:
// SAFEGUARD_RATELIMIT_KEY keeps it apart.
func rateLimitKey(ctx context.Context, spec string, buckets ratelimit.Buckets) ([]byte, error) {
	if spec != "" {
		return ratelimit.ParseKey(spec)
	}
	if buckets == nil {
		return nil, nil
	}
	kept, err := buckets.SharedKey(ctx, ratelimit.NewKey())
	if err != nil {
		return nil, err
	}
	return ratelimit.ParseKey(kept)
}
