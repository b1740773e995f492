package rules

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Cache is a Store that answers ListRules from memory, since every scan
// lists the rules and they change rarely (on SQLite a listing of ten rules
// costs about a quarter of a millisecond of CPU). Writes through the Cache
// empty it at once; writes by another process sharing the database (several
// servers on PostgreSQL) empty it when the store's notification arrives
// (the server calls Invalidate), and are seen within TTL if it is lost.
// Other reads go to the store.
type Cache struct {
	Store
	ttl time.Duration

	mu     sync.Mutex
	rules  []Rule
	loaded time.Time // zero: nothing cached
	gen    uint64    // bumped by every write, so a load that raced one is not kept
}

// NewCache returns a Cache over s that keeps a listing for ttl.
func NewCache(s Store, ttl time.Duration) *Cache {
	return &Cache{Store: s, ttl: ttl}
}

// ListRules returns the cached listing, loading it when it is missing or
// older than the TTL. The rules returned share their lists (banks, actions,
// ...) with the cache and with other callers: read them, do not modify them.
func (c *Cache) ListRules(ctx context.Context) ([]Rule, error) {
	c.mu.Lock()
	if !c.loaded.IsZero() && time.Since(c.loaded) < c.ttl {
		rs := slices.Clone(c.rules)
		c.mu.Unlock()
		return rs, nil
	}
	gen := c.gen
	c.mu.Unlock()

	// Load without the lock: a slow store must not hold up readers of a
	// listing that is still fresh enough for them. Concurrent loads after
	// expiry are harmless (the same answer twice).
	rs, err := c.Store.ListRules(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.rules, c.loaded = rs, time.Now()
	}
	c.mu.Unlock()
	return slices.Clone(rs), nil
}

// Invalidate empties the cache: for writes made around it, through a
// transaction of the store, once they are committed.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.gen++
	c.rules, c.loaded = nil, time.Time{}
	c.mu.Unlock()
}

// CreateRule creates through the store and empties the cache.
func (c *Cache) CreateRule(ctx context.Context, r Rule) (Rule, error) {
	defer c.Invalidate()
	return c.Store.CreateRule(ctx, r)
}

// UpdateRule updates through the store and empties the cache.
func (c *Cache) UpdateRule(ctx context.Context, r Rule) (Rule, error) {
	defer c.Invalidate()
	return c.Store.UpdateRule(ctx, r)
}
