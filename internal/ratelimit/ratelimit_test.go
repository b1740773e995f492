package ratelimit_test

import (
	"fmt"
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
