package server

import (
	"context"
	"sync"
	"time"
)

// DefaultProbeEvery is how long a health probe's answer stands: /readyz
// may be asked every second by each of several load balancers and
// orchestrators, and a probe costs a request to the bucket (or a synced
// 64 KiB write to a directory); a fault is seen within this, and so is its
// repair.
const DefaultProbeEvery = 5 * time.Second

// cachedProbe runs a health probe at most once per every and answers
// everyone asking in between, /readyz and the operations metrics alike,
// with its last result. Callers that come while it runs wait for that one
// run rather than start their own.
type cachedProbe struct {
	probe func(context.Context) error
	every time.Duration
	now   func() time.Time // time.Now if nil

	mu   sync.Mutex
	at   time.Time     // when the last run ended; zero: never ran
	err  error         // its result
	took time.Duration // how long it took
}

// check returns the last run's duration and result, running the probe
// first if that result is older than every.
func (c *cachedProbe) check(ctx context.Context) (time.Duration, error) {
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || now().Sub(c.at) >= c.every {
		start := now()
		c.err = c.probe(ctx)
		c.at = now()
		c.took = c.at.Sub(start)
	}
	return c.took, c.err
}
