package match_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/signal"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func mustBank(t *testing.T, st store.Store, name string, threshold int) {
	t.Helper()
	if _, err := st.CreateBank(context.Background(), bank.Bank{Name: name, Threshold: threshold}); err != nil {
		t.Fatal(err)
	}
}

func add(t *testing.T, st store.Store, bankName string, entries ...bank.Entry) {
	t.Helper()
	seq := func(yield func(bank.Entry, error) bool) {
		for _, e := range entries {
			if !yield(e, nil) {
				return
			}
		}
	}
	if _, err := st.AddEntries(context.Background(), bankName, iter.Seq2[bank.Entry, error](seq), nil); err != nil {
		t.Fatal(err)
	}
}

func pdqEntry(h pdq.Hash) bank.Entry { return bank.Entry{Signal: bank.PDQ, Value: h.String()} }

func randomHash(rng *rand.Rand) pdq.Hash {
	var h pdq.Hash
	for i := range h {
		h[i] = byte(rng.Uint32())
	}
	return h
}

// flip returns h with n distinct random bits flipped.
func flip(rng *rand.Rand, h pdq.Hash, n int) pdq.Hash {
	for _, k := range rng.Perm(256)[:n] {
		h[k/8] ^= 1 << (k % 8)
	}
	return h
}

func synced(t *testing.T, st store.Store) *match.Matcher {
	t.Helper()
	m := match.New(st)
	if err := m.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPerBankThresholds(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	mustBank(t, st, "strict", 10)
	mustBank(t, st, "loose", 31)
	rng := rand.New(rand.NewPCG(1, 2))
	base := randomHash(rng)
	add(t, st, "strict", pdqEntry(base))
	add(t, st, "loose", pdqEntry(base))
	m := synced(t, st)

	for _, tc := range []struct {
		dist  int
		banks []string
	}{{0, []string{"loose", "strict"}}, {10, []string{"loose", "strict"}}, {11, []string{"loose"}}, {31, []string{"loose"}}, {32, nil}} {
		q := flip(rng, base, tc.dist)
		res, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &q, Quality: 100}, Radius: -1})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res.Matches {
			if r.Distance != tc.dist || r.Entry.Value != base.String() || r.Variant != pdq.Original {
				t.Errorf("distance %d: match %+v", tc.dist, r)
			}
			got = append(got, r.Bank)
		}
		if !slices.Equal(got, tc.banks) {
			t.Errorf("distance %d: matched banks %v, want %v", tc.dist, got, tc.banks)
		}
	}
	// An explicit radius replaces the thresholds; a bank filter narrows.
	q := flip(rng, base, 20)
	res, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &q, Quality: -1}, Radius: 25, Banks: []string{"strict"}})
	if err != nil || len(res.Matches) != 1 || res.Matches[0].Bank != "strict" {
		t.Errorf("radius 25 in strict: %+v, %v", res.Matches, err)
	}
	if _, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &q}, Radius: -1, Banks: []string{"nope"}}); !errors.Is(err, match.ErrUnknownBank) {
		t.Errorf("unknown bank: %v", err)
	}
}

func TestQualityFloorAndDigests(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	mustBank(t, st, "b", 31)
	data := []byte("some file bytes")
	m5, s256 := md5.Sum(data), sha256.Sum256(data)
	h := randomHash(rand.New(rand.NewPCG(3, 4)))
	add(t, st, "b", pdqEntry(h),
		bank.Entry{Signal: bank.MD5, Value: hex.EncodeToString(m5[:]), Category: "A"},
		bank.Entry{Signal: bank.SHA256, Value: hex.EncodeToString(s256[:])})
	m := synced(t, st)

	res, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &h, Quality: 49, MD5: &m5, SHA256: &s256}, Radius: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !res.LowQuality {
		t.Error("quality 49 not reported as low")
	}
	var sigs []bank.Signal
	for _, r := range res.Matches {
		sigs = append(sigs, r.Entry.Signal)
		if r.Entry.Signal == bank.MD5 && r.Entry.Category != "A" {
			t.Errorf("md5 match lost its provenance: %+v", r.Entry)
		}
	}
	slices.Sort(sigs)
	if !slices.Equal(sigs, []bank.Signal{bank.MD5, bank.SHA256}) {
		t.Errorf("low-quality query matched %v, want only the digests", sigs)
	}
	res, _ = m.Match(ctx, match.Query{Set: signal.Set{PDQ: &h, Quality: 50}, Radius: -1})
	if res.LowQuality || len(res.Matches) != 1 {
		t.Errorf("quality 50: %+v", res)
	}
	other := md5.Sum([]byte("other"))
	if res, _ := m.Match(ctx, match.Query{Set: signal.Set{MD5: &other}, Radius: -1}); len(res.Matches) != 0 {
		t.Errorf("unrelated md5 matched: %+v", res.Matches)
	}
}

// The index follows the store: removed entries and deleted banks stop
// matching after Sync, and new ones start.
func TestSyncFollowsChanges(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	mustBank(t, st, "a", 31)
	mustBank(t, st, "b", 31)
	rng := rand.New(rand.NewPCG(5, 6))
	h1, h2, h3 := randomHash(rng), randomHash(rng), randomHash(rng)
	add(t, st, "a", pdqEntry(h1), pdqEntry(h2))
	add(t, st, "b", pdqEntry(h3))
	m := synced(t, st)
	count := func(h pdq.Hash) int {
		res, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &h, Quality: -1}, Radius: -1})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Matches)
	}
	if count(h1) != 1 || count(h2) != 1 || count(h3) != 1 {
		t.Fatal("initial load incomplete")
	}
	if err := st.RemoveEntry(ctx, "a", bank.PDQ, h1.String()); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteBank(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	h4 := randomHash(rng)
	add(t, st, "a", pdqEntry(h4))
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if count(h1) != 0 || count(h3) != 0 {
		t.Error("removed entry or deleted bank still matches")
	}
	if count(h2) != 1 || count(h4) != 1 {
		t.Error("live or new entry does not match")
	}
	if s := m.Stats(); s.PDQ != 2 {
		t.Errorf("index holds %d codes, want 2", s.PDQ)
	}
	// Re-adding a removed hash brings it back.
	add(t, st, "a", pdqEntry(h1))
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if count(h1) != 1 {
		t.Error("re-added entry does not match")
	}
}

