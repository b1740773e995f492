package storetest

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// testVPDQ stores vPDQ entries of a long video (far over PostgreSQL's
// btree row limit), finds them again by value, keeps them unique, and
// stores each bank's vPDQ threshold.
func testVPDQ(t *testing.T, s store.Store) {
	ctx := context.Background()
	b, err := s.CreateBank(ctx, bank.Bank{Name: "videos", VPDQThreshold: 90})
	if err != nil {
		t.Fatal(err)
	}
	if b.VPDQThreshold != 90 {
		t.Errorf("created with vPDQ threshold %g, want 90", b.VPDQThreshold)
	}
	plain := mustCreate(t, s, "plain")
	if plain.VPDQPercent() != bank.DefaultVPDQThreshold {
		t.Errorf("default vPDQ threshold %g, want %d", plain.VPDQPercent(), bank.DefaultVPDQThreshold)
	}
	video := func(seed int) bank.Entry {
		frames := make([]vpdq.Frame, 3600) // an hour at one frame a second
		for i := range frames {
			h, _ := pdq.ParseHex(hexOf(seed*10000+i, 32))
			frames[i] = vpdq.Frame{Number: i * 30, Quality: 90, Hash: h, Timestamp: float64(i)}
		}
		v, err := bank.VPDQValue(frames)
		if err != nil {
			t.Fatal(err)
		}
		return bank.Entry{Signal: bank.VPDQ, Value: v}
	}
	a, c := video(1), video(2)
	if r := mustAdd(t, s, "videos", a, c, a); r.Added != 2 || r.Existing != 1 {
		t.Fatalf("import: %+v, want 2 added, 1 existing", r)
	}
	if r := mustAdd(t, s, "videos", c); r.Added != 0 || r.Existing != 1 {
		t.Fatalf("re-import: %+v, want it existing", r)
	}
	got, err := s.LiveEntry(ctx, "videos", bank.VPDQ, c.Value)
	if err != nil || got.Value != c.Value {
		t.Fatalf("LiveEntry: value of %d characters, %v", len(got.Value), err)
	}
	if err := s.RemoveEntry(ctx, "videos", bank.VPDQ, a.Value); err != nil {
		t.Fatal(err)
	}
	if es := entries(t, s, "videos"); len(es) != 1 || es[0].Value != c.Value {
		t.Fatalf("after removal %d entries, want the second video", len(es))
	}
	b.VPDQThreshold = 75
	if err := s.UpdateBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b, err = s.Bank(ctx, "videos"); err != nil || b.VPDQThreshold != 75 {
		t.Fatalf("after update: threshold %g, %v", b.VPDQThreshold, err)
	}
}
