package authtest

import (
	"errors"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// TestStore checks that a Store keeps the auth.Store contract. newStore
// returns an empty store each time it is called. Run it against every
// implementation.
func TestStore(t *testing.T, newStore func(t *testing.T) auth.Store) {
	t.Run("CreateAndFind", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		_, k, h, err := auth.Generate(auth.LELiaison, "Zoë's liaison key — 2026")
		if err != nil {
			t.Fatal(err)
		}
		k.CreatedBy = "k_admin"
		if err := s.CreateKey(ctx, k, h); err != nil {
			t.Fatal(err)
		}
		got, gotHash, err := s.KeyByID(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !same(got, k) || gotHash != h {
			t.Errorf("KeyByID = %+v, stored %+v (hash kept: %v)", got, k, gotHash == h)
		}
		if err := s.CreateKey(ctx, k, h); err == nil {
			t.Error("CreateKey accepted a second key with the same id")
		}
		// A key with a rate limit of its own keeps it.
		_, lk, err := auth.CreateLimited(ctx, s, auth.Integrator, "bulk backfill", "k_admin", &auth.RateLimit{Burst: 5000, PerSecond: 1250.5})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err = s.KeyByID(ctx, lk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !same(got, lk) || got.Limit == nil {
			t.Errorf("KeyByID = %+v (limit %v), stored %+v (limit %v)", got, got.Limit, lk, lk.Limit)
		}
		if _, _, err := s.KeyByID(ctx, "aaaaaaaaaaaaaaaa"); !errors.Is(err, auth.ErrUnknown) {
			t.Errorf("KeyByID of an unknown id: %v, want ErrUnknown", err)
		}
	})

	t.Run("List", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		ids := map[string]bool{}
		for _, r := range auth.Roles() {
			_, k, err := auth.Create(ctx, s, r, "key for "+string(r), "k_admin")
			if err != nil {
				t.Fatal(err)
			}
			ids[k.ID] = true
		}
		var revoked string
		for id := range ids {
			revoked = id
			break
		}
		if err := s.RevokeKey(ctx, revoked, time.Now()); err != nil {
			t.Fatal(err)
		}
		ks, err := s.ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			if !ids[k.ID] {
				t.Errorf("ListKeys yielded %s, never created", k.ID)
			}
			delete(ids, k.ID)
		}
		if len(ids) != 0 {
			t.Errorf("ListKeys left out %v (revoked keys are listed too)", ids)
		}
	})

	t.Run("RevokeAndTouch", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		_, k, err := auth.Create(ctx, s, auth.Reviewer, "r", "k_admin")
		if err != nil {
			t.Fatal(err)
		}
		used := time.Date(2026, 11, 25, 1, 0, 0, 123456000, time.UTC)
		if err := s.TouchKey(ctx, k.ID, used); err != nil {
			t.Fatal(err)
		}
		early := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
		if err := s.RevokeKey(ctx, k.ID, early); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeKey(ctx, k.ID, early.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.KeyByID(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.RevokedAt == nil || !got.RevokedAt.Equal(early) {
			t.Errorf("RevokedAt = %v, want the earlier of two revocations, %v", got.RevokedAt, early)
		}
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
			t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, used)
		}
		for name, err := range map[string]error{
			"RevokeKey":   s.RevokeKey(ctx, "aaaaaaaaaaaaaaaa", early),
			"TouchKey":    s.TouchKey(ctx, "aaaaaaaaaaaaaaaa", early),
			"SetKeyLimit": s.SetKeyLimit(ctx, "aaaaaaaaaaaaaaaa", nil),
		} {
			if !errors.Is(err, auth.ErrUnknown) {
				t.Errorf("%s of an unknown id: %v, want ErrUnknown", name, err)
			}
		}
	})

	t.Run("SetKeyLimit", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		_, k, err := auth.Create(ctx, s, auth.Integrator, "i", "k_admin")
		if err != nil {
			t.Fatal(err)
		}
		limit := func() *auth.RateLimit {
			t.Helper()
			got, _, err := s.KeyByID(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Limit
		}
		own := auth.RateLimit{Burst: 40, PerSecond: 2.5}
		if err := s.SetKeyLimit(ctx, k.ID, &own); err != nil {
			t.Fatal(err)
		}
		if got := limit(); got == nil || *got != own {
			t.Errorf("after SetKeyLimit(%v) the key's limit is %v", own, got)
		}
		if err := s.SetKeyLimit(ctx, k.ID, nil); err != nil {
			t.Fatal(err)
		}
		if got := limit(); got != nil {
			t.Errorf("after SetKeyLimit(nil) the key's limit is %v, want none (the default)", got)
		}
	})
}

func same(a, b auth.Key) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Role == b.Role && a.CreatedAt.Equal(b.CreatedAt) &&
		a.CreatedBy == b.CreatedBy && sameTime(a.RevokedAt, b.RevokedAt) && sameTime(a.LastUsedAt, b.LastUsedAt) &&
		(a.Limit == nil) == (b.Limit == nil) && (a.Limit == nil || *a.Limit == *b.Limit)
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}
