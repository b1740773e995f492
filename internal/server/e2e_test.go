package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/bench"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// testEvidenceKeys is a throwaway keyring for tests.
const testEvidenceKeys = "test:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// start runs a real server on a loopback port over st and returns its base
// URL and an admin key; the server shuts down when the test ends.
func start(t testing.TB, cfg server.Config, st store.Store) (string, string) {
	t.Helper()
	_, base, admin := startServer(t, cfg, st)
	return base, admin
}

// startServer is start, also returning the server (for its other
// listeners' addresses).
func startServer(t testing.TB, cfg server.Config, st store.Store) (*server.Server, string, string) {
	t.Helper()
	ctx := context.Background()
	admin, _, err := auth.Create(ctx, st, auth.Admin, "test-admin", "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.EvidenceKeys = testEvidenceKeys
	cfg.WebhookAllow = []string{"127.0.0.1/32"} // the tests' receivers
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(ctx, cfg, st, logger)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("server shutdown: %v", err)
		}
	})
	return srv, "http://" + srv.Addr(), admin
}

// client drives the API with one key.
type client struct {
	t    testing.TB
	base string
	key  string
}

// do sends a request and decodes a JSON answer into out (if not nil),
// failing the test unless the status is want.
func (c client) do(method, path, contentType string, body []byte, want int, out any) []byte {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
	return b
}

// newKey has c (an admin) create a key through the API, returning a
// client with it and its id.
func (c client) newKey(role, name string) (client, string) {
	var k struct {
		Key string `json:"key"`
		ID  string `json:"id"`
	}
	c.json("POST", "/v1/keys", map[string]any{"role": role, "name": name}, 201, &k)
	return client{c.t, c.base, k.Key}, k.ID
}

func (c client) json(method, path string, in any, want int, out any) []byte {
	c.t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(method, path, "application/json", b, want, out)
}

// receiver is a webhook endpoint on loopback that keeps what it got and
// checks each signature.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	got    []map[string]any
	bad    []string
	ch     chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	rv := &receiver{ch: make(chan struct{}, 100)}
	rv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rv.mu.Lock()
		defer rv.mu.Unlock()
		if err := webhook.Verify([]byte(rv.secret), r.Header.Get(webhook.SignatureHeader), body, time.Now(), webhook.DefaultTolerance); err != nil {
			rv.bad = append(rv.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		json.Unmarshal(body, &ev)
		ev["idempotency_key"] = r.Header.Get(webhook.IdempotencyHeader)
		rv.got = append(rv.got, ev)
		select {
		case rv.ch <- struct{}{}:
		default: // a reader polls events instead
		}
	}))
	t.Cleanup(rv.Close)
	return rv
}

func (rv *receiver) setSecret(s string) {
	rv.mu.Lock()
	rv.secret = s
	rv.mu.Unlock()
}

func (rv *receiver) events() []map[string]any {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]map[string]any(nil), rv.got...)
}

// photo is a 640x480 photograph-like JPEG; altered is the same picture
// mirrored, cropped by 1% on every side and re-encoded at lower quality,
// as an uploader evading an exact-hash match would make it.
func photo(t testing.TB, seed uint64) (original, altered []byte) {
	img := bench.Synthetic(640, 480, seed)
	var a bytes.Buffer
	if err := jpeg.Encode(&a, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	dx, dy := b.Dx()/100, b.Dy()/100
	crop := image.NewRGBA(image.Rect(0, 0, b.Dx()-2*dx, b.Dy()-2*dy))
	for y := 0; y < crop.Bounds().Dy(); y++ {
		for x := 0; x < crop.Bounds().Dx(); x++ {
			crop.Set(crop.Bounds().Dx()-1-x, y, img.At(x+dx, y+dy)) // mirrored
		}
	}
	var c bytes.Buffer
	if err := jpeg.Encode(&c, crop, &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	return a.Bytes(), c.Bytes()
}

// TestEndToEnd is the proof, over HTTP against a real server: an
// admin creates a bank and adds an image, a rule blocks and notifies, an
// integrator's scan of an altered copy matches and is blocked, the
// receiver gets a correctly signed webhook, and the audit chain verifies.
func TestEndToEnd(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			cfg, st := backend.open(t)
			base, adminKey := start(t, cfg, st)
			endToEnd(t, base, adminKey)
		})
	}
}

