package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bodyrate"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/web/remove"
)

// serveSettings are serve's settings: each a flag, a SAFEGUARD_* variable
// and a key of the config file, in that order of precedence.
var serveSettings = []struct{ name, def, usage string }{
	{"listen", server.DefaultListen, "`host:port` to listen on"},
	{"data", server.DefaultData, "`directory` of the embedded SQLite store and the evidence directory"},
	{"database-url", "", "PostgreSQL `URL` (postgres://...) to use instead of SQLite"},
	{"evidence-dir", "", "`directory` of preserved evidence (default DATA/evidence)"},
	{"evidence-url", "", "S3-compatible bucket of preserved evidence, shared by every server: s3://BUCKET/PREFIX?endpoint=HOST:PORT&region=REGION (`URL`; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"},
	{"max-body", strconv.Itoa(api.DefaultMaxBody), "largest uploaded content in `bytes`"},
	{"max-video", strconv.Itoa(api.DefaultMaxVideo), "largest uploaded video in `bytes` (spooled to disk, hashed by ffmpeg)"},
	{"spool-dir", "", "private `directory` (0700, refused if its group or others may enter it) where uploaded videos and evidence packages are spooled for the length of their request, on this machine's disk (default DATA/spool)"},
	{"body-rate", strconv.FormatInt(bodyrate.Default.Min, 10), "least `bytes` a second a request body must average once body-grace is over, or it is cut off with a 408; 0: no minimum (the 5-minute bound stays)"},
	{"body-grace", bodyrate.Default.Grace.String(), "`time` a request body may take before body-rate counts"},
	{"key-burst", strconv.Itoa(auth.DefaultLimit.Burst), "rate limit of an API key without one of its own: `requests` at once (shared by every server on one PostgreSQL)"},
	{"key-rate", strconv.FormatFloat(auth.DefaultLimit.PerSecond, 'f', -1, 64), "rate limit of an API key without one of its own: `requests` a second, sustained; 0: no limit"},
	{"log-level", "info", "`level` of logging: debug, info, warn or error"},
	{"send-webhooks", "true", "send queued webhooks from this process; false when other processes sharing the database send them"},
	{"evidence-holds", "", "preservation `policy` of evidence, e.g. default=365d,DE=180d (default one year)"},
	{"text-model", "builtin", "`file` of a learned text model (safeguard text train); builtin: the model built in, trained on testdata/text; none: the text signal's rules alone"},
	{"text-retention", "90d", "how long scored text is kept after a conversation's last message (a message of no conversation, after it came) when nothing in it was flagged or filed: a `term`, days (90d) or a duration (2160h); keep: forever (docs/text.md)"},
	{"cybertip-url", "", "`URL` of the CyberTipline reporting API; empty: law-enforcement reports are built but not submitted"},
	{"reporter-email", "", "`email` of the person law-enforcement reports name as reporting"},
	{"operator-listen", server.DefaultOperatorListen, "`host:port` of the operator's routes (/metrics, /readyz, /healthz); \"main\" serves them on --listen"},
	{"public-listen", "", "`host:port` serving only the public part (/remove and its API), for the internet; the rest stays on --listen"},
	{"trusted-proxies", "", "comma-separated `addresses` or CIDR prefixes of reverse proxies whose X-Forwarded-For / Forwarded headers give the client address (rate limits) and X-Forwarded-Proto whether it came over TLS"},
	{"tls-cert", "", "PEM `file` of the TLS certificate (chain) for --listen and --public-listen"},
	{"tls-key", "", "PEM `file` of the TLS certificate's private key"},
	{"remove-helplines", "", "JSON `file` of the helplines Report Remove shows, by region (docs/remove.md); default the UK's and the US's"},
	{"demo", "true", "on the first start of an empty SQLite store, add a DEMO bank (one test photo) and print an admin key; false: neither"},
	{"webhook-allow", "", "comma-separated CIDR prefixes, addresses and host `names` webhooks may reach although private or local (default: public addresses only)"},
	{"exchanges", "", "JSON `file` of hash-list exchanges to fetch (docs/exchanges.md)"},
	{"hma-listen", "", "`host:port` of a second listener serving HMA 2.0's API (docs/hma.md)"},
	{"hma-fetch-allow", "", "comma-separated host `names` whose content the HMA listener's ?url= may fetch (and their subdomains; default: fetching off)"},
	{"publish", "", "comma-separated `banks` to publish to partner Safeguard instances as signed feeds (GET /v1/peer/feed/{bank}, keys of role partner), signed with SAFEGUARD_PEER_KEY"},
	{"notices", "", "JSON `file` of the notice register's settings: mail server, authority, schedule, hosts' APIs (docs/notices.md)"},
	{"hma-anonymous", "", "let HMA requests without a key in, from loopback and private addresses only, as admin, or as the `role` given (--hma-anonymous=integrator)"},
	{"index-snapshot", "", "`file` of the matcher's index snapshot, written on a clean stop and every 10 minutes, loaded at start when it is of this database's history (default DATA/index.snapshot; \"off\": none)"},
}

