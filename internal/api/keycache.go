package api

import (
	"context"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// keyTTL is how long a key read from the store is trusted without reading
// it again: a key revoked by another process (the CLI, another server) is
// refused within it; one revoked through this API, at once.
const keyTTL = 5 * time.Second

// keyCache is an auth.Store that answers KeyByID from memory for keyTTL.
// Every request authenticates, and without it every scan would cost a
// database read for a row that almost never changes. Only keys that exist
// are kept, so the map holds at most the store's keys.
type keyCache struct {
	auth.Store
	now func() time.Time

	mu   sync.Mutex
	keys map[string]cachedKey
}

type cachedKey struct {
	key  auth.Key
	hash auth.Hash
	read time.Time
}

func newKeyCache(s auth.Store) *keyCache {
	return &keyCache{Store: s, now: time.Now, keys: map[string]cachedKey{}}
}

// KeyByID implements auth.Store.
func (c *keyCache) KeyByID(ctx context.Context, id string) (auth.Key, auth.Hash, error) {
	c.mu.Lock()
	e, ok := c.keys[id]
	c.mu.Unlock()
	if ok && c.now().Sub(e.read) < keyTTL {
		return e.key, e.hash, nil
	}
	k, h, err := c.Store.KeyByID(ctx, id)
	if err != nil {
		return k, h, err
	}
	c.mu.Lock()
	c.keys[id] = cachedKey{k, h, c.now()}
	c.mu.Unlock()
	return k, h, nil
}

// forget drops a key from the cache, so that the next request with it
// reads the store again (after a revocation through this API); id ""
// drops every key.
func (c *keyCache) forget(id string) {
	c.mu.Lock()
	if id == "" {
		clear(c.keys)
	} else {
		delete(c.keys, id)
	}
	c.mu.Unlock()
}

// ForgetKey makes the next request with key id read it from the store
// again; "" forgets every key. The server calls it when another server
// revokes a key (store.Notifier), so a revocation holds everywhere at
// once rather than within keyTTL.
func (a *API) ForgetKey(id string) { a.keys.forget(id) }

// TouchKey implements auth.Store, and keeps the cached LastUsedAt in step:
// Authenticate decides from it whether to write again.
func (c *keyCache) TouchKey(ctx context.Context, id string, at time.Time) error {
	if err := c.Store.TouchKey(ctx, id, at); err != nil {
		return err
	}
	c.mu.Lock()
	if e, ok := c.keys[id]; ok {
		e.key.LastUsedAt = &at
		c.keys[id] = e
	}
	c.mu.Unlock()
	return nil
}
