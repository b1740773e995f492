package notice

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Config is the notice settings of a server, read from the JSON file
// serve's --notices names (docs/notices.md). Secrets are not in it: the
// SMTP credentials come from SAFEGUARD_SMTP_USER and
// SAFEGUARD_SMTP_PASSWORD (or the config file), and each host API's token
// from the environment variable its token_env names.
type Config struct {
	Org       string `json:"org"`  // who sends the notices
	SMTP      string `json:"smtp"` // host:port of the mail server; empty: no e-mail
	From      string `json:"from"` // the notices' sender address
	SMTPTLS   bool   `json:"smtp_require_tls"`
	Authority string `json:"authority"` // e-mail of the regulator or authority; empty: no escalation
	// Durations as Go writes them ("6h", "168h").
	EscalateAfter string `json:"escalate_after"`
	CheckEvery    string `json:"check_every"`
	Resend        string `json:"resend"`
	Distance      int    `json:"pdq_distance"`
	// FetchAllow lists the private or local prefixes, addresses and host
	// names checks and host APIs may reach (webhook.Policy.Allow).
	FetchAllow []string `json:"fetch_allow"`
	MaxBytes   int64    `json:"max_bytes"`
	Hosts      map[string]struct {
		URL      string `json:"url"`
		TokenEnv string `json:"token_env"`
	} `json:"hosts"`
}

// Setup is a Config made ready: the Chaser's schedule, the senders and
// the fetcher.
type Setup struct {
	CheckEvery, Resend, EscalateAfter time.Duration
	Fetch                             *Safe
	Senders                           *Senders
}

// LoadConfig reads and checks the file at path; smtpUser and smtpPassword
// are the mail server's credentials, getenv reads host tokens.
func LoadConfig(path, smtpUser, smtpPassword string, getenv func(string) string) (Config, Setup, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, Setup{}, fmt.Errorf("notices: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, Setup{}, fmt.Errorf("notices: %s: %w", path, err)
	}
	s, err := c.Setup(smtpUser, smtpPassword, getenv)
	if err != nil {
		return c, Setup{}, fmt.Errorf("notices: %s: %w", path, err)
	}
	return c, s, nil
}

// Setup checks c and builds what it configures.
func (c Config) Setup(smtpUser, smtpPassword string, getenv func(string) string) (Setup, error) {
	var s Setup
	for _, d := range []struct {
		name string
		v    string
		p    *time.Duration
	}{{"escalate_after", c.EscalateAfter, &s.EscalateAfter}, {"check_every", c.CheckEvery, &s.CheckEvery}, {"resend", c.Resend, &s.Resend}} {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v < time.Minute {
			return s, fmt.Errorf("%s %q: want a duration of a minute or more, e.g. \"24h\"", d.name, d.v)
		}
		*d.p = v
	}
	policy := webhook.Policy{Allow: c.FetchAllow}
	if err := policy.Validate(); err != nil {
		return s, fmt.Errorf("fetch_allow: %w", err)
	}
	for _, a := range []struct{ name, v string }{{"from", c.From}, {"authority", c.Authority}} {
		if a.v == "" {
			continue
		}
		if m, err := mail.ParseAddress(a.v); err != nil || m.Address != a.v {
			return s, fmt.Errorf("%s %q: want a bare e-mail address", a.name, a.v)
		}
	}
	s.Fetch = &Safe{Policy: policy, MaxBytes: c.MaxBytes}
	s.Senders = &Senders{Policy: policy, Authority: c.Authority, APIs: map[string]API{}}
	if c.SMTP != "" {
		if c.From == "" {
			return s, fmt.Errorf("smtp is set but from is not")
		}
		s.Senders.Mail = &SMTP{Addr: c.SMTP, From: c.From, Username: smtpUser, Password: smtpPassword, RequireTLS: c.SMTPTLS}
	}
	for host, h := range c.Hosts {
		if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return s, fmt.Errorf("hosts[%q].url %q: want an http or https URL", host, h.URL)
		}
		api := API{URL: h.URL}
		if h.TokenEnv != "" {
			if api.Token = getenv(h.TokenEnv); api.Token == "" {
				return s, fmt.Errorf("hosts[%q]: token_env %s is not set", host, h.TokenEnv)
			}
		}
		s.Senders.APIs[host] = api
	}
	return s, nil
}
