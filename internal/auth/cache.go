package auth

import (
	"context"
	"sync"
	"time"
)

// KeyTTL is how long a Cache trusts a key read from the store without
// reading it again: a key revoked behind the cache's back (by the CLI, or
// another server whose notification is lost) is refused within it; one
// revoked through the server, or announced by the store's notification,
// at once (Forget).
const KeyTTL = 5 * time.Second

// Cache is a Store that answers KeyByID from memory for KeyTTL. Every
// request authenticates, and without it every request would cost a
// database read for a row that almost never changes. A server makes one
// and gives it to every entry point that takes a key (/v1, the console,
// the HMA listener), so that a key it forgets is refused by all of them
// alike. Only keys that exist are kept, so the map holds at most the
// store's keys. Its other methods are the Store's.
type Cache struct {
	Store
	Now func() time.Time // time.Now if nil; tests move it

	mu   sync.Mutex
	keys map[string]cachedKey
}

type cachedKey struct {
	key  Key
	hash Hash
	read time.Time
}

// NewCache returns a cache over s.
func NewCache(s Store) *Cache { return &Cache{Store: s, keys: map[string]cachedKey{}} }

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// KeyByID implements Store.
func (c *Cache) KeyByID(ctx context.Context, id string) (Key, Hash, error) {
	c.mu.Lock()
	e, ok := c.keys[id]
	c.mu.Unlock()
	if ok && c.now().Sub(e.read) < KeyTTL {
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

// Forget makes the next request with key id read it from the store again;
// "" forgets every key. It is called after a key changes through this
// server (its revocation), and when another server announces a change
// (store.Notifier), so the change holds everywhere at once rather than
// within KeyTTL.
func (c *Cache) Forget(id string) {
	c.mu.Lock()
	if id == "" {
		clear(c.keys)
	} else {
		delete(c.keys, id)
	}
	c.mu.Unlock()
}

// TouchKey implements Store, and keeps the cached LastUsedAt in step:
// Authenticate decides from it whether to write again.
func (c *Cache) TouchKey(ctx context.Context, id string, at time.Time) error {
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
