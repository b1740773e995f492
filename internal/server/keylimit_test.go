package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// getKeyed sends GET path with key and returns the status, the Retry-After
// header and the error code of the body, if any.
func getKeyed(t *testing.T, base, key, path string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), body.Error.Code
}

// allowed counts the requests of key answered before the first 429, and
// checks the 429.
func allowed(t *testing.T, base, key string, most int) int {
	t.Helper()
	for n := range most + 1 {
		status, retry, code := getKeyed(t, base, key, "/v1/banks")
		if status == http.StatusOK {
			continue
		}
		secs, err := strconv.Atoi(retry)
		if status != http.StatusTooManyRequests || code != "rate_limited" || err != nil || secs < 1 {
			t.Fatalf("request %d: %d %q, Retry-After %q; want 429 rate_limited with Retry-After in seconds", n+1, status, code, retry)
		}
		return n
	}
	t.Fatalf("%d requests and no 429", most+1)
	return 0
}

// TestKeyLimits checks the per-key rate limit on the embedded store: the
// server's default for a key without its own, a key's own limit set where
// it is created, and bad limits refused.
func TestKeyLimits(t *testing.T) {
	cfg, st := openSQLite(t)
	cfg.KeyLimit = auth.RateLimit{Burst: 5, PerSecond: 0.01}
	base, admin := start(t, cfg, st)
	ad := client{t, base, admin}
	var k struct {
		Key   string          `json:"key"`
		Limit *auth.RateLimit `json:"rate_limit"`
	}
	ad.json("POST", "/v1/keys", map[string]any{"role": "admin", "name": "backfill", "rate_limit": map[string]any{"burst": 8, "per_second": 0.01}}, 201, &k)
	if k.Limit == nil || k.Limit.Burst != 8 {
		t.Errorf("the new key's answer says its limit is %v", k.Limit)
	}
	ad.json("POST", "/v1/keys", map[string]any{"role": "integrator", "name": "bad", "rate_limit": map[string]any{"burst": 0, "per_second": 1}}, 400, nil)
	plain, _, err := auth.Create(context.Background(), st, auth.Admin, "default", "test")
	if err != nil {
		t.Fatal(err)
	}
	if n := allowed(t, base, plain, 20); n != 5 {
		t.Errorf("a key of the default limit (burst 5) got %d requests", n)
	}
	if n := allowed(t, base, k.Key, 20); n != 8 {
		t.Errorf("a key of its own limit (burst 8) got %d requests", n)
	}
	// The admin key made two requests (the refused one counts too).
	if n := allowed(t, base, admin, 20); n != 3 {
		t.Errorf("the admin key, after 2 requests, got %d more of 5", n)
	}
}

// TestKeyLimitsShared runs two servers on one PostgreSQL database: a
// key's requests spread over both count against one bucket, so together
// they get the burst once (plus the refill while the test runs), not once
// per server.
func TestKeyLimitsShared(t *testing.T) {
	url := testkit.PostgresURL(t)
	ctx := context.Background()
	// 20 a second: batches of 20 tokens (ratelimit.Leased), so the
	// servers really hold tokens the other cannot spend.
	limit := auth.RateLimit{Burst: 400, PerSecond: 20}
	var bases []string
	var key string
	for i := range 2 {
		cfg := server.Config{Data: t.TempDir(), DatabaseURL: url, KeyLimit: limit}
		st, err := server.OpenStores(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if key, _, err = auth.Create(ctx, st, auth.Admin, "spread", "test"); err != nil {
				t.Fatal(err)
			}
		}
		base, _ := start(t, cfg, st)
		bases = append(bases, base)
	}
	begin := time.Now()
	total, refused := 0, [2]bool{}
	for i := 0; !refused[0] || !refused[1]; i++ {
		if i > 4*limit.Burst {
			t.Fatalf("%d requests and not refused by both servers", i)
		}
		status, _, _ := getKeyed(t, bases[i%2], key, "/v1/banks")
		switch status {
		case http.StatusOK:
			total++
		case http.StatusTooManyRequests:
			refused[i%2] = true
		default:
			t.Fatalf("request %d: status %d", i, status)
		}
	}
	elapsed := time.Since(begin)
	most := limit.Burst + int(limit.PerSecond*elapsed.Seconds()) + 1
	t.Logf("two servers allowed %d requests of one key in %v (burst %d, %g/s)", total, elapsed.Round(time.Millisecond), limit.Burst, limit.PerSecond)
	if total < limit.Burst-2*20 || total > most {
		t.Errorf("two servers allowed %d requests of one key, want %d..%d: the bucket is not shared", total, limit.Burst-2*20, most)
	}
}

