package console_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/console"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
)

// TestKeyLimit checks that the console counts a signed-in key's pages
// against the bucket its API requests count against, a page one however
// many API calls it makes, and answers 429 with Retry-After and the /v1
// message when it is empty; sign-in with an exhausted key is refused the
// same way.
func TestKeyLimit(t *testing.T) {
	limits := &auth.Limiter{Buckets: &ratelimit.Memory{}, Default: auth.RateLimit{Burst: 6, PerSecond: 0.001}}
	w := newWorld(t, func(c *api.Config) { c.KeyLimits = limits }, func(c *console.Config) { c.Limits = limits })
	b := w.browser()
	// The sign-in and the queues page it leads to: two of six.
	if a := b.signIn(auth.Reviewer); a.status != http.StatusOK {
		t.Fatalf("sign-in: %d", a.status)
	}
	refused := func(a answer) bool {
		t.Helper()
		if a.status != http.StatusTooManyRequests {
			return false
		}
		if secs, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || secs < 1 || !strings.Contains(a.body, "too many requests with this key: try again in ") {
			t.Fatalf("429 with Retry-After %q and page %s", a.header.Get("Retry-After"), a.body)
		}
		return true
	}
	n := 0
	for ; n < 10; n++ {
		a := b.get("/console/")
		if refused(a) {
			break
		}
		if a.status != http.StatusOK {
			t.Fatalf("page %d: %d", n+1, a.status)
		}
	}
	if n != 4 {
		t.Errorf("after sign-in the key got %d pages, want 4 of its burst of 6 (each page one, not one per API call)", n)
	}
	// The same bucket: the key's API requests are refused too.
	req, _ := http.NewRequest("GET", w.srv.URL+"/v1/queues", nil)
	req.Header.Set("Authorization", "Bearer "+w.secrets[auth.Reviewer])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the key's API request after its console pages took the burst: %d, want 429", res.StatusCode)
	}

	// A key whose bucket its API requests emptied cannot sign in.
	for range 6 {
		req, _ := http.NewRequest("GET", w.srv.URL+"/v1/queues", nil)
		req.Header.Set("Authorization", "Bearer "+w.secrets[auth.Auditor])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if a := w.browser().signIn(auth.Auditor); !refused(a) {
		t.Errorf("sign-in with an exhausted key: %d, want 429", a.status)
	}
}