// anonymousRole is --hma-anonymous: a flag that may stand alone (admin,
// what an HMA client without keys needs) or name a role.
type anonymousRole struct{ p *string }

func (a anonymousRole) String() string {
	if a.p == nil {
		return ""
	}
	return *a.p
}
func (a anonymousRole) Set(v string) error { *a.p = v; return nil }
func (a anonymousRole) IsBoolFlag() bool   { return true }

// roleOf reads --hma-anonymous's value: true or a bare flag is admin,
// false or empty is none, anything else a role's name.
func roleOf(v string) string {
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		return "admin"
	case "false", "0", "no":
		return ""
	}
	return v
}

// secretSettings come only from their SAFEGUARD_* variable or the config
// file, never a flag, which any user could read in the process list.
var secretSettings = []string{"evidence-keys", "cybertip-user", "cybertip-password", "peer-key", "smtp-user", "smtp-password", "ratelimit-key"}

func envName(flagName string) string {
	return "SAFEGUARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func runServe(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard serve", flag.ContinueOnError)
	vals := map[string]*string{}
	for _, s := range serveSettings {
		if s.name == "hma-anonymous" {
			v := s.def
			vals[s.name] = &v
			fs.Var(anonymousRole{&v}, s.name, s.usage+" (env "+envName(s.name)+")")
			continue
		}
		vals[s.name] = fs.String(s.name, s.def, s.usage+" (env "+envName(s.name)+")")
	}
	config := addConfigFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: safeguard serve [flags]

