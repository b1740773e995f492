package exchange

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	env := map[string]string{"NCMEC_PASSWORD": "s3cret"}
	cfgs, err := LoadConfig(strings.NewReader(`{"exchanges": [
		{"name": "ncmec_industry", "kind": "ncmec", "interval": "30m",
		 "settings": {"environment": "industry"},
		 "credentials": {"username": "me", "password": "env:NCMEC_PASSWORD"}},
		{"name": "hotline", "kind": "list", "settings": {"url": "https://example.org/l.txt"}}]}`),
		func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 2 {
		t.Fatalf("%d configs, want 2", len(cfgs))
	}
	c := cfgs[0]
	if c.Name != "ncmec_industry" || c.Kind != "ncmec" || c.Interval != 30*time.Minute || c.Setting("environment", "") != "industry" {
		t.Errorf("config %+v", c)
	}
	if p, _ := c.Credential("password"); p != "s3cret" {
		t.Errorf("password %q, want it from the environment", p)
	}
	if _, err := cfgs[1].Credential("password"); err == nil || !strings.Contains(err.Error(), `"hotline"`) {
		t.Errorf("missing credential: %v", err)
	}
	if err := c.Only([]string{"environment"}, []string{"username", "password"}); err != nil {
		t.Errorf("Only: %v", err)
	}
	if err := c.Only([]string{"env"}, []string{"username", "password"}); err == nil || !strings.Contains(err.Error(), `unknown setting "environment"`) {
		t.Errorf("Only with a misspelt key: %v", err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"exchanges": [{"name": "Bad Name", "kind": "ncmec"}]}`, "bank name"},
		{`{"exchanges": [{"name": "a", "kind": "ncmec"}, {"name": "a", "kind": "list"}]}`, "configured twice"},
		{`{"exchanges": [{"name": "a"}]}`, "no kind"},
		{`{"exchanges": [{"name": "a", "kind": "list", "interval": "1s"}]}`, "shorter than"},
		{`{"exchanges": [{"name": "a", "kind": "list", "interval": "soon"}]}`, "interval"},
		{`{"exchanges": [{"name": "a", "kind": "list", "credentials": {"k": "env:UNSET"}}]}`, "UNSET is not set"},
		{`{"exchanges": [{"name": "a", "kind": "list", "colour": "red"}]}`, "unknown field"},
		{`[`, "exchange configuration"},
	} {
		_, err := LoadConfig(strings.NewReader(tc.json), func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadConfig(%s) = %v, want an error with %q", tc.json, err, tc.want)
		}
	}
}

func TestLoadConfigFileRefusesReadableSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "exchanges.json")
	inline := `{"exchanges": [{"name": "a", "kind": "stopncii", "credentials": {"subscription_key": "k"}}]}`
	if err := os.WriteFile(path, []byte(inline), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfigFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable secrets: %v", err)
	}
	os.Chmod(path, 0o600)
	if _, err := LoadConfigFile(path); err != nil {
		t.Errorf("mode 600: %v", err)
	}
	t.Setenv("SG_TEST_KEY", "k")
	os.WriteFile(path, []byte(strings.Replace(inline, `"k"`, `"env:SG_TEST_KEY"`, 1)), 0o644)
	os.Chmod(path, 0o644)
	if _, err := LoadConfigFile(path); err != nil {
		t.Errorf("env references in a readable file: %v", err)
	}
}
