package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

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
