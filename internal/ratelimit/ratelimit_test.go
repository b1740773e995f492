package ratelimit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/ratelimit/ratelimittest"
)

func TestMemory(t *testing.T) {
	ratelimittest.TestLimiter(t, func(_ *testing.T, l ratelimit.Limit) ratelimit.Limiter { return &ratelimit.Memory{Limit: l} })
}

// BenchmarkMemory is the in-process limiter's cost a request, beside the
// store's (BenchmarkSharedRateLimit in internal/store/postgres).
func BenchmarkMemory(b *testing.B) {
	lim := &ratelimit.Memory{Limit: ratelimit.Limit{What: "tries", Burst: 10, Per: time.Hour}}
	now := time.Now()
	i := 0
	for b.Loop() {
		i++
		lim.Allow(b.Context(), fmt.Sprintf("198.51.%d.%d", i/250%250, i%250), now)
	}
}

func TestMemoryKeyed(t *testing.T) {
	ratelimittest.TestKeyed(t, func(*testing.T) ratelimit.Keyed { return ratelimit.NewKeyed("api.keys", nil) })
}

// buckets is a ratelimit.Buckets in a map, standing in for PostgreSQL's
// table to test Leased without a database (the real one runs the same
// suites in internal/store/postgres).
type buckets struct {
	mu    sync.Mutex
	rows  map[string]*[2]float64 // tokens, at (µs)
	takes int
	key   string // SharedKey's
}

func (s *buckets) TakeTokens(_ context.Context, scope, key string, l ratelimit.Limit, n int, now time.Time) (bool, float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.takes++
	if s.rows == nil {
		s.rows = map[string]*[2]float64{}
	}
	at := float64(now.UnixMicro())
	r := s.rows[scope+"/"+key]
	if r == nil {
		r = &[2]float64{float64(l.Burst), at}
		s.rows[scope+"/"+key] = r
	}
	tokens := min(float64(l.Burst), r[0]+float64(l.Burst)/float64(l.Per.Microseconds())*max(0, at-r[1]))
	if tokens < float64(n) {
		return false, tokens, nil
	}
	r[0], r[1] = tokens-float64(n), max(r[1], at)
	return true, r[0], nil
}

func (s *buckets) ReturnToken(context.Context, string, string, ratelimit.Limit) error { return nil }
func (s *buckets) SweepBuckets(context.Context, string, time.Time) (int64, error)     { return 0, nil }

func (s *buckets) SharedKey(_ context.Context, fresh string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == "" {
		s.key = fresh
	}
	return s.key, nil
}

func TestLeased(t *testing.T) {
	ratelimittest.TestKeyed(t, func(*testing.T) ratelimit.Keyed { return ratelimit.NewKeyed("api.keys", new(buckets)) })
	ratelimittest.TestKeyedShared(t, func(*testing.T) (a, b ratelimit.Keyed) {
		s := new(buckets)
		return ratelimit.NewKeyed("api.keys", s), ratelimit.NewKeyed("api.keys", s)
	})
}

// TestLeasedBatches checks what the lease is for: a busy key reaches the
// store once in a batch, not once a request.
func TestLeasedBatches(t *testing.T) {
	s := new(buckets)
	lim := &ratelimit.Leased{Scope: "api.keys", Store: s}
	l := ratelimit.Limit{What: "requests", Burst: 1000, Per: time.Second}
	now := time.Now()
	n := 4 * ratelimit.DefaultBatch
	for i := range n {
		if err := lim.AllowWith(t.Context(), "k", l, now.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if s.takes != 4 {
		t.Errorf("%d requests took from the store %d times, want 4", n, s.takes)
	}
	// After Hold the unspent tokens lapse: the next request takes afresh.
	if err := lim.AllowWith(t.Context(), "k", l, now.Add(ratelimit.DefaultHold+time.Second)); err != nil {
		t.Fatal(err)
	}
	if s.takes != 5 {
		t.Errorf("a request after the lease lapsed did not take from the store (%d takes)", s.takes)
	}
}

// BenchmarkKeyed is the per-key limiter's cost a request in process and
// leased over a store with no cost of its own (the round trip's share is
// BenchmarkKeyLimit in internal/store/postgres).
func BenchmarkKeyed(b *testing.B) {
	l := ratelimit.Limit{What: "requests", Burst: 1 << 30, Per: time.Second}
	for _, c := range []struct {
		name string
		lim  ratelimit.Keyed
	}{{"memory", ratelimit.NewKeyed("api.keys", nil)}, {"leased", ratelimit.NewKeyed("api.keys", new(buckets))}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			now := time.Now()
			for b.Loop() {
				if err := c.lim.AllowWith(b.Context(), "k_1234567890abcdef", l, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
