package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
)

// countingKeys counts reads and touches.
type countingKeys struct {
	authtest.Memory
	reads, touches int
}

func (c *countingKeys) KeyByID(ctx context.Context, id string) (auth.Key, auth.Hash, error) {
	c.reads++
	return c.Memory.KeyByID(ctx, id)
}

func (c *countingKeys) TouchKey(ctx context.Context, id string, at time.Time) error {
	c.touches++
	return c.Memory.TouchKey(ctx, id, at)
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	store := new(countingKeys)
	plain, k, err := auth.Create(ctx, store, auth.Integrator, "p", "test")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := auth.NewCache(store)
	c.Now = func() time.Time { return now }
	for range 5 {
		if _, err := auth.Authenticate(ctx, c, plain); err != nil {
			t.Fatal(err)
		}
	}
	if store.reads != 1 || store.touches != 1 {
		t.Errorf("5 requests within the TTL: %d reads, %d touches; want 1 and 1", store.reads, store.touches)
	}
	now = now.Add(auth.KeyTTL)
	auth.Authenticate(ctx, c, plain)
	if store.reads != 2 {
		t.Errorf("after the TTL: %d reads, want 2", store.reads)
	}

	// A revocation by another process is seen once the TTL has passed...
	store.Memory.RevokeKey(ctx, k.ID, time.Now())
	if _, err := auth.Authenticate(ctx, c, plain); err != nil {
		t.Errorf("within the TTL of an outside revocation: %v (the cache should still answer)", err)
	}
	now = now.Add(auth.KeyTTL)
	if _, err := auth.Authenticate(ctx, c, plain); !errors.Is(err, auth.ErrRevoked) {
		t.Errorf("after the TTL: %v, want ErrRevoked", err)
	}
	// ...and one the server forgets (through its API, or at another
	// server's notification) at once.
	plain2, k2, _ := auth.Create(ctx, store, auth.Admin, "q", "test")
	auth.Authenticate(ctx, c, plain2)
	if err := store.RevokeKey(ctx, k2.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	c.Forget(k2.ID)
	if _, err := auth.Authenticate(ctx, c, plain2); !errors.Is(err, auth.ErrRevoked) {
		t.Errorf("after revoking and forgetting: %v, want ErrRevoked", err)
	}
}
