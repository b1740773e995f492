package selfreport

import (
	"net/netip"
	"sync"
	"time"
)

// Limiter is a token bucket per key: Burst at once, refilled at Burst per
// Per. It lives in memory, so each server process counts on its own (with
// several servers the limits are per server). The zero value is unusable:
// set Burst and Per.
type Limiter struct {
	What  string // what is counted, for the error: "submissions from this address"
	Burst int
	Per   time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxKeys bounds the memory a flood from many addresses can take: past it,
// buckets that have refilled are dropped (they are the same as absent).
const maxKeys = 100_000

// Allow takes a token for key at time now, or returns a *LimitError saying
// when one will be there.
func (l *Limiter) Allow(key string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	rate := float64(l.Burst) / float64(l.Per) // tokens per nanosecond
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxKeys {
			l.prune(now, rate)
		}
		b = &bucket{tokens: float64(l.Burst), last: now}
		l.buckets[key] = b
	}
	b.tokens = min(float64(l.Burst), b.tokens+rate*float64(now.Sub(b.last)))
	b.last = now
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / rate)
		return &LimitError{What: l.What, RetryAfter: max(wait, time.Second)}
	}
	b.tokens--
	return nil
}

func (l *Limiter) prune(now time.Time, rate float64) {
	for k, b := range l.buckets {
		if b.tokens+rate*float64(now.Sub(b.last)) >= float64(l.Burst) {
			delete(l.buckets, k)
		}
	}
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

// refund gives back the token a request took, for a check that turned out
// right: only wrong PINs count against a case.
func (l *Limiter) refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil {
		b.tokens = min(float64(l.Burst), b.tokens+1)
	}
}
