package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
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
