// Package ratelimit holds the token buckets that bound what clients may
// ask (Report Remove's submissions and checks, each API key's requests):
// in the process (Memory) for one server, or in the store (Shared, Leased)
// where several servers share a PostgreSQL database, so that a client
// behind a non-sticky load balancer gets the budget once, not once per
// server.
package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Limit is a token bucket's shape: Burst at once, refilled at Burst per
// Per. What names what is counted, for the error: "submissions from this
// address".
type Limit struct {
	What  string
	Burst int
	Per   time.Duration
}

// rate is the refill in tokens per microsecond.
func (l Limit) rate() float64 { return float64(l.Burst) / float64(l.Per.Microseconds()) }

// wait is how long until a bucket holding tokens has one.
func (l Limit) refused(tokens float64) *LimitError {
	wait := time.Duration((1-tokens)/l.rate()) * time.Microsecond
	return &LimitError{What: l.What, RetryAfter: max(wait, time.Second)}
}

// LimitError is a refusal by a rate limit: try again after RetryAfter.
type LimitError struct {
	What       string // "submissions from this address", ...
	RetryAfter time.Duration
}

// Header is RetryAfter as the Retry-After header every entry point that
// refuses a request sends says it.
func (e *LimitError) Header() string { return RetryAfter(e.RetryAfter) }

// RetryAfter is d as a Retry-After header says it: whole seconds, rounded
// up (a client told 0 would retry at once).
func RetryAfter(d time.Duration) string { return strconv.Itoa(int(math.Ceil(d.Seconds()))) }

func (e *LimitError) Error() string {
	return fmt.Sprintf("too many %s: try again in %s", e.What, e.RetryAfter.Round(time.Second))
}

// Limiter counts requests per key.
type Limiter interface {
	// Allow takes a token for key at time now, or returns a *LimitError
	// saying when one will be there (or the store's failure).
	Allow(ctx context.Context, key string, now time.Time) error
	// Refund gives back a token Allow took, for a request that turned out
	// not to count.
	Refund(ctx context.Context, key string) error
}

// Buckets keeps token buckets where every server counts against them: one
// row per scope and key, taken from by one statement. PostgreSQL
// implements it.
type Buckets interface {
	// TakeTokens refills the bucket to now and takes n tokens if it holds
	// n: ok says it did; tokens is what the bucket holds after (or, when
	// refused, holds).
	TakeTokens(ctx context.Context, scope, key string, l Limit, n int, now time.Time) (ok bool, tokens float64, err error)
	ReturnToken(ctx context.Context, scope, key string, l Limit) error
	// SweepBuckets deletes the buckets of scope untouched since before:
	// full again, and so the same as absent.
	SweepBuckets(ctx context.Context, scope string, before time.Time) (int64, error)
	// SharedKey keeps fresh (a key in ParseKey's form) unless a key is
	// kept already, and returns the kept one: servers that were given no
	// Shared.Key still store clients' keys under the same one.
	SharedKey(ctx context.Context, fresh string) (string, error)
}

// New returns a Limiter of l: in the store b under scope, its keys stored
// as their HMAC under key (see Shared.Key), or in this process if b is nil
// (key unused).
func New(l Limit, scope string, b Buckets, key []byte) Limiter {
	if b == nil {
		return &Memory{Limit: l}
	}
	return &Shared{Limit: l, Scope: scope, Store: b, Key: key}
}

// Shared is a Limiter whose buckets are in a store every server shares.
type Shared struct {
	Limit
	Scope string // the buckets' namespace in the store: "selfreport.submissions"
	Store Buckets
	// Key is the deployment's secret under which keys (clients' addresses)
	// are stored, as HMAC-SHA-256: a reader of the table cannot find an
	// address by trying all 2^32 of IPv4 without it. Every server sharing
	// Store must have the same Key, or each counts on its own. At least
	// MinKeySize bytes; without it Allow and Refund fail.
	Key []byte
	n   atomic.Uint64
}

// MinKeySize is the least size of a Shared limiter's Key, in bytes.
const MinKeySize = 32

