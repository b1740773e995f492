// Package ratelimittest checks a ratelimit.Limiter.
package ratelimittest

import (
	"errors"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/ratelimit"
)

// TestLimiter checks the token-bucket contract. newLimiter returns a
// fresh limiter of l each call (its keys not used before).
func TestLimiter(t *testing.T, newLimiter func(t *testing.T, l ratelimit.Limit) ratelimit.Limiter) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	l := ratelimit.Limit{What: "tries", Burst: 3, Per: 3 * time.Minute} // a token a minute
	t.Run("Burst", func(t *testing.T) {
		lim, ctx := newLimiter(t, l), t.Context()
		for i := range 3 {
			if err := lim.Allow(ctx, "a", t0); err != nil {
				t.Fatalf("try %d of a burst of 3: %v", i+1, err)
			}
		}
		err := lim.Allow(ctx, "a", t0.Add(time.Second))
		var le *ratelimit.LimitError
		if !errors.As(err, &le) || le.What != "tries" || le.RetryAfter < 58*time.Second || le.RetryAfter > time.Minute {
			t.Fatalf("fourth try: %v, want a LimitError with about a minute to wait", err)
		}
		if err := lim.Allow(ctx, "b", t0); err != nil {
			t.Errorf("another key: %v", err)
		}
		if err := lim.Allow(ctx, "a", t0.Add(61*time.Second)); err != nil {
			t.Errorf("a minute later (one token refilled): %v", err)
		}
		if err := lim.Allow(ctx, "a", t0.Add(62*time.Second)); err == nil {
			t.Error("a second token a second after the refill")
		}
		if err := lim.Allow(ctx, "a", t0.Add(time.Hour)); err != nil {
			t.Errorf("an hour later: %v", err)
		}
	})
	t.Run("Refund", func(t *testing.T) {
		lim, ctx := newLimiter(t, l), t.Context()
		for range 3 {
			if err := lim.Allow(ctx, "a", t0); err != nil {
				t.Fatal(err)
			}
		}
		if err := lim.Refund(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if err := lim.Allow(ctx, "a", t0); err != nil {
			t.Errorf("after a refund: %v", err)
		}
		if err := lim.Allow(ctx, "a", t0); err == nil {
			t.Error("a refund gave back more than one token")
		}
		if err := lim.Refund(ctx, "never"); err != nil {
			t.Errorf("refund of a key never seen: %v", err)
		}
	})
}

// TestKeyed checks a ratelimit.Keyed: each key counted by the limit its
// request brings. newKeyed returns a fresh one each call.
func TestKeyed(t *testing.T, newKeyed func(t *testing.T) ratelimit.Keyed) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	small := ratelimit.Limit{What: "requests with this key", Burst: 2, Per: 2 * time.Minute}
	large := ratelimit.Limit{What: "requests with this key", Burst: 5, Per: 5 * time.Minute}
	lim, ctx := newKeyed(t), t.Context()
	allowed := func(key string, l ratelimit.Limit, at time.Time) int {
		n := 0
		for range 20 {
			if err := lim.AllowWith(ctx, key, l, at); err != nil {
				var le *ratelimit.LimitError
				if !errors.As(err, &le) || le.RetryAfter < time.Second || le.RetryAfter > time.Minute {
					t.Fatalf("key %s: %v, want a LimitError of at most a minute", key, err)
				}
				break
			}
			n++
		}
		return n
	}
	if n := allowed("small", small, t0); n != 2 {
		t.Errorf("a key of burst 2 got %d requests at once", n)
	}
	if n := allowed("large", large, t0); n != 5 {
		t.Errorf("a key of burst 5 got %d requests at once", n)
	}
	if n := allowed("small", small, t0.Add(61*time.Second)); n != 1 {
		t.Errorf("a key refilling a token a minute got %d a minute later", n)
	}
}

// TestKeyedShared checks that two Keyed over one store (two servers on one
// database) count against one bucket: newPair returns two limiters
// sharing buckets, their keys not used before.
func TestKeyedShared(t *testing.T, newPair func(t *testing.T) (a, b ratelimit.Keyed)) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	ctx := t.Context()
	for _, l := range []ratelimit.Limit{
		{What: "requests", Burst: 3, Per: 3 * time.Minute}, // taken one token at a time
		{What: "requests", Burst: 160, Per: time.Second},   // in batches
	} {
		a, b := newPair(t)
		total := 0
		refused := [2]bool{}
		for i := 0; !refused[0] || !refused[1]; i++ {
			if i > 10*l.Burst {
				t.Fatalf("burst %d: still allowing after %d requests", l.Burst, i)
			}
			lim := []ratelimit.Keyed{a, b}[i%2]
			if err := lim.AllowWith(ctx, "k", l, t0); err != nil {
				refused[i%2] = true
				continue
			}
			total++
		}
		if total != l.Burst {
			t.Errorf("burst %d: two servers allowed %d requests at once together, want %d", l.Burst, total, l.Burst)
		}
		// Tokens a server took and did not spend lapse; the bucket refills.
		if err := a.AllowWith(ctx, "k", l, t0.Add(l.Per)); err != nil {
			t.Errorf("burst %d: a full period later: %v", l.Burst, err)
		}
	}
}
