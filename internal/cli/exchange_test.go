package cli

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
)

func TestExchangeCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "exchanges.json")
	t.Setenv("SG_NCMEC_PASSWORD", "hunter2")
	os.WriteFile(path, []byte(`{"exchanges": [
		{"name": "ncmec_ngo", "kind": "ncmec", "interval": "30m", "settings": {"environment": "ngo"},
		 "credentials": {"username": "me", "password": "env:SG_NCMEC_PASSWORD"}},
		{"name": "hotline", "kind": "list", "settings": {"path": "/srv/list.txt"}}]}`), 0o600)
	var out, errb bytes.Buffer
	if code := Main([]string{"exchange", "check", path}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := out.String()
	for _, want := range []string{"ncmec_ngo", "every 30m0s", "credentials: password, username", "hotline", "every 15m0s", "2 exchanges ok"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "hunter2") || strings.Contains(got, " me") {
		t.Errorf("output shows a credential:\n%s", got)
	}
	os.WriteFile(path, []byte(`{"exchanges": [{"name": "x", "kind": "ncmec", "settings": {"environment": "moon"}}]}`), 0o600)
	errb.Reset()
	if code := Main([]string{"exchange", "check", path}, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown environment") {
		t.Errorf("bad config: exit %d, %s", code, errb.String())
	}
}

func TestExchangePeerKey(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"exchange", "peer-key"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var seed, pub string
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "private seed: "); ok {
			seed = v
		}
		if v, ok := strings.CutPrefix(line, "public key:   "); ok {
			pub = v
		}
	}
	priv, err := peer.ParsePrivateKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	if peer.EncodeKey(priv.Public().(ed25519.PublicKey)) != pub {
		t.Error("the public key is not the seed's")
	}
	// --public prints the configured seed's public key, from the
	// environment or the config file.
	t.Setenv("SAFEGUARD_PEER_KEY", seed)
	out.Reset()
	if code := Main([]string{"exchange", "peer-key", "--public"}, nil, &out, &errb); code != 0 || strings.TrimSpace(out.String()) != pub {
		t.Errorf("--public from the environment: exit %d, %q, want %q (%s)", code, out.String(), pub, errb.String())
	}
	os.Unsetenv("SAFEGUARD_PEER_KEY")
	cfg := filepath.Join(t.TempDir(), "safeguard.conf")
	if err := os.WriteFile(cfg, []byte("peer-key = "+seed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := Main([]string{"exchange", "peer-key", "--public", "--config", cfg}, nil, &out, &errb); code != 0 || strings.TrimSpace(out.String()) != pub {
		t.Errorf("--public from the config file: exit %d, %q (%s)", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := Main([]string{"exchange", "peer-key", "--public"}, nil, &out, &errb); code == 0 || !strings.Contains(errb.String(), "SAFEGUARD_PEER_KEY") {
		t.Errorf("--public without a key: exit %d, %s", code, errb.String())
	}
}

// exchange fetch fills the bank in the store and says what it applied;
// exchange status reads the bank and checkpoint back; an exchange not in
// the file is refused.
func TestExchangeFetchAndStatus(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte("md5 "+strings.Repeat("ab", 16)+"\nmd5 "+strings.Repeat("cd", 16)+"\n"), 0o600)
	cfg := filepath.Join(dir, "exchanges.json")
	os.WriteFile(cfg, []byte(`{"exchanges": [{"name": "hotline", "kind": "list", "settings": {"path": "`+list+`"}}]}`), 0o600)
	data := filepath.Join(dir, "data")
	run := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Main(append([]string{"exchange"}, args...), nil, &out, &errb); code != want {
			t.Fatalf("%v: exit %d, want %d: %s%s", args, code, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	if got := run(0, "status", cfg, "--data", data); !strings.Contains(got, "no bank yet") || !strings.Contains(got, "never fetched") {
		t.Errorf("status before a fetch: %s", got)
	}
	if got := run(0, "fetch", cfg, "hotline", "--data", data); !strings.Contains(got, "2 records") || !strings.Contains(got, "2 entries") {
		t.Errorf("fetch: %s", got)
	}
	if got := run(0, "status", cfg, "--data", data); !strings.Contains(got, "2 entries") || !strings.Contains(got, "checkpoint ") {
		t.Errorf("status after a fetch: %s", got)
	}
	if got := run(2, "fetch", cfg, "nope", "--data", data); !strings.Contains(got, "no such exchange") {
		t.Errorf("fetch of an unknown exchange: %s", got)
	}
}
