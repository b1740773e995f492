package webhook

import (
	"math/rand/v2"
	"time"
)

// Retry says how often and how patiently a delivery is attempted. The zero
// value means the defaults: 8 attempts over about an hour.
type Retry struct {
	// MaxAttempts is the number of attempts, the first included, before a
	// delivery becomes a dead letter. Default 8.
	MaxAttempts int
	// BaseDelay is the wait after the first failure; each later wait
	// doubles, up to MaxDelay. Default 30s, which with the defaults makes
	// waits of about 30s, 1m, 2m, 4m, 8m, 16m and 32m: 63 minutes in all.
	BaseDelay time.Duration
	// MaxDelay caps one wait, and a Retry-After a receiver asks for.
	// Default 1h.
	MaxDelay time.Duration
	// Jitter spreads each wait uniformly over ±Jitter of itself (0 to 1),
	// so that deliveries that failed together (a receiver's outage) do not
	// all come back at the same instant. Default 0.2; negative means none.
	Jitter float64
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 8
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 30 * time.Second
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = time.Hour
	}
	switch {
	case r.Jitter == 0:
		r.Jitter = 0.2
	case r.Jitter > 1:
		r.Jitter = 1
	}
	return r
}

// Delay returns the wait after failed attempt number attempt (from 1).
// rnd returns a number in [0, 1); nil means math/rand/v2.
func (r Retry) Delay(attempt int, rnd func() float64) time.Duration {
	r = r.withDefaults()
	d := r.BaseDelay
	for i := 1; i < attempt && d < r.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, r.MaxDelay)
	if r.Jitter > 0 {
		if rnd == nil {
			rnd = rand.Float64
		}
		d += time.Duration((2*rnd() - 1) * r.Jitter * float64(d))
	}
	return d
}
