// Package authtest provides an in-memory auth.Store, for tests of the auth
// package and of the packages that authenticate requests.
package authtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// Memory is an auth.Store in a map. The zero value is empty and ready.
type Memory struct {
	mu      sync.Mutex
	keys    map[string]stored
	touches int
}

type stored struct {
	key  auth.Key
	hash auth.Hash
}

// CreateKey implements auth.Store.
func (m *Memory) CreateKey(ctx context.Context, k auth.Key, h auth.Hash) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[k.ID]; ok {
		return fmt.Errorf("authtest: key %s already exists", k.ID)
	}
	if m.keys == nil {
		m.keys = make(map[string]stored)
	}
	m.keys[k.ID] = stored{k, h}
	return ctx.Err()
}

// KeyByID implements auth.Store.
func (m *Memory) KeyByID(ctx context.Context, id string) (auth.Key, auth.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.keys[id]
	if !ok {
		return auth.Key{}, auth.Hash{}, fmt.Errorf("authtest: key %s: %w", id, auth.ErrUnknown)
	}
	return s.key, s.hash, ctx.Err()
}

// ListKeys implements auth.Store, ordered by creation time then id.
func (m *Memory) ListKeys(ctx context.Context) ([]auth.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ks []auth.Key
	for _, id := range slices.Sorted(maps.Keys(m.keys)) {
		ks = append(ks, m.keys[id].key)
	}
	slices.SortStableFunc(ks, func(a, b auth.Key) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return ks, ctx.Err()
}

// Touches returns how many times TouchKey was called, so tests can see that
// writes of LastUsedAt are bounded.
func (m *Memory) Touches() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.touches
}

// RevokeKey implements auth.Store.
func (m *Memory) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return m.update(ctx, id, func(k *auth.Key) {
		if k.RevokedAt == nil || at.Before(*k.RevokedAt) {
			k.RevokedAt = &at
		}
	})
}

// TouchKey implements auth.Store.
func (m *Memory) TouchKey(ctx context.Context, id string, at time.Time) error {
	return m.update(ctx, id, func(k *auth.Key) {
		m.touches++
		k.LastUsedAt = &at
	})
}

// SetKeyLimit implements auth.Store.
func (m *Memory) SetKeyLimit(ctx context.Context, id string, l *auth.RateLimit) error {
	if l != nil {
		c := *l
		l = &c
	}
	return m.update(ctx, id, func(k *auth.Key) { k.Limit = l })
}

func (m *Memory) update(ctx context.Context, id string, f func(*auth.Key)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.keys[id]
	if !ok {
		return fmt.Errorf("authtest: key %s: %w", id, auth.ErrUnknown)
	}
	f(&s.key)
	m.keys[id] = s
	return ctx.Err()
}
