package storetest

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/store"
)

// testIndexMarks: the store has an identity that stays, and keeps a
// matcher's snapshot marks until they are dropped, inside Atomically too.
func testIndexMarks(t *testing.T, s store.Store) {
	ctx := context.Background()
	id, err := s.StoreIdentity(ctx)
	if err != nil || len(id) != 32 {
		t.Fatalf("identity %q, %v: want 32 hex digits", id, err)
	}
	if again, err := s.StoreIdentity(ctx); err != nil || again != id {
		t.Fatalf("identity changed: %q then %q (%v)", id, again, err)
	}
	if _, ok, err := s.IndexMark(ctx, "nope"); ok || err != nil {
		t.Fatalf("unknown mark: %v, %v", ok, err)
	}
	if err := s.PutIndexMark(ctx, "a", 42); err != nil {
		t.Fatal(err)
	}
	if err := s.Atomically(ctx, func(tx store.Store) error { return tx.PutIndexMark(ctx, "b", 43) }); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIndexMark(ctx, "a", 44); err == nil {
		t.Error("a token put twice: want an error")
	}
	for token, want := range map[string]int64{"a": 42, "b": 43} {
		if seq, ok, err := s.IndexMark(ctx, token); !ok || err != nil || seq != want {
			t.Errorf("mark %s: %d, %v, %v; want %d", token, seq, ok, err, want)
		}
	}
	if err := s.DropIndexMark(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.DropIndexMark(ctx, "a"); err != nil {
		t.Errorf("dropping a dropped mark: %v", err)
	}
	if _, ok, _ := s.IndexMark(ctx, "a"); ok {
		t.Error("dropped mark still there")
	}
}
