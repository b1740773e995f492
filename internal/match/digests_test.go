package match_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
)

// Stats counts the digest entries as they are added and removed (one
// digest in two banks is two entries), whether the index was bulk-loaded,
// synced change by change, or read from a snapshot.
func TestStatsExactCounts(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	mustBank(t, st, "a", 31)
	mustBank(t, st, "b", 31)
	md5s := func(from, to int) []bank.Entry {
		var es []bank.Entry
		for i := from; i < to; i++ {
			es = append(es, bank.Entry{Signal: bank.MD5, Value: fmt.Sprintf("%032x", i)})
		}
		return es
	}
	add(t, st, "a", md5s(0, 10)...)
	add(t, st, "a", bank.Entry{Signal: bank.SHA256, Value: fmt.Sprintf("%064x", 1)})
	add(t, st, "b", md5s(5, 8)...) // three digests a holds too

	m := match.New(st) // the first Sync bulk-loads
	want := func(step string, n int) {
		t.Helper()
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if got := m.Stats().Exact; got != n {
			t.Errorf("%s: Stats().Exact = %d, want %d", step, got, n)
		}
	}
	want("loaded", 14)
	add(t, st, "b", md5s(8, 12)...)
	want("added", 18)
	add(t, st, "b", md5s(8, 12)...) // nothing new
	want("added again", 18)
	if err := st.RemoveEntry(ctx, "a", bank.MD5, fmt.Sprintf("%032x", 6)); err != nil {
		t.Fatal(err)
	}
	want("one removed", 17)
	if err := st.RemoveEntry(ctx, "a", bank.SHA256, fmt.Sprintf("%064x", 1)); err != nil {
		t.Fatal(err)
	}
	want("the only SHA-256 removed", 16)
	add(t, st, "a", md5s(6, 7)...)
	want("re-added", 17)
	if err := st.DeleteBank(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	want("bank b deleted", 10)

	// A fresh matcher bulk-loads the same history, with its repeats and
	// removals, to the same count.
	m2 := match.New(st)
	if err := m2.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := m2.Stats().Exact; got != 10 {
		t.Errorf("bulk-loaded: Stats().Exact = %d, want 10", got)
	}
}