// ParseKey reads a Shared limiter's key: the hex of at least MinKeySize
// bytes (NewKey makes one).
func ParseKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(s)
	if err != nil || len(k) < MinKeySize {
		return nil, fmt.Errorf("rate-limit key: want the hex of at least %d random bytes (%d hex digits)", MinKeySize, 2*MinKeySize)
	}
	return k, nil
}

// NewKey makes a random key, in the form ParseKey reads.
func NewKey() string {
	k := make([]byte, MinKeySize)
	rand.Read(k) // never fails (crypto/rand)
	return hex.EncodeToString(k)
}

// sweepEvery is how many takes pass between sweeps of full buckets: often
// enough to bound the table by the keys seen in one Per, rarely enough
// that the sweep's scan costs little a request.
const sweepEvery = 1024

var errNoKey = errors.New("no secret key to store client keys under (Shared.Key)")

// stored is the key as the store keeps it: its HMAC under the deployment's
// secret, so that the table neither lists the addresses of Report
// Remove's users nor lets a reader of it find them by trying every IPv4
// address. (Rows from before the key, plain SHA-256, match no key now and
// are swept one Per after their last use.)
func (s *Shared) stored(key string) (string, error) {
	if len(s.Key) < MinKeySize {
		return "", fmt.Errorf("rate limit %s: %w", s.Scope, errNoKey)
	}
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil)[:16]), nil
}

// Allow implements Limiter.
func (s *Shared) Allow(ctx context.Context, key string, now time.Time) error {
	if s.n.Add(1)%sweepEvery == 0 {
		if _, err := s.Store.SweepBuckets(ctx, s.Scope, now.Add(-s.Per)); err != nil {
			return fmt.Errorf("rate limit %s: sweeping full buckets: %w", s.Scope, err)
		}
	}
	k, err := s.stored(key)
	if err != nil {
		return err
	}
	ok, tokens, err := s.Store.TakeTokens(ctx, s.Scope, k, s.Limit, 1, now)
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", s.Scope, err)
	}
	if !ok {
		return s.refused(tokens)
	}
	return nil
}

// Refund implements Limiter.
func (s *Shared) Refund(ctx context.Context, key string) error {
	k, err := s.stored(key)
	if err != nil {
		return err
	}
	if err := s.Store.ReturnToken(ctx, s.Scope, k, s.Limit); err != nil {
		return fmt.Errorf("rate limit %s: %w", s.Scope, err)
	}
	return nil
}

// Memory is a Limiter in this process's memory: with several servers each
// counts on its own. Set Burst and Per for Allow; AllowWith takes the
// limit with each call, so the zero value serves it.
type Memory struct {
	Limit

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket remembers its limit's burst and rate, for prune: under AllowWith
// keys differ in their limits.
type bucket struct {
	tokens float64
	last   time.Time
	burst  float64
	rate   float64
}

// refilled is the bucket's tokens at now, capped at its burst.
func (b *bucket) refilled(now time.Time) float64 {
	return min(b.burst, b.tokens+b.rate*float64(now.Sub(b.last).Microseconds()))
}

// maxKeys bounds the memory a flood from many addresses can take: past it,
// buckets that have refilled are dropped (they are the same as absent).
const maxKeys = 100_000

// Allow implements Limiter.
func (l *Memory) Allow(ctx context.Context, key string, now time.Time) error {
	return l.AllowWith(ctx, key, l.Limit, now)
}

// AllowWith implements Keyed.
func (l *Memory) AllowWith(_ context.Context, key string, lim Limit, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxKeys {
			l.prune(now)
		}
		b = &bucket{tokens: float64(lim.Burst), last: now}
		l.buckets[key] = b
	}
	// A key whose limit changed is counted by its new one from now on.
	b.burst, b.rate = float64(lim.Burst), lim.rate()
	b.tokens = b.refilled(now)
	b.last = now
	if b.tokens < 1 {
		return lim.refused(b.tokens)
	}
	b.tokens--
	return nil
}

func (l *Memory) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.refilled(now) >= b.burst {
			delete(l.buckets, k)
		}
	}
}

// Refund implements Limiter.
func (l *Memory) Refund(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil {
		b.tokens = min(b.burst, b.tokens+1)
	}
	return nil
}

