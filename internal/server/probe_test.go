package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCachedProbe checks that a probe runs at most once per period however
// often it is asked, concurrent askers included, and that its result (a
// fault, then the repair) is what everyone sees until the next run.
func TestCachedProbe(t *testing.T) {
	var runs atomic.Int32
	var fail atomic.Bool
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := &cachedProbe{every: 5 * time.Second, now: clock, probe: func(context.Context) error {
		runs.Add(1)
		advance(30 * time.Millisecond) // the probe's own time
		if fail.Load() {
			return errors.New("bucket gone")
		}
		return nil
	}}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.check(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("20 askers at once ran the probe %d times, want 1", n)
	}
	fail.Store(true)
	advance(4 * time.Second)
	if took, err := c.check(ctx); err != nil || took != 30*time.Millisecond || runs.Load() != 1 {
		t.Errorf("within the period: %v after %v (%d runs), want the cached success, 30ms, 1 run", err, took, runs.Load())
	}
	advance(time.Second)
	if _, err := c.check(ctx); err == nil || runs.Load() != 2 {
		t.Errorf("after the period, with the probe failing: %v (%d runs), want the failure from a second run", err, runs.Load())
	}
	fail.Store(false)
	if _, err := c.check(ctx); err == nil {
		t.Error("the failure did not stand for its period")
	}
	advance(5 * time.Second)
	if _, err := c.check(ctx); err != nil || runs.Load() != 3 {
		t.Errorf("after the repair and a period: %v (%d runs)", err, runs.Load())
	}
}
