package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/safeguard-oss/safeguard/internal/ratelimit"
)

// DefaultLimit is the rate limit of a key without one of its own: above
// what a 2-core node serves (~600 scans or a few thousand lookups a
// second, docs/benchmarks.md), so one integration never meets it; there to
// stop a runaway client or a leaked key from taking several nodes'
// capacity, not to meter normal use. A key that needs more gets its own
// (POST /v1/keys, apikey create --burst --rate, apikey limit).
var DefaultLimit = RateLimit{Burst: 10_000, PerSecond: 2_000}

// DefaultLogEvery is how often a Limiter whose store fails says so.
const DefaultLogEvery = time.Minute

// Limiter is the per-key rate limit every entry point that authenticates
// a key passes: the /v1 API, the HMA listener and the console count one
// key's requests against one bucket, and refuse them with the same
// *ratelimit.LimitError ("too many requests with this key: try again in
// 3s"), which each answers 429 with Retry-After. The zero value limits
// nothing.
//
// A failure of the buckets' store lets the request through: a platform's
// scan must not be refused because a counter could not be read (the
// store's fault, if lasting, fails the request anyway). Such failures are
// counted (Errors, for /metrics) and logged once per LogEvery with how
// many there were, not once a request: a database down under a thousand
// requests a second would otherwise bury the log.
type Limiter struct {
	// Buckets counts the keys' requests (ratelimit.NewKeyed: on
	// PostgreSQL buckets every server shares); nil limits nothing.
	Buckets ratelimit.Keyed
	// Default is the limit of a key without one of its own; DefaultLimit
	// if zero.
	Default  RateLimit
	Log      *slog.Logger     // nil: slog.Default()
	LogEvery time.Duration    // DefaultLogEvery if 0
	Now      func() time.Time // time.Now if nil; tests move it

	errors atomic.Uint64

	mu       sync.Mutex
	unlogged int       // failures since the last one logged
	logged   time.Time // when the last was logged
}

// Allow takes a token of k's bucket, of its own limit or the default, or
// returns the *ratelimit.LimitError saying when there will be one. It
// takes none for a request of k that one was already taken for (Counted):
// the console's page, which calls the API in process, costs one.
func (l *Limiter) Allow(ctx context.Context, k Key) error {
	if l == nil || l.Buckets == nil || counted(ctx, k.ID) {
		return nil
	}
	rl := l.Default
	if rl == (RateLimit{}) {
		rl = DefaultLimit
	}
	if k.Limit != nil {
		rl = *k.Limit
	}
	lim := ratelimit.Limit{What: "requests with this key", Burst: rl.Burst,
		Per: time.Duration(float64(rl.Burst) / rl.PerSecond * float64(time.Second))}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	err := l.Buckets.AllowWith(ctx, k.ID, lim, now())
	if le := (*ratelimit.LimitError)(nil); err == nil || errors.As(err, &le) {
		return err
	}
	l.failed(k.ID, err, now())
	return nil
}

// failed counts a failure of the store and logs it if none was logged in
// the last LogEvery, with the failures since that one. A last few after
// the store recovered are logged with the next failure, if ever; Errors
// has them all.
func (l *Limiter) failed(id string, err error, now time.Time) {
	l.errors.Add(1)
	every := l.LogEvery
	if every <= 0 {
		every = DefaultLogEvery
	}
	l.mu.Lock()
	l.unlogged++
	n := l.unlogged
	due := l.logged.IsZero() || now.Sub(l.logged) >= every
	if due {
		l.unlogged, l.logged = 0, now
	}
	l.mu.Unlock()
	if !due {
		return
	}
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	// failures: since the last of these lines, at most every apart.
	log.Warn("rate limit not counted: its store failed, so requests pass unlimited", "failures", n,
		"logged_every", every.String(), "last_key", id, "err", err)
}

// Errors is how many times the store failed (and a request passed
// uncounted) since the Limiter was made.
func (l *Limiter) Errors() uint64 {
	if l == nil {
		return 0
	}
	return l.errors.Load()
}

type countedKey struct{}

// Counted returns ctx marking that the request of key id it carries was
// counted already: Allow takes no token for it again. Only this process
// can set it, so a client cannot claim it.
func Counted(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, countedKey{}, id)
}

func counted(ctx context.Context, id string) bool {
	v, _ := ctx.Value(countedKey{}).(string)
	return v != "" && v == id
}
