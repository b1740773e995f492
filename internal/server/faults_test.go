package server_test

// Issue 12, findings 7 and 8, by fault injection: a full or broken evidence
// volume, and a database that goes away. Each answers 503 unavailable with
// Retry-After, never an action not carried out, and /readyz tells the
// truth.

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// get answers a GET with no key: status, Retry-After and body.
func get(t *testing.T, u string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
}

// scanRaw sends a scan and returns its status, Retry-After and body.
func scanRaw(t *testing.T, base, key string, content []byte) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v1/scan?content_id=c1", strings.NewReader(string(content)))
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
}

// listed puts the picture in a bank whose rule does the given actions.
func listed(t *testing.T, admin client, picture []byte, actions ...string) {
	t.Helper()
	admin.json("POST", "/v1/banks", map[string]any{"name": "known"}, 201, nil)
	admin.do("POST", "/v1/banks/known/entries", "image/jpeg", picture, 200, nil)
	var acts []map[string]any
	for _, a := range actions {
		acts = append(acts, map[string]any{"kind": a})
	}
	admin.json("POST", "/v1/rules", map[string]any{"name": "known", "banks": []string{"known"}, "actions": acts}, 201, nil)
}

func TestQuarantineFailsClosed(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, st := b.open(t)
			cfg.OperatorListen = "127.0.0.1:0"
			cfg.ProbeEvery = time.Millisecond // /readyz sees the fault below at once
			// A volume of its own, also on PostgreSQL (which otherwise
			// keeps evidence in the database).
			cfg.EvidenceDir = filepath.Join(cfg.Data, "evidence")
			srv, base, adminKey := startServer(t, cfg, st)
			admin := client{t, base, adminKey}
			picture, _ := photo(t, 3)
			listed(t, admin, picture, "block", "quarantine")
			if code, _, body := scanRaw(t, base, adminKey, picture); code != 200 || !strings.Contains(body, `"quarantine"`) {
				t.Fatalf("scan with a working evidence volume: %d %s", code, body)
			}
			// The evidence volume breaks (a file where its directory was:
			// every write fails, as on a full or read-only volume).
			dir := filepath.Join(cfg.Data, "evidence")
			if err := os.Rename(dir, dir+".away"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			code, retry, body := scanRaw(t, base, adminKey, picture)
			if code != 503 || retry == "" || !strings.Contains(body, "unavailable") || strings.Contains(body, `"quarantine"`) {
				t.Errorf("scan with a broken evidence volume: %d Retry-After %q %s, want 503 unavailable with Retry-After", code, retry, body)
			}
			op := "http://" + srv.OperatorAddr()
			if code, _, body := get(t, op+"/readyz"); code != 503 || !strings.Contains(body, "evidence") {
				t.Errorf("/readyz with a broken evidence volume: %d %s, want 503 naming evidence", code, body)
			}
			if _, _, body := get(t, op+"/metrics"); !strings.Contains(body, "safeguard_scans_unkept_total 1") {
				t.Errorf("metrics do not count the unkept scan:\n%s", grepLines(body, "unkept"))
			}
			// Mended, it works again.
			os.Remove(dir)
			if err := os.Rename(dir+".away", dir); err != nil {
				t.Fatal(err)
			}
			if code, _, body := scanRaw(t, base, adminKey, picture); code != 200 {
				t.Errorf("scan after the volume is mended: %d %s", code, body)
			}
			if code, _, body := get(t, op+"/readyz"); code != 200 {
				t.Errorf("/readyz after the volume is mended: %d %s", code, body)
			}
		})
	}
}

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// proxy forwards TCP connections to target until cut, when it closes every
// connection and refuses new ones: a database that goes away.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	cut   bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	t.Cleanup(func() { p.sever(); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) sever() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestDatabaseUnreachable(t *testing.T) {
	dbURL := testkit.PostgresURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	cfg := server.Config{Data: t.TempDir(), DatabaseURL: u.String(), OperatorListen: "127.0.0.1:0"}
	st, err := server.OpenStores(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, base, adminKey := startServer(t, cfg, st)
	admin := client{t, base, adminKey}
	picture, _ := photo(t, 4)
	listed(t, admin, picture, "block")
	if code, _, body := scanRaw(t, base, adminKey, picture); code != 200 {
		t.Fatalf("scan with the database up: %d %s", code, body)
	}
	p.sever()
	code, retry, body := scanRaw(t, base, adminKey, picture)
	if code != 503 || retry == "" || !strings.Contains(body, "unavailable") {
		t.Errorf("scan with the database gone: %d Retry-After %q %s, want 503 unavailable with Retry-After", code, retry, body)
	}
	req, _ := http.NewRequest("GET", base+"/v1/banks", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET /v1/banks with the database gone: %d, want 503 with Retry-After", resp.StatusCode)
		}
	}
	if code, _, body := get(t, "http://"+srv.OperatorAddr()+"/readyz"); code != 503 {
		t.Errorf("/readyz with the database gone: %d %s, want 503", code, body)
	}
}
