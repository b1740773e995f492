package exchange

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
)

// Config is one configured exchange.
type Config struct {
	// Name is the exchange's name and the bank it fills (a valid bank name).
	Name string
	// Kind is the wire format: ncmec, stopncii, threatexchange, list,
	// peer (see the kinds package).
	Kind string
	// Interval is the time between fetches; DefaultInterval if 0.
	Interval time.Duration
	// Settings are the format's own options (an environment, a URL, a
	// privacy group); each format says which it reads and refuses others.
	Settings map[string]string
	// Credentials are secrets, resolved: a file value "env:NAME" has been
	// replaced by the environment variable NAME.
	Credentials map[string]string
}

// DefaultInterval is the time between fetches of an exchange configured
// without one.
const DefaultInterval = 15 * time.Minute

// MinInterval bounds how often an exchange is polled: upstream APIs
// rate-limit, and a typo of "1s" for "1h" should not hammer them.
const MinInterval = 10 * time.Second

// Setting returns a setting, or def when it is not set.
func (c Config) Setting(key, def string) string {
	if v, ok := c.Settings[key]; ok {
		return v
	}
	return def
}

// Credential returns a credential, failing with a message naming the
// exchange and key when it is missing or empty.
func (c Config) Credential(key string) (string, error) {
	v := c.Credentials[key]
	if v == "" {
		return "", fmt.Errorf("exchange %q: credential %q is missing or empty", c.Name, key)
	}
	return v, nil
}

// Only fails if the config has a setting or credential the format does not
// read: a misspelt key would otherwise be silently ignored.
func (c Config) Only(settings, credentials []string) error {
	for _, m := range []struct {
		what  string
		have  map[string]string
		known []string
	}{{"setting", c.Settings, settings}, {"credential", c.Credentials, credentials}} {
		for _, k := range sortedKeys(m.have) {
			if !slices.Contains(m.known, k) {
				return fmt.Errorf("exchange %q (%s): unknown %s %q: want one of %s", c.Name, c.Kind, m.what, k, strings.Join(m.known, ", "))
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fileConfig is the JSON of a configuration file.
type fileConfig struct {
	Exchanges []struct {
		Name        string            `json:"name"`
		Kind        string            `json:"kind"`
		Interval    string            `json:"interval"`
		Settings    map[string]string `json:"settings"`
		Credentials map[string]string `json:"credentials"`
	} `json:"exchanges"`
}

// MaxConfig bounds a configuration file.
const MaxConfig = 1 << 20

// LoadConfig reads a configuration (see docs/exchanges.md):
//
//	{"exchanges": [{"name": "ncmec_industry", "kind": "ncmec", "interval": "30m",
//	  "settings": {"environment": "industry"},
//	  "credentials": {"username": "env:NCMEC_USER", "password": "env:NCMEC_PASSWORD"}}]}
//
// A credential "env:NAME" is read from getenv(NAME); anything else is the
// secret itself. It does not check a format's settings: building its
// Fetcher does.
func LoadConfig(r io.Reader, getenv func(string) string) ([]Config, error) {
	cfgs, _, err := loadConfig(r, getenv)
	return cfgs, err
}

// loadConfig is LoadConfig, also saying whether the file holds a secret
// itself rather than an "env:" reference.
func loadConfig(r io.Reader, getenv func(string) string) (_ []Config, inline bool, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxConfig+1))
	if err != nil {
		return nil, false, err
	}
	if len(data) > MaxConfig {
		return nil, false, fmt.Errorf("exchange configuration longer than %d bytes", MaxConfig)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var fc fileConfig
	if err := dec.Decode(&fc); err != nil {
		return nil, false, fmt.Errorf("exchange configuration: %v", err)
	}
	var out []Config
	seen := map[string]bool{}
	for i, x := range fc.Exchanges {
		c := Config{Name: x.Name, Kind: x.Kind, Settings: x.Settings, Credentials: map[string]string{}}
		if err := bank.ValidName(c.Name); err != nil {
			return nil, false, fmt.Errorf("exchange %d: the name is the bank it fills: %v", i+1, err)
		}
		if seen[c.Name] {
			return nil, false, fmt.Errorf("exchange %q: configured twice", c.Name)
		}
		seen[c.Name] = true
		if c.Kind == "" {
			return nil, false, fmt.Errorf("exchange %q: no kind", c.Name)
		}
		if x.Interval != "" {
			if c.Interval, err = time.ParseDuration(x.Interval); err != nil {
				return nil, false, fmt.Errorf("exchange %q: interval %q: %v", c.Name, Clip(x.Interval), err)
			}
			if c.Interval < MinInterval {
				return nil, false, fmt.Errorf("exchange %q: interval %s: shorter than %s", c.Name, c.Interval, MinInterval)
			}
		}
		for _, k := range sortedKeys(x.Credentials) {
			v := x.Credentials[k]
			env, ok := strings.CutPrefix(v, "env:")
			inline = inline || !ok
			if ok {
				if v = getenv(env); v == "" {
					return nil, false, fmt.Errorf("exchange %q: credential %q: environment variable %s is not set", c.Name, k, env)
				}
			}
			c.Credentials[k] = v
		}
		out = append(out, c)
	}
	return out, inline, nil
}

// LoadConfigFile reads a configuration file with LoadConfig and
// os.Getenv. A file holding secrets itself (not "env:" references) must not
// be readable by group or others.
func LoadConfigFile(path string) ([]Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfgs, inline, err := loadConfig(f, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 && inline {
		return nil, fmt.Errorf("%s: holds credentials but is readable by others (mode %v): chmod 600, or use \"env:NAME\"", path, fi.Mode().Perm())
	}
	return cfgs, nil
}
