package ratelimit_test

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/ratelimit/ratelimittest"
)

func TestMemory(t *testing.T) {
	ratelimittest.TestLimiter(t, func(_ *testing.T, l ratelimit.Limit) ratelimit.Limiter { return &ratelimit.Memory{Limit: l} })
}
