package media

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// DefaultBudget is the decode memory a server admits at once unless
// configured: 1 GiB, enough for a dozen ordinary photographs decoding
// together (each a few megabytes, since JPEGs are scaled and sampled) or one
// image at the 100 MP limit.
const DefaultBudget = 1 << 30

// Budget bounds the memory that decodes hold at once across a server. Each
// decode acquires its estimate (Config.Memory) before it allocates and
// releases it when done; a decode that would take the total over the budget
// waits, in arrival order, and one whose own estimate is more than the
// whole budget is refused at once. It is safe for concurrent use.
type Budget struct {
	total int64

	mu        sync.Mutex
	used      int64
	waiters   []*waiter        // first come, first served: a large decode is not starved by small ones
	held      map[string]int64 // by holder, what AcquireShare took and has not given back
	freed     int64            // bytes released since memory was last returned to the system
	last      time.Time        // when memory was last returned
	scheduled bool             // a return is due once returnEvery has passed
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when admitted
}

// NewBudget returns a budget of total bytes (DefaultBudget if total <= 0).
func NewBudget(total int64) *Budget {
	if total <= 0 {
		total = DefaultBudget
	}
	return &Budget{total: total}
}

// Total is the size of the budget in bytes.
func (b *Budget) Total() int64 { return b.total }

// Acquire takes n bytes of the budget for one decode, waiting until they
// are free or ctx is done. The returned release gives them back; it must
// be called exactly once. When n alone is more than the whole budget the
// error is an *Error of Kind OverBudget (name names the image in it), so a
// caller can refuse the image at once, saying why; when ctx ends first it
// is ctx's error.
func (b *Budget) Acquire(ctx context.Context, name string, n int64) (release func(), err error) {
	if n > b.total {
		return nil, &Error{Name: name, Kind: OverBudget,
			Err: fmt.Errorf("decoding it needs about %d MiB, more than the whole %d MiB decode memory budget", mib(n), mib(b.total))}
	}
	n = max(n, 1)
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.total {
		b.used += n
		b.mu.Unlock()
		return b.releaser(n), nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return b.releaser(n), nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.ready: // admitted meanwhile: give it back
			b.release(n)
		default:
			for i, o := range b.waiters {
				if o == w {
					b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
					break
				}
			}
			b.admit() // the next in line may fit now that this one left
		}
		return nil, ctx.Err()
	}
}

// AcquireShare is Acquire for one of many holders sharing the budget (the
// API keys whose uploads a body budget admits): a holder may have at most
// half of it at once, so that one client's uploads, sent slowly (each held
// until it falls under the server's minimum body rate, internal/bodyrate,
// or for up to 5 minutes at that rate), cannot take the whole
// budget and keep every other client's waiting behind them. Past its share
// it is refused at once with an *Error of Kind Busy naming the holder,
// unless it holds nothing: one body alone always gets its turn.
func (b *Budget) AcquireShare(ctx context.Context, holder, name string, n int64) (release func(), err error) {
	n = max(n, 1)
	b.mu.Lock()
	h := b.held[holder]
	if h > 0 && h+n > b.total/2 {
		b.mu.Unlock()
		return nil, &Error{Name: name, Kind: Busy,
			Err: fmt.Errorf("%s already has %d MiB of bodies being read, and may have half the %d MiB budget at once: send it when one is done", holder, mib(h), mib(b.total))}
	}
	if b.held == nil {
		b.held = map[string]int64{}
	}
	b.held[holder] = h + n // counted while it waits, too
	b.mu.Unlock()
	unhold := func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.held[holder] -= n; b.held[holder] <= 0 {
			delete(b.held, holder)
		}
	}
	got, err := b.Acquire(ctx, name, n)
	if err != nil {
		unhold()
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { got(); unhold() }) }, nil
}

func (b *Budget) releaser(n int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.release(n)
			b.mu.Unlock()
		})
	}
}

// returnAbove and returnEvery decide when memory is handed back to the
// system: once no decode holds any and more than returnAbove was released
// since the last time (one bomb, or many large bodies), at most every
// returnEvery; a return the interval holds back is made when it ends. Go's
// collector would keep the freed pages for reuse, and a bomb's few hundred
// megabytes would stay resident long after it was refused or hashed.
const (
	returnAbove = 64 << 20
	returnEvery = 2 * time.Second
)

// release gives back n bytes and admits the waiters that now fit. b.mu is
// held.
func (b *Budget) release(n int64) {
	b.used -= n
	b.freed += n
	b.admit()
	b.returnMemory()
}

// returnMemory returns memory to the system, or schedules it, when nothing
// is held and enough was freed. b.mu is held.
func (b *Budget) returnMemory() {
	if b.used != 0 || b.freed <= returnAbove || b.scheduled {
		return
	}
	if wait := returnEvery - time.Since(b.last); wait > 0 {
		b.scheduled = true
		time.AfterFunc(wait, func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.scheduled = false
			b.returnMemory()
		})
		return
	}
	b.freed, b.last = 0, time.Now()
	go debug.FreeOSMemory()
}

// admit lets in waiters from the front of the line while they fit. b.mu is
// held.
func (b *Budget) admit() {
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.total {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.used += w.n
		close(w.ready)
	}
}

func mib(n int64) int64 { return (n + 1<<20 - 1) >> 20 }

// SetMemoryLimit sets the Go runtime's soft memory limit for a server
// whose decodes are bounded by budget: what the process holds now (the
// index, caches: call it once they are loaded) plus the budget plus a
// quarter for the collector's headroom and buffers of requests in flight.
// Near the limit the collector runs more often instead of letting garbage
// from finished decodes pile up beside new ones. A GOMEMLIMIT set in the
// environment is left as the operator set it. It returns the limit in
// force.
func SetMemoryLimit(budget *Budget) int64 {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return debug.SetMemoryLimit(-1)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	limit := int64(ms.HeapInuse) + budget.Total()
	limit += limit / 4
	debug.SetMemoryLimit(limit)
	return limit
}
