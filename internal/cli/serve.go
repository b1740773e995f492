package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/safeguard-oss/safeguard/internal/api"
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
	{"max-body", strconv.Itoa(api.DefaultMaxBody), "largest uploaded content in `bytes`"},
	{"log-level", "info", "`level` of logging: debug, info, warn or error"},
	{"send-webhooks", "true", "send queued webhooks from this process; false when other processes sharing the database send them"},
	{"evidence-holds", "", "preservation `policy` of evidence, e.g. default=365d,DE=180d (default one year)"},
	{"cybertip-url", "", "`URL` of the CyberTipline reporting API; empty: law-enforcement reports are built but not submitted"},
	{"reporter-email", "", "`email` of the person law-enforcement reports name as reporting"},
	{"remove-helplines", "", "JSON `file` of the helplines Report Remove shows, by region (docs/remove.md); default the UK's and the US's"},
	{"demo", "true", "on the first start of an empty SQLite store, add a DEMO bank (one test photo) and print an admin key; false: neither"},
	{"webhook-allow", "", "comma-separated CIDR prefixes, addresses and host `names` webhooks may reach although private or local (default: public addresses only)"},
}

// secretSettings come only from their SAFEGUARD_* variable or the config
// file, never a flag, which any user could read in the process list.
var secretSettings = []string{"evidence-keys", "cybertip-user", "cybertip-password"}

func envName(flagName string) string {
	return "SAFEGUARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func runServe(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard serve", flag.ContinueOnError)
	vals := map[string]*string{}
	for _, s := range serveSettings {
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
list): SAFEGUARD_EVIDENCE_KEYS / evidence-keys (without it, rules that
quarantine or report are refused), SAFEGUARD_CYBERTIP_USER / cybertip-user
and SAFEGUARD_CYBERTIP_PASSWORD / cybertip-password.

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
	send, err := strconv.ParseBool(*vals["send-webhooks"])
	if err != nil {
		return fail(e, "serve", "send-webhooks %q: want true or false", *vals["send-webhooks"])
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*vals["log-level"])); err != nil {
		return fail(e, "serve", "log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	cfg := server.Config{
		Listen: *vals["listen"], Data: *vals["data"], DatabaseURL: *vals["database-url"],
		EvidenceDir: *vals["evidence-dir"], EvidenceKeys: keys, MaxBody: maxBody, WebhooksElsewhere: !send,
		EvidenceHolds: *vals["evidence-holds"],
		CyberTipURL:   *vals["cybertip-url"], CyberTipUser: secret["cybertip-user"], CyberTipPassword: secret["cybertip-password"],
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
	if email := *vals["reporter-email"]; email != "" {
		cfg.LEReporter.ReportingPerson.Email = []string{email}
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
		logger.Warn("no evidence keyring (SAFEGUARD_EVIDENCE_KEYS): rules that quarantine or report are refused")
	}
	srv.Banner(e.stdout)
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