// Whatever mix of entries and queries, the matcher answers what a scan of
// every entry answers.
func TestMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	rng := rand.New(rand.NewPCG(7, 8))
	thresholds := map[string]int{"x": 31, "y": 20, "z": 40}
	var all []struct {
		bank string
		h    pdq.Hash
	}
	var centres []pdq.Hash
	m := match.New(st)
	for _, name := range []string{"x", "y", "z"} {
		th := thresholds[name]
		mustBank(t, st, name, th)
		var es []bank.Entry
		for i := 0; i < 300; i++ {
			h := randomHash(rng)
			if len(centres) > 0 && i%3 == 0 {
				h = flip(rng, centres[rng.IntN(len(centres))], rng.IntN(45))
			}
			centres = append(centres, h)
			es = append(es, pdqEntry(h))
			all = append(all, struct {
				bank string
				h    pdq.Hash
			}{name, h})
		}
		add(t, st, name, es...)
		// The first bank arrives before the first sync, the others after:
		// both the bulk load and incremental adds are checked.
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 200; i++ {
		q := flip(rng, centres[rng.IntN(len(centres))], rng.IntN(45))
		res, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &q, Quality: -1}, Radius: -1})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, r := range res.Matches {
			got = append(got, r.Bank+r.Entry.Value)
		}
		seen := map[string]bool{}
		for _, e := range all {
			if d := pdq.Distance(q, e.h); d <= thresholds[e.bank] && !seen[e.bank+e.h.String()] {
				seen[e.bank+e.h.String()] = true
				want = append(want, e.bank+e.h.String())
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("query %d: got %d matches, brute force %d", i, len(got), len(want))
		}
	}
}

const testdata = "../../testdata/threatexchange"

// A rotated or mirrored repost matches the original through the query's
// dihedral hashes.
func TestRotatedRepostMatches(t *testing.T) {
	dir := filepath.Join(testdata, "pdq/data/reg-test-input/dih")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("reference test data missing at %s: it is part of the repository (testdata/threatexchange)", dir)
	}
	ctx := context.Background()
	h := &hasher.Hasher{Dihedral: true}
	hashFile := func(name string) hasher.Signals {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		s, err := h.Hash(name, data)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	st := openStore(t)
	mustBank(t, st, "known", 31)
	orig := hashFile("bridge-1-original.jpg")
	add(t, st, "known", pdqEntry(orig.PDQ))
	m := synced(t, st)
	for _, name := range []string{"bridge-2-rotate-90.jpg", "bridge-3-rotate-180.jpg", "bridge-5-flipx.jpg", "bridge-8-flip-minus-1.jpg"} {
		s := hashFile(name)
		if d := pdq.Distance(s.PDQ, orig.PDQ); d <= 31 {
			t.Fatalf("%s is only %d bits from the original: the test shows nothing", name, d)
		}
		res, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &s.PDQ, Quality: s.Quality, Dihedral: s.Dihedral}, Radius: -1})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Matches) != 1 || res.Matches[0].Variant == pdq.Original {
			t.Errorf("%s: matches %+v, want one through a rotated or mirrored variant", name, res.Matches)
		}
	}
}

// The first Sync builds the index from the whole feed, where removed entries
// appear too: they must not match, and one removed and added again must.
func TestBulkLoadSeesRemovals(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	mustBank(t, st, "a", 31)
	mustBank(t, st, "gone", 31)
	rng := rand.New(rand.NewPCG(9, 10))
	var hs []pdq.Hash
	var es []bank.Entry
	for i := 0; i < 3000; i++ { // more than one pending list: a real bulk build
		hs = append(hs, randomHash(rng))
		es = append(es, pdqEntry(hs[i]))
	}
	add(t, st, "a", es...)
	add(t, st, "gone", pdqEntry(hs[5]))
	for _, h := range hs[:2] {
		if err := st.RemoveEntry(ctx, "a", bank.PDQ, h.String()); err != nil {
			t.Fatal(err)
		}
	}
	add(t, st, "a", pdqEntry(hs[1])) // back again
	if err := st.DeleteBank(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	m := synced(t, st)
	banks := func(h pdq.Hash) (out []string) {
		res, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &h, Quality: -1}, Radius: 0})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Matches {
			out = append(out, r.Bank)
		}
		return out
	}
	if got := banks(hs[0]); len(got) != 0 {
		t.Errorf("removed entry matches in %v", got)
	}
	if got := banks(hs[1]); !slices.Equal(got, []string{"a"}) {
		t.Errorf("re-added entry matches in %v, want [a]", got)
	}
	if got := banks(hs[5]); !slices.Equal(got, []string{"a"}) {
		t.Errorf("entry of a deleted bank: matches in %v, want only [a]", got)
	}
	if n := m.Stats().PDQ; n != 2999 {
		t.Errorf("index holds %d codes, want 2999", n)
	}
}