// Keyed counts requests per key where each key has a Limit of its own,
// given with each request: API keys, each with the server's default or
// the limit stored with it.
type Keyed interface {
	// AllowWith takes a token for key, whose bucket has the shape l, at
	// time now, or returns a *LimitError saying when one will be there
	// (or the store's failure).
	AllowWith(ctx context.Context, key string, l Limit, now time.Time) error
}

// NewKeyed returns a Keyed: in the store b under scope, taken from a few
// tokens at a time (Leased), or in this process if b is nil.
func NewKeyed(scope string, b Buckets) Keyed {
	if b == nil {
		return &Memory{}
	}
	return &Leased{Scope: scope, Store: b}
}

// Leased is a Keyed whose buckets are in a store every server shares, as
// Shared's are, but taken from a batch of tokens at a time: a request
// spends a token this process holds and reaches the store only when none
// is left. One round trip to PostgreSQL (0.15-0.3 ms, docs/benchmarks.md)
// would be a tenth of a scan's whole cost and more than a hash lookup's;
// a batch makes it once in Batch requests of a busy key (2.5 µs a
// request at 64).
//
// The price is exactness, bounded: tokens a server took and has not spent
// are not there for the others, so with S servers a key may be refused
// while up to S*(batch-1) tokens sit unspent; they lapse after Hold, so a
// server that stops getting a key's requests does not keep its share. A
// batch is also at most an eighth of the key's burst and what it refills
// in Hold, so a small limit is counted nearly one token at a time. Never
// more than the limit is granted across servers: every token spent was
// taken from the shared bucket.
type Leased struct {
	Scope string // the buckets' namespace in the store: "api.keys"
	Store Buckets
	Batch int           // most tokens taken at once; DefaultBatch if 0
	Hold  time.Duration // how long taken tokens may be spent; DefaultHold if 0

	mu     sync.Mutex
	leases map[string]*lease
}

// Defaults of Leased.
const (
	DefaultBatch = 64
	DefaultHold  = time.Second
)

// lease is the tokens this process took from a key's shared bucket.
type lease struct {
	mu     sync.Mutex // held across a refill, so one request refills for the others
	tokens int
	until  time.Time
}

// batch is how many tokens to take at once for a bucket of l.
func (s *Leased) batch(l Limit, hold time.Duration) int {
	n := s.Batch
	if n <= 0 {
		n = DefaultBatch
	}
	perHold := int(l.rate() * float64(hold.Microseconds()))
	return max(1, min(n, l.Burst/8, perHold))
}

// AllowWith implements Keyed. Its buckets are never swept: its keys are
// API keys, authenticated before they are counted, so the table holds one
// row per key at most.
func (s *Leased) AllowWith(ctx context.Context, key string, l Limit, now time.Time) error {
	hold := s.Hold
	if hold <= 0 {
		hold = DefaultHold
	}
	s.mu.Lock()
	if s.leases == nil {
		s.leases = map[string]*lease{}
	}
	ls := s.leases[key]
	if ls == nil {
		if len(s.leases) >= maxKeys {
			for k, o := range s.leases {
				if o.mu.TryLock() {
					if !now.Before(o.until) {
						delete(s.leases, k)
					}
					o.mu.Unlock()
				}
			}
		}
		ls = &lease{}
		s.leases[key] = ls
	}
	s.mu.Unlock()

	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.tokens > 0 && now.Before(ls.until) {
		ls.tokens--
		return nil
	}
	n := s.batch(l, hold)
	ok, tokens, err := s.Store.TakeTokens(ctx, s.Scope, key, l, n, now)
	if err == nil && !ok && n > 1 && tokens >= 1 {
		// Fewer than a batch left: take what there is.
		n = int(tokens)
		ok, tokens, err = s.Store.TakeTokens(ctx, s.Scope, key, l, n, now)
	}
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", s.Scope, err)
	}
	if !ok {
		ls.tokens = 0
		return l.refused(tokens)
	}
	ls.tokens, ls.until = n-1, now.Add(hold)
	return nil
}

// AddressKey is the key an address is limited by: the IP itself for IPv4,
// its /64 for IPv6, since one home or phone is given a whole /64.
func AddressKey(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
