package postgres

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/ratelimit"
)

// TestSharedKey checks that the first server to ask keeps its key and
// every later one gets that key, not its own: servers given no
// SAFEGUARD_RATELIMIT_KEY still count against the same buckets.
func TestSharedKey(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	first, second := ratelimit.NewKey(), ratelimit.NewKey()
	got1, err := s.SharedKey(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	got2, err := s.SharedKey(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if got1 != first || got2 != first {
		t.Errorf("kept keys %.8s..., %.8s...: want the first server's %.8s... both times", got1, got2, first)
	}
	if _, err := ratelimit.ParseKey(got2); err != nil {
		t.Errorf("kept key: %v", err)
	}
}