// TestKeyLimitsEveryEntryPoint checks that /v1, the HMA listener and the
// console count one key's requests against one bucket, and refuse them
// alike once it is empty: 429 with Retry-After and the same message. The
// limiter's store-error counter is on /metrics.
func TestKeyLimitsEveryEntryPoint(t *testing.T) {
	cfg, st := openSQLite(t)
	cfg.KeyLimit = auth.RateLimit{Burst: 9, PerSecond: 0.001}
	cfg.HMAListen = "127.0.0.1:0"
	srv, base, _ := startServer(t, cfg, st)
	hmaBase := "http://" + srv.HMAAddr()
	key, _, err := auth.Create(context.Background(), st, auth.Admin, "everywhere", "test")
	if err != nil {
		t.Fatal(err)
	}
	send := func(url string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
	}
	for i := range 3 {
		if status, _, body := send(base + "/v1/banks"); status != http.StatusOK {
			t.Fatalf("/v1 request %d: %d %s", i+1, status, body)
		}
		if status, _, body := send(hmaBase + "/c/banks"); status != http.StatusOK {
			t.Fatalf("HMA request %d: %d %s", i+1, status, body)
		}
	}
	// Signing in to the console and its first page: two more.
	br := newBrowser(t, []string{base})
	_, _, page := br.send(0, "GET", "/console/signin", nil)
	if code, loc, body := br.send(0, "POST", "/console/signin", url.Values{"key": {key}, "csrf": {csrfOf(t, page)}, "next": {"/console/"}}); code != http.StatusSeeOther {
		t.Fatalf("console sign-in: %d %s %.300s", code, loc, body)
	}
	// An admin's first page sends them on to the admin pages: counted.
	if code, _, body := br.send(0, "GET", "/console/", nil); code != http.StatusOK && code != http.StatusSeeOther {
		t.Fatalf("console page: %d %.300s", code, body)
	}
	if status, _, body := send(hmaBase + "/c/banks"); status != http.StatusOK {
		t.Fatalf("the 9th request, of 9: %d %s", status, body)
	}
	const msg = "too many requests with this key: try again in "
	for name, url := range map[string]string{"/v1": base + "/v1/banks", "HMA": hmaBase + "/c/banks"} {
		status, retry, body := send(url)
		if secs, err := strconv.Atoi(retry); status != http.StatusTooManyRequests || err != nil || secs < 1 || !strings.Contains(body, msg) {
			t.Errorf("%s after the burst: %d, Retry-After %q, %s; want 429 %q", name, status, retry, body, msg)
		}
	}
	req, _ := http.NewRequest("GET", base+"/console/", nil)
	resp, err := br.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || err != nil || secs < 1 || !strings.Contains(string(body), msg) {
		t.Errorf("console after the burst: %d, Retry-After %q; want 429 saying %q", resp.StatusCode, resp.Header.Get("Retry-After"), msg)
	}

	status, _, metrics := send(base + "/metrics")
	if status != http.StatusOK || !strings.Contains(metrics, "\nsafeguard_key_limit_errors_total 0\n") {
		t.Errorf("/metrics (%d) has no safeguard_key_limit_errors_total 0", status)
	}
}

// TestKeyLimitChanged changes a key's limit (as safeguard apikey limit
// does) under a running server: it holds without a restart, within the
// API's key cache time (5 s) on SQLite and at once, by the store's
// notification, on PostgreSQL.
func TestKeyLimitChanged(t *testing.T) {
	for _, c := range []struct {
		name   string
		open   func(*testing.T) (server.Config, store.Store)
		within time.Duration
	}{{"sqlite", openSQLite, 7 * time.Second}, {"postgres", openPostgres, time.Second}} {
		t.Run(c.name, func(t *testing.T) {
			cfg, st := c.open(t)
			ctx := context.Background()
			base, _ := start(t, cfg, st)
			key, k, err := auth.CreateLimited(ctx, st, auth.Admin, "changing", "test", &auth.RateLimit{Burst: 100_000, PerSecond: 0.01})
			if err != nil {
				t.Fatal(err)
			}
			if status, _, _ := getKeyed(t, base, key, "/v1/banks"); status != http.StatusOK {
				t.Fatalf("before the change: %d", status)
			}
			if err := auth.SetLimit(ctx, st, k.ID, &auth.RateLimit{Burst: 3, PerSecond: 0.01}); err != nil {
				t.Fatal(err)
			}
			changed := time.Now()
			for {
				status, _, _ := getKeyed(t, base, key, "/v1/banks")
				if status == http.StatusTooManyRequests {
					break
				}
				if status != http.StatusOK {
					t.Fatalf("status %d", status)
				}
				if time.Since(changed) > c.within {
					t.Fatalf("the key's new limit (burst 3) not applied %v after its change", c.within)
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("the new limit held %v after the change", time.Since(changed).Round(time.Millisecond))
		})
	}
}