Serves the HTTP API (see docs/api.md). With no configuration it keeps its
data in SQLite in ./safeguard-data and listens on 127.0.0.1:8080. Each
setting comes from its flag, else its SAFEGUARD_* variable, else the
config file, else its default. Secrets are read only from their variable
or the config file (never a flag, which any user could read in the process
list): SAFEGUARD_EVIDENCE_KEYS / evidence-keys (without it, on the
embedded store, serve makes one in the data directory, evidence.keys, and
says how to move it; with --database-url, rules that quarantine or report
keep nothing), SAFEGUARD_CYBERTIP_USER / cybertip-user,
SAFEGUARD_CYBERTIP_PASSWORD / cybertip-password and SAFEGUARD_PEER_KEY /
peer-key (the seed that signs --publish's feeds: safeguard exchange peer-key),
SAFEGUARD_SMTP_USER / smtp-user and SAFEGUARD_SMTP_PASSWORD / smtp-password
(the notices' mail server), and SAFEGUARD_RATELIMIT_KEY / ratelimit-key (with
--database-url: the secret, hex of 32 random bytes, e.g. openssl rand -hex 32,
under which Report Remove's shared rate limits store client addresses; the
same on every server; without it the servers share a key kept in the database).

flags:`)
		fs.PrintDefaults()
	}
	if _, code, ok := parse(fs, e, args); !ok {
		return code
	}
	file, err := settle(fs, *config, vals)
	if err != nil {
		return fail(e, "serve", "%v", err)
	}
	for k := range file {
		if vals[k] == nil && !slices.Contains(secretSettings, k) {
			return fail(e, "serve", "%s: unknown setting %q", *config, k)
		}
	}
	secret := map[string]string{}
	for _, name := range secretSettings {
		v, ok := os.LookupEnv(envName(name))
		if !ok {
			v = file[name]
		}
		secret[name] = v
	}
	keys := secret["evidence-keys"]
	var maxBody int64
	if _, err := fmt.Sscan(*vals["max-body"], &maxBody); err != nil || maxBody <= 0 {
		return fail(e, "serve", "max-body %q: want a positive number of bytes", *vals["max-body"])
	}
	var maxVideo int64
	if _, err := fmt.Sscan(*vals["max-video"], &maxVideo); err != nil || maxVideo <= 0 {
		return fail(e, "serve", "max-video %q: want a positive number of bytes", *vals["max-video"])
	}
	var bodyRate bodyrate.Rate
	if _, err := fmt.Sscan(*vals["body-rate"], &bodyRate.Min); err != nil || bodyRate.Min < 0 {
		return fail(e, "serve", "body-rate %q: want a number of bytes a second, or 0 for no minimum", *vals["body-rate"])
	}
	if bodyRate.Grace, err = time.ParseDuration(*vals["body-grace"]); err != nil || bodyRate.Grace <= 0 {
		return fail(e, "serve", "body-grace %q: want a positive duration such as 10s", *vals["body-grace"])
	}
	var keyLimit auth.RateLimit
	if _, err := fmt.Sscan(*vals["key-burst"], &keyLimit.Burst); err != nil {
		return fail(e, "serve", "key-burst %q: want a number of requests", *vals["key-burst"])
	}
	if _, err := fmt.Sscan(*vals["key-rate"], &keyLimit.PerSecond); err != nil {
		return fail(e, "serve", "key-rate %q: want a number of requests a second", *vals["key-rate"])
	}
	keyLimitOff := keyLimit.PerSecond == 0
	if err := keyLimit.Validate(); err != nil && !keyLimitOff {
		return fail(e, "serve", "key-burst %s, key-rate %s: %v", *vals["key-burst"], *vals["key-rate"], err)
	}
	send, err := strconv.ParseBool(*vals["send-webhooks"])
	if err != nil {
		return fail(e, "serve", "send-webhooks %q: want true or false", *vals["send-webhooks"])
	}
	textRetention := time.Duration(-1) // keep
	if v := *vals["text-retention"]; v != "keep" {
		if textRetention, err = evidence.ParseTerm(v); err != nil {
			return fail(e, "serve", "text-retention: %v (or keep)", err)
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*vals["log-level"])); err != nil {
		return fail(e, "serve", "log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	cfg := server.Config{
		Listen: *vals["listen"], Data: *vals["data"], DatabaseURL: *vals["database-url"],
		EvidenceDir: *vals["evidence-dir"], EvidenceURL: *vals["evidence-url"], EvidenceKeys: keys, MaxBody: maxBody, MaxVideo: maxVideo, WebhooksElsewhere: !send,
		EvidenceHolds: *vals["evidence-holds"], SpoolDir: *vals["spool-dir"], KeyLimit: keyLimit, KeyLimitOff: keyLimitOff,
		BodyRate: bodyRate, BodyRateOff: bodyRate.Min == 0,
		TextModel: *vals["text-model"], TextRetention: textRetention,
		CyberTipURL: *vals["cybertip-url"], CyberTipUser: secret["cybertip-user"], CyberTipPassword: secret["cybertip-password"],
	}
	// The ports open at once: /healthz answers while the index loads and
	// /readyz says ready only when it is loaded.
	cfg.IndexSnapshot, cfg.LoadInBackground = *vals["index-snapshot"], true
	if op := *vals["operator-listen"]; op != "main" {
		cfg.OperatorListen = op
	}
	cfg.PublicListen = *vals["public-listen"]
	cfg.TLSCert, cfg.TLSKey = *vals["tls-cert"], *vals["tls-key"]
	if tp := *vals["trusted-proxies"]; tp != "" {
		cfg.TrustedProxies = strings.Split(tp, ",")
	}
	if path := *vals["remove-helplines"]; path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fail(e, "serve", "remove-helplines: %v", err)
		}
		h, err := remove.ParseHelplines(b)
		if err != nil {
			return fail(e, "serve", "%s: %v", path, err)
		}
		cfg.RemoveHelplines = &h
	}
	if allow := *vals["webhook-allow"]; allow != "" {
		cfg.WebhookAllow = strings.Split(allow, ",")
	}
	if path := *vals["exchanges"]; path != "" {
		if cfg.Exchanges, err = exchange.LoadConfigFile(path); err != nil {
			return fail(e, "serve", "%v", err)
		}
	}
	cfg.HMAListen, cfg.HMAAnonymous = *vals["hma-listen"], roleOf(*vals["hma-anonymous"])
	if allow := *vals["hma-fetch-allow"]; allow != "" {
		cfg.HMAFetchAllow = strings.Split(allow, ",")
	}
	if banks := *vals["publish"]; banks != "" {
		cfg.Publish = strings.Split(banks, ",")
	}
	cfg.PeerKey, cfg.RateLimitKey = secret["peer-key"], secret["ratelimit-key"]
	cfg.NoticesFile, cfg.SMTPUser, cfg.SMTPPassword = *vals["notices"], secret["smtp-user"], secret["smtp-password"]
	if email := *vals["reporter-email"]; email != "" {
		cfg.LEReporter.ReportingPerson.Email = []string{email}
	}

	if keys == "" && cfg.DatabaseURL == "" {
		if cfg.EvidenceKeys, err = embeddedKeyring(e, cfg.Data); err != nil {
			return fail(e, "serve", "%v", err)
		}
		keys = cfg.EvidenceKeys
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := server.OpenStores(ctx, cfg)
	if err != nil {
		return fail(e, "serve", "%v", err)
	}
	if demo, err := strconv.ParseBool(*vals["demo"]); err != nil {
		st.Close()
		return fail(e, "serve", "demo %q: want true or false", *vals["demo"])
	} else if demo && cfg.DatabaseURL == "" {
		if _, err := firstStart(ctx, st, e.stdout); err != nil {
			st.Close()
			return fail(e, "serve", "first start: %v", err)
		}
	}
	srv, err := server.New(ctx, cfg, st, logger)
	if err != nil {
		st.Close()
		return fail(e, "serve", "%v", err)
	}
	if keys == "" {
		logger.Warn("no evidence keyring (SAFEGUARD_EVIDENCE_KEYS): rules that quarantine or report keep nothing, and law-enforcement reports are refused")
	}
	srv.Banner(ctx, e.stdout)
	if err := srv.Run(ctx); err != nil {
		return fail(e, "serve", "%v", err)
	}
	return 0
}

// readConfig reads "name = value" lines; blank lines and lines starting
// with '#' are skipped.
func readConfig(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want name = value", path, n)
		}
		k = strings.TrimSpace(k)
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s:%d: %s set twice", path, n, k)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, sc.Err()
}

// keyringFile is where the embedded default keeps the evidence keyring it
// made, in the data directory.
const keyringFile = "evidence.keys"

// embeddedKeyring is the evidence keyring of a server on the embedded
// store with none configured: the one in the data directory, made on the
// first start (0600) and announced loudly, since whoever can read the data
// directory can then read the evidence. A multi-node server (PostgreSQL)
// never makes one: its nodes must share a keyring.
func embeddedKeyring(e *env, data string) (string, error) {
	path := filepath.Join(data, keyringFile)
	spec, created, err := evidence.KeyringFile(path)
	if err != nil {
		return "", err
	}
	if created {
		fmt.Fprintf(e.stderr, `
*** safeguard: no evidence keyring was configured, so one was created:
***   %s (mode 0600)
*** It encrypts every preserved item and law-enforcement report file.
*** Lose it and the evidence is unreadable; back it up now. Kept beside
*** the data it protects, it guards nothing against a copy of the whole
*** directory: move it to a secret store by setting
***   SAFEGUARD_EVIDENCE_KEYS="$(cat %s)"
*** in the server's environment (or evidence-keys in --config), then
*** delete the file. A new key is made with: safeguard evidence keygen
`, path, path)
	}
	return spec, nil
}
