package hma_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/hma"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
)

// TestKeyLimit checks that the HMA listener counts a key's requests as
// /v1 does: past the burst, 429 with Retry-After and the /v1 message, in
// HMA's {"message"} form, before the permission check; one key's refusal
// is not another's, and anonymous clients share a bucket of their role.
func TestKeyLimit(t *testing.T) {
	limits := &auth.Limiter{Buckets: &ratelimit.Memory{}, Default: auth.RateLimit{Burst: 3, PerSecond: 0.01}}
	e := newEnv(t, func(c *hma.Config, _ *env) { c.Limits, c.Anonymous = limits, auth.Admin })
	get := func(key, path string) (int, string, string) {
		t.Helper()
		r, _ := http.NewRequest("GET", e.url+path, nil)
		if key != "" {
			r.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Message string }
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), body.Message
	}
	allowed := func(who, key, path string) int {
		t.Helper()
		for n := range 10 {
			status, retry, msg := get(key, path)
			if status == http.StatusOK {
				continue
			}
			if status != http.StatusTooManyRequests {
				t.Fatalf("%s, request %d: %d %s", who, n+1, status, msg)
			}
			if secs, err := strconv.Atoi(retry); err != nil || secs < 1 || !strings.HasPrefix(msg, "too many requests with this key: try again in ") {
				t.Fatalf("%s, request %d: 429 with Retry-After %q and message %q", who, n+1, retry, msg)
			}
			return n
		}
		t.Fatalf("%s: 10 requests and no 429", who)
		return 0
	}
	if n := allowed("the admin key", e.keys[auth.Admin], "/c/banks"); n != 3 {
		t.Errorf("the admin key got %d requests, want the burst, 3", n)
	}
	// An auditor may not look up, yet its refused requests count: 403 until
	// its bucket is empty, then 429.
	for range 3 {
		if status, _, _ := get(e.keys[auth.Auditor], "/m/lookup?signal_type=pdq&signal=0"); status != http.StatusForbidden {
			t.Fatalf("an auditor's lookup: %d, want 403", status)
		}
	}
	if status, _, _ := get(e.keys[auth.Auditor], "/m/lookup?signal_type=pdq&signal=0"); status != http.StatusTooManyRequests {
		t.Errorf("an auditor's 4th lookup: %d, want 429 (refused requests count)", status)
	}
	if n := allowed("anonymous", "", "/c/banks"); n != 3 {
		t.Errorf("anonymous clients got %d requests, want the burst, 3", n)
	}
	// A key's own limit.
	plain, _, err := auth.CreateLimited(t.Context(), e.st, auth.Admin, "bulk", "test", &auth.RateLimit{Burst: 6, PerSecond: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if n := allowed("a key of its own limit", plain, "/c/banks"); n != 6 {
		t.Errorf("a key of burst 6 got %d requests", n)
	}
}
