package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
)

// TestDemoHash checks that the demo bank's hash is its image's.
func TestDemoHash(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("../..", demoImage))
	if err != nil {
		t.Fatal(err)
	}
	s, err := new(hasher.Hasher).Hash(demoImage, b)
	if err != nil {
		t.Fatal(err)
	}
	if s.PDQ.String() != demoPDQ {
		t.Errorf("demoPDQ %s, but %s hashes to %s", demoPDQ, demoImage, s.PDQ)
	}
}

// TestFirstStart checks that an empty store gets the demo bank and one
// working admin key, printed, and that a second start adds nothing.
func TestFirstStart(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	if did, err := firstStart(ctx, st, &out); err != nil || !did {
		t.Fatalf("first start: %v, %v", did, err)
	}
	_, key, ok := strings.Cut(out.String(), "KEY=")
	key = strings.TrimSpace(key)
	if !ok || !strings.HasPrefix(key, "sg_") {
		t.Fatalf("no key printed: %q", out.String())
	}
	b, err := st.Bank(ctx, demoBank)
	if err != nil || b.Entries != 1 || !strings.Contains(b.Description, "DEMO") {
		t.Fatalf("demo bank %+v, %v", b, err)
	}
	ks, err := st.ListKeys(ctx)
	if err != nil || len(ks) != 1 || ks[0].Role != "admin" {
		t.Fatalf("keys %+v, %v", ks, err)
	}
	out.Reset()
	if did, err := firstStart(ctx, st, &out); err != nil || did || out.Len() > 0 {
		t.Errorf("second start: %v, %v, printed %q; want nothing done", did, err, out.String())
	}
}

// TestHelp checks that every command, and every command group, answers -h
// with its usage on standard output and exit status 0.
func TestHelp(t *testing.T) {
	for _, c := range commands() {
		for _, h := range []string{"-h", "--help"} {
			var out, errs bytes.Buffer
			code := Main([]string{c.name, h}, strings.NewReader(""), &out, &errs)
			if code != 0 || (out.Len() == 0 && errs.Len() == 0) {
				t.Errorf("safeguard %s %s: exit %d, stdout %q, stderr %q", c.name, h, code, out.String(), errs.String())
			}
		}
	}
}

// TestSharedConfig checks that a store command reads serve's config file
// as serve does: the file's data directory, unless a flag says otherwise.
func TestSharedConfig(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	conf := filepath.Join(t.TempDir(), "safeguard.conf")
	os.WriteFile(conf, []byte("# serve's file\nlisten = 127.0.0.1:9999\ndata = "+dir+"\n"), 0o644)
	t.Setenv("SAFEGUARD_DATA", "")
	os.Unsetenv("SAFEGUARD_DATA")
	if code, _, errs := run(t, "", "bank", "create", "fromconfig", "--config", conf); code != 0 {
		t.Fatalf("bank create --config: %s", errs)
	}
	if _, out, _ := run(t, "", "bank", "list", "--data", dir); !strings.Contains(out, "fromconfig") {
		t.Errorf("the bank is not in the config file's data directory: %q", out)
	}
	if _, out, _ := run(t, "", "bank", "list", "--config", conf, "--data", other); strings.Contains(out, "fromconfig") {
		t.Errorf("--data did not win over the config file: %q", out)
	}
	t.Setenv("SAFEGUARD_CONFIG", conf)
	if _, out, _ := run(t, "", "apikey", "list"); !strings.Contains(out, "ID") {
		t.Errorf("apikey list with SAFEGUARD_CONFIG: %q", out)
	}
}
