package hma_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/hma"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/signal"
	"github.com/safeguard-oss/safeguard/internal/store/storetest"
)

// BenchmarkLookup measures GET /m/lookup by PDQ hash through the handler
// (no network: the recorder) over a bank of 100,000 random hashes: a hit
// (one match, which costs a read of the entry and of the banks' ratios), a
// miss, and the matcher alone for the same hit, to show what HMA's layer
// adds. Each request authenticates its key against the store, except in
// hit-cached, which reads it through an auth.Cache as the server does.
func BenchmarkLookup(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	var cfg hma.Config
	e := newEnv(b, func(c *hma.Config, _ *env) { cfg = *c })
	keys := auth.NewCache(e.st)
	cfg.Authenticate = func(ctx context.Context, k string) (auth.Key, error) { return auth.Authenticate(ctx, keys, k) }
	cached, err := hma.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	e.createBank("BENCH")
	if _, err := e.st.AddEntries(ctx, "bench", storetest.Synthetic(n, 1), nil); err != nil {
		b.Fatal(err)
	}
	if err := e.matcher.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	var hit string
	for x, err := range storetest.Synthetic(1, 1) {
		if err != nil {
			b.Fatal(err)
		}
		hit = x.Value
	}
	run := func(b *testing.B, h http.Handler, signal string, want int) {
		path := "/m/lookup?signal_type=pdq&signal=" + signal
		for b.Loop() {
			r := httptest.NewRequest("GET", path, nil)
			r.Header.Set("Authorization", "Bearer "+e.keys[auth.Integrator])
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != want {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	}
	b.Run("hit", func(b *testing.B) { run(b, e.handler, hit, 200) })
	b.Run("hit-cached", func(b *testing.B) { run(b, cached, hit, 200) })
	b.Run("miss", func(b *testing.B) {
		run(b, e.handler, "5555555555555555555555555555555555555555555555555555555555555555", 200)
	})
	b.Run("matcher-only", func(b *testing.B) {
		h, err := pdq.ParseHex(hit)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			res, err := e.matcher.Match(ctx, match.Query{Set: signal.Set{PDQ: &h, Quality: -1}, Radius: -1})
			if err != nil || len(res.Matches) != 1 || res.Matches[0].Entry.Signal != bank.PDQ {
				b.Fatalf("%+v %v", res, err)
			}
		}
	})
}
