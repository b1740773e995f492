package list_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/exchangetest"
	"github.com/safeguard-oss/safeguard/internal/exchange/list"
)

func pdqOf(i int) string { return fmt.Sprintf("%064x", i+1<<12) }

func newRunner(t *testing.T, settings, creds map[string]string) (*exchange.Runner, *exchangetest.Memory) {
	t.Helper()
	cfg := exchange.Config{Name: "hotline", Kind: "list", Settings: settings, Credentials: creds}
	f, err := list.Config(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	mem := &exchangetest.Memory{}
	r := &exchange.Runner{Sink: mem, Checkpoints: mem}
	r.Add(cfg, f)
	return r, mem
}

func TestURLListIsASnapshot(t *testing.T) {
	var body atomic.Value
	body.Store("pdq " + pdqOf(1) + "\npdq " + pdqOf(2) + "\n# a comment\nvideo_md5 " + strings.Repeat("ab", 16) + "\ntmk 0,100,abc\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, body.Load())
	}))
	defer srv.Close()
	r, mem := newRunner(t, map[string]string{"url": srv.URL + "/list.txt"}, map[string]string{"authorization": "Bearer k"})
	ctx := context.Background()
	if err := r.Fetch(ctx, "hotline"); err != nil {
		t.Fatal(err)
	}
	if mem.Len("hotline") != 3 || !mem.Has("hotline", bank.MD5, strings.Repeat("ab", 16)) {
		t.Fatalf("entries %+v", mem.Entries("hotline"))
	}
	if st, _ := r.Status("hotline"); st.Skipped[exchange.TMK] != 1 {
		t.Errorf("skipped %v: want the tmk line carried", st.Skipped)
	}
	batches, _ := mem.Applied()
	if err := r.Fetch(ctx, "hotline"); err != nil {
		t.Fatal(err)
	}
	if b, _ := mem.Applied(); b != batches {
		t.Errorf("an unchanged list was applied again")
	}
	body.Store("pdq " + pdqOf(2) + "\npdq " + pdqOf(3) + "\n")
	if err := r.Fetch(ctx, "hotline"); err != nil {
		t.Fatal(err)
	}
	if mem.Len("hotline") != 2 || mem.Has("hotline", bank.PDQ, pdqOf(1)) || !mem.Has("hotline", bank.PDQ, pdqOf(3)) {
		t.Errorf("after the list changed: %+v", mem.Entries("hotline"))
	}
}

func TestFileListFormats(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text string
		settings   map[string]string
		entries    int
		malformed  int64
	}{
		{"lines.txt", "pdq " + pdqOf(1) + "\nnonsense\npdq \nsha256 " + pdqOf(2) + "\n\"><script> x\n", nil, 2, 3},
		{"bare.txt", pdqOf(1) + "\n" + pdqOf(2) + "\n", map[string]string{"signal_type": "sha256"}, 2, 0},
		{"dataset.csv", "signal_type,signal_str,collab,category,tags\npdq," + pdqOf(1) + ",IWF,A,x y\nvideo_md5," + strings.Repeat("cd", 16) + ",IWF,B,\n", nil, 2, 0},
	} {
		path := filepath.Join(dir, tc.name)
		os.WriteFile(path, []byte(tc.text), 0o600)
		settings := map[string]string{"path": path}
		for k, v := range tc.settings {
			settings[k] = v
		}
		r, mem := newRunner(t, settings, nil)
		if err := r.Fetch(context.Background(), "hotline"); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		st, _ := r.Status("hotline")
		if mem.Len("hotline") != tc.entries || st.Malformed != tc.malformed {
			t.Errorf("%s: %d entries, %d malformed (%q); want %d, %d", tc.name, mem.Len("hotline"), st.Malformed, st.Problems, tc.entries, tc.malformed)
		}
		if tc.name == "bare.txt" && !mem.Has("hotline", bank.SHA256, pdqOf(1)) {
			t.Errorf("%s: signal_type not applied", tc.name)
		}
		if tc.name == "dataset.csv" {
			if e := mem.Entries("hotline")[1]; e.Category != "A" || e.Note != "x y" {
				t.Errorf("%s: entry %+v: want the category and tags", tc.name, e)
			}
		}
	}
}

func TestBadListsFailClearly(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "bad.csv")
	os.WriteFile(csv, []byte("signal_type,signal_str\npdq,"+pdqOf(1)+"\npdq,zz\n"), 0o600)
	r, mem := newRunner(t, map[string]string{"path": csv}, nil)
	if err := r.Fetch(context.Background(), "hotline"); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad CSV: %v, want line 3", err)
	}
	if mem.Len("hotline") != 0 {
		t.Error("part of a bad CSV was applied")
	}
	big := filepath.Join(dir, "big.txt")
	os.WriteFile(big, []byte(strings.Repeat("pdq "+pdqOf(1)+"\n", 100)), 0o600)
	r, _ = newRunner(t, map[string]string{"path": big, "max_bytes": "1000"}, nil)
	if err := r.Fetch(context.Background(), "hotline"); err == nil || !strings.Contains(err.Error(), "longer than max_bytes") {
		t.Errorf("big list: %v", err)
	}
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, []byte("# nothing\n"), 0o600)
	r, _ = newRunner(t, map[string]string{"path": empty}, nil)
	if err := r.Fetch(context.Background(), "hotline"); err == nil || !strings.Contains(err.Error(), "no entries") {
		t.Errorf("empty list: %v", err)
	}
}

func TestRedirectToPlainHTTPRefused(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("http://example.org/list.txt", http.StatusFound))
	defer srv.Close()
	r, _ := newRunner(t, map[string]string{"url": srv.URL}, nil)
	err := r.Fetch(context.Background(), "hotline")
	if err == nil || !exchange.Permanent(err) || !strings.Contains(err.Error(), "redirected") {
		t.Errorf("redirect to plain http: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		settings map[string]string
		want     string
	}{
		{map[string]string{}, "set url or path"},
		{map[string]string{"url": "https://x/l", "path": "/l"}, "set url or path"},
		{map[string]string{"url": "http://example.org/l"}, "want https"},
		{map[string]string{"path": "/l", "format": "xml"}, "want lines, hma or csv"},
		{map[string]string{"path": "/l", "format": "hma", "signal_type": "pdq"}, "signal_type is for lists of lines"},
		{map[string]string{"path": "/l", "max_bytes": "-1"}, "max_bytes"},
	} {
		if _, err := list.Config(exchange.Config{Name: "x", Settings: tc.settings}, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Config(%v) = %v, want %q", tc.settings, err, tc.want)
		}
	}
}
