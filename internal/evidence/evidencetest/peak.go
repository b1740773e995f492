package evidencetest

import (
	"runtime"
	"runtime/metrics"
	"time"
)

// Peak runs f and returns the most heap (bytes in live and not yet swept
// objects) above what was in use before it, sampled every 200 µs while f
// runs: what a benchmark of a streaming path reports to show its memory
// is bounded by its buffers, not by the size of what it streams.
func Peak(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	done, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var m uint64
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			m = max(m, read())
			select {
			case <-done:
				peak <- max(m, read())
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	m := <-peak
	if m < base {
		return 0
	}
	return m - base
}
