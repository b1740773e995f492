package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/store/postgres"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// BenchmarkKeyLimit is what the per-key rate limit adds to a request
// through the whole middleware (authentication, limit, permission, a
// handler listing one key): "none" is without a limiter, "memory" the
// embedded store's, "postgres" the shared buckets, leased 64 tokens at a
// time, and "postgres, a take a request" without leasing (skipped without
// SAFEGUARD_TEST_POSTGRES).
//
//	SAFEGUARD_TEST_POSTGRES=postgres://... go test -run - -bench KeyLimit ./internal/api
func BenchmarkKeyLimit(b *testing.B) {
	ctx := context.Background()
	keys := new(authtest.Memory)
	plain, _, err := auth.Create(ctx, keys, auth.Admin, "bench", "bench")
	if err != nil {
		b.Fatal(err)
	}
	limit := auth.RateLimit{Burst: 1 << 30, PerSecond: 1 << 20} // never refuses
	run := func(b *testing.B, lim ratelimit.Keyed) {
		a := New(Config{Keys: keys, KeyLimits: &auth.Limiter{Buckets: lim, Default: limit}})
		req := httptest.NewRequest("GET", "/v1/keys", nil)
		req.Header.Set("Authorization", "Bearer "+plain)
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			a.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	}
	b.Run("none", func(b *testing.B) { run(b, nil) })
	b.Run("memory", func(b *testing.B) { run(b, ratelimit.NewKeyed("api.keys", nil)) })
	for _, c := range []struct {
		name  string
		batch int
	}{{"postgres", 0}, {"postgres, a take a request", 1}} {
		b.Run(c.name, func(b *testing.B) {
			st, err := postgres.Open(ctx, testkit.PostgresSchema(b, testkit.PostgresURL(b)))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			run(b, &ratelimit.Leased{Scope: "api.keys", Store: st, Batch: c.batch})
		})
	}
}

// downBuckets is a ratelimit.Keyed whose store is down.
type downBuckets struct{}

func (downBuckets) AllowWith(context.Context, string, ratelimit.Limit, time.Time) error {
	return errors.New("rate limit api.keys: connection refused")
}

// TestKeyLimitStoreDown checks that requests pass while the limiter's
// store is down, and that /metrics counts each one let through.
func TestKeyLimitStoreDown(t *testing.T) {
	keys := new(authtest.Memory)
	plain, _, err := auth.Create(t.Context(), keys, auth.Admin, "k", "test")
	if err != nil {
		t.Fatal(err)
	}
	limits := &auth.Limiter{Buckets: downBuckets{}, Log: slog.New(slog.DiscardHandler)}
	m := NewMetrics(nil)
	m.CountLimitErrors(limits)
	a := New(Config{Keys: keys, KeyLimits: limits, Metrics: m})
	for i := range 3 {
		req := httptest.NewRequest("GET", "/v1/keys", nil)
		req.Header.Set("Authorization", "Bearer "+plain)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("request %d with the limiter's store down: %d %s, want it let through", i+1, w.Code, w.Body)
		}
	}
	w := httptest.NewRecorder()
	a.Operator().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(w.Body.String(), "\nsafeguard_key_limit_errors_total 3\n") {
		t.Errorf("/metrics does not count the 3 requests let through:\n%s", w.Body)
	}
}
