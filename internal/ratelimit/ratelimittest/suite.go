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