func endToEnd(t *testing.T, base, adminKey string) {
	admin := client{t, base, adminKey}
	original, altered := photo(t, 7)
	rv := newReceiver(t)

	admin.json("POST", "/v1/banks", map[string]any{"name": "known", "description": "confirmed items"}, 201, nil)
	var added struct {
		Added  int64 `json:"added"`
		Hashes struct {
			PDQ     string `json:"pdq"`
			Quality int    `json:"quality"`
		} `json:"hashes"`
	}
	admin.do("POST", "/v1/banks/known/entries?source=review&category=A", "image/jpeg", original, 200, &added)
	if added.Added != 3 || added.Hashes.Quality < 50 {
		t.Fatalf("adding the image: %+v, want 3 entries (pdq, md5, sha256) of quality >= 50", added)
	}
	var hook struct {
		Secret string `json:"secret"`
	}
	admin.json("POST", "/v1/webhooks", map[string]any{"name": "trust-safety", "url": rv.URL}, 201, &hook)
	rv.setSecret(hook.Secret)
	var rule struct {
		ID      int64 `json:"id"`
		Version int   `json:"version"`
	}
	admin.json("POST", "/v1/rules", map[string]any{
		"name": "known: block and notify", "banks": []string{"known"},
		"actions": []map[string]any{{"kind": "notify", "webhook": "trust-safety"}, {"kind": "block"}},
	}, 201, &rule)
	if rule.ID == 0 || rule.Version != 1 {
		t.Fatalf("new rule: %+v", rule)
	}
	var key struct {
		Key string `json:"key"`
	}
	admin.json("POST", "/v1/keys", map[string]any{"role": "integrator", "name": "platform"}, 201, &key)
	platform := client{t, base, key.Key}

	// The altered copy matches; the unrelated picture does not.
	var ans struct {
		ScanID  string `json:"scan_id"`
		Blocked bool   `json:"blocked"`
		Matches []struct {
			Bank     string `json:"bank"`
			Signal   string `json:"signal"`
			Distance int    `json:"distance"`
		} `json:"matches"`
		Actions []struct {
			Kind string `json:"kind"`
		} `json:"actions"`
	}
	raw := platform.do("POST", "/v1/scan?content_id=post-1&account_id=acct-9&surface=post&visibility=public", "image/jpeg", altered, 200, &ans)
	if !ans.Blocked || len(ans.Matches) != 1 || ans.Matches[0].Bank != "known" || ans.Matches[0].Signal != "pdq" || ans.Matches[0].Distance > 31 {
		t.Fatalf("scan of the altered copy: %s", raw)
	}
	if len(ans.Actions) != 2 || ans.Actions[0].Kind != "block" || ans.Actions[1].Kind != "notify" {
		t.Errorf("actions %+v, want block then notify", ans.Actions)
	}
	// The integrator learns the bank and distance, never the list's values
	// or where the entry came from.
	for _, secret := range []string{added.Hashes.PDQ, `"review"`, `"source"`, `"category"`} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("scan answer reveals %s: %s", secret, raw)
		}
	}
	other, _ := photo(t, 99)
	platform.do("POST", "/v1/scan?content_id=post-2", "image/jpeg", other, 200, &ans)
	if ans.Blocked || len(ans.Matches) != 0 {
		t.Errorf("unrelated picture: blocked %v, matches %+v", ans.Blocked, ans.Matches)
	}
	// The integrator cannot read the banks.
	platform.do("GET", "/v1/banks", "", nil, 403, nil)
	platform.do("GET", "/v1/banks/known/export", "", nil, 403, nil)

	select {
	case <-rv.ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no webhook within 10 s (refused: %v)", rv.bad)
	}
	evs := rv.events()
	data, _ := evs[0]["data"].(map[string]any)
	if evs[0]["event"] != "scan.decision" || data["content_id"] != "post-1" || data["blocked"] != true || evs[0]["idempotency_key"] != evs[0]["id"] {
		t.Errorf("webhook event %v", evs[0])
	}

	var verify struct {
		OK       bool  `json:"ok"`
		Entries  int64 `json:"entries"`
		Problems []any `json:"problems"`
	}
	admin.do("GET", "/v1/audit/verify", "", nil, 200, &verify)
	if !verify.OK || verify.Entries < 6 {
		t.Errorf("audit verify: %+v", verify)
	}
	var log struct {
		Entries []struct {
			Action  string `json:"action"`
			Subject string `json:"subject"`
		} `json:"entries"`
	}
	admin.do("GET", "/v1/audit", "", nil, 200, &log)
	var actions []string
	for _, e := range log.Entries {
		actions = append(actions, e.Action)
	}
	want := "bank.create bank.entries webhook.update rule.create key.create scan.decision"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit actions %q, want %q", got, want)
	}
	if n := len(log.Entries); n > 0 && log.Entries[n-1].Subject != "post-1" {
		t.Errorf("scan.decision subject %q, want post-1", log.Entries[n-1].Subject)
	}
	// The scan is on record, with the rule that decided it.
	var rec struct {
		ContentID string `json:"content_id"`
		Decision  struct {
			Fired []struct {
				ID int64 `json:"id"`
			} `json:"fired"`
		} `json:"decision"`
	}
	admin.do("GET", "/v1/scans/"+ans.ScanID, "", nil, 200, nil)
	var first struct {
		ScanID string `json:"scan_id"`
	}
	json.Unmarshal(raw, &first)
	admin.do("GET", "/v1/scans/"+first.ScanID, "", nil, 200, &rec)
	if rec.ContentID != "post-1" || len(rec.Decision.Fired) != 1 || rec.Decision.Fired[0].ID != rule.ID {
		t.Errorf("scan record %+v", rec)
	}
	// Metrics count the scans, the match per bank, latencies and webhooks.
	metrics := func() string {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for _, want := range []string{
		`safeguard_scans_total{kind="scan",matched="true"} 1`,
		`safeguard_scans_total{kind="scan",matched="false"} 1`,
		`safeguard_matches_total{bank="known",signal="pdq"} 1`,
		`safeguard_actions_total{kind="block"} 1`,
		`safeguard_http_request_duration_seconds_bucket{route="POST /v1/scan",le="+Inf"} 2`,
		`safeguard_webhook_pending 0`,
		`safeguard_webhook_attempts_total{outcome="delivered",webhook="trust-safety"} 1`,
	} {
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(metrics(), want); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("/metrics lacks %s", want)
				break
			}
		}
	}
	// Disabling the rule stops it: the same scan is no longer blocked.
	admin.do("POST", fmt.Sprintf("/v1/rules/%d/disable", rule.ID), "", nil, 200, nil)
	platform.do("POST", "/v1/scan?content_id=post-3", "image/jpeg", altered, 200, &ans)
	if ans.Blocked || len(ans.Matches) != 1 {
		t.Errorf("after disabling the rule: blocked %v, matches %d", ans.Blocked, len(ans.Matches))
	}
}
