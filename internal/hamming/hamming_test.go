package hamming

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/hamming/hammingtest"
)

// near returns c with exactly d distinct bits flipped.
func near(rng *rand.Rand, c Code, d int) Code { return hammingtest.Flip(rng, c, d) }

// corpus is hammingtest.Mixed's codes under ids 3, 10, 17, …, so that ids
// are not positions.
func corpus(seed uint64, n, nq int) (ids []uint64, codes []Code, queries []Code) {
	codes, queries = hammingtest.Mixed[Code](n, nq, seed)
	return idsFor(codes), codes, queries
}

func idsFor(codes []Code) []uint64 {
	ids := make([]uint64, len(codes))
	for i := range ids {
		ids[i] = uint64(i)*7 + 3
	}
	return ids
}

// oracle is the brute force the index must agree with.
type oracle map[uint64]Code

func (o oracle) search(q Code, r int) []Result {
	var out []Result
	for id, c := range o {
		if d := Distance(q, c); d <= r {
			out = append(out, Result{id, d})
		}
	}
	return sorted(out)
}

func sorted(rs []Result) []Result {
	slices.SortFunc(rs, func(a, b Result) int {
		if a.ID < b.ID {
			return -1
		} else if a.ID > b.ID {
			return 1
		}
		return a.Distance - b.Distance
	})
	return rs
}

func check(t *testing.T, what string, x *Index, o oracle, queries []Code, radii []int) {
	t.Helper()
	if x.Len() != len(o) {
		t.Fatalf("%s: Len() = %d, want %d", what, x.Len(), len(o))
	}
	for qi, q := range queries {
		for _, r := range radii {
			got := sorted(x.Search(q, r, nil))
			want := o.search(q, r)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: query %d radius %d: got %d results, want %d\ngot  %v\nwant %v", what, qi, r, len(got), len(want), clipRes(got), clipRes(want))
			}
		}
	}
}

func clipRes(rs []Result) []Result { return rs[:min(len(rs), 10)] }

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b Code
		want int
	}{
		{Code{}, Code{}, 0},
		{Code{}, Code{1}, 1},
		{Code{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}, Code{}, 256},
		{Code{0xf0, 0, 0, 1 << 63}, Code{0x0f, 0, 0, 0}, 9},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%x, %x) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestTableKey(t *testing.T) {
	c := Code{0x0123456789abcdef, 0xfedcba9876543210, 0, 0xffffffffffffffff}
	for _, tc := range []struct {
		start, width int
		want         uint32
	}{
		{0, 16, 0x0123},
		{4, 8, 0x12},
		{56, 16, 0xeffe}, // across the first two words
		{60, 20, 0xffedc},
		{240, 16, 0xffff},
		{128, 24, 0},
	} {
		tb := table{start: tc.start, width: tc.width}
		if got := tb.key(c); got != tc.want {
			t.Errorf("key(start %d, width %d) = %#x, want %#x", tc.start, tc.width, got, tc.want)
		}
	}
}

// TestSearchExact checks that every path — MIH at several sizes, the scan,
// the pending list, and the automatic choice between them at radii from 0
// to well past where scanning wins — returns exactly brute force's set.
func TestSearchExact(t *testing.T) {
	radii := []int{0, 1, 5, 10, 16, 24, 31, 32, 40, 64, 100, 256}
	for _, n := range []int{0, 1, 100, 3000, 20000, 70000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ids, codes, queries := corpus(uint64(n), n, 60)
			x := Build(ids, codes)
			o := oracle{}
			for i := range ids {
				o[ids[i]] = codes[i]
			}
			check(t, "built", x, o, queries, radii)
		})
	}
}

// TestSearchExactClustered is TestSearchExact on lists of near-duplicate
// clusters, where a query finds hundreds or thousands of codes, most of
// them in nearly every table: each must be reported once, and a query that
// bails out to a scan must still find them all.
func TestSearchExactClustered(t *testing.T) {
	radii := []int{0, 6, 16, 24, 31, 40, 64}
	for _, tc := range []struct{ n, size int }{
		{3000, 100}, {20000, 500}, {70000, 3000}, {40000, 20000},
	} {
		t.Run(fmt.Sprintf("%d/%d", tc.n, tc.size), func(t *testing.T) {
			codes, queries := hammingtest.Clustered[Code](tc.n, tc.size, 25, uint64(tc.n))
			_, _, random := corpus(uint64(tc.n), tc.n, 10)
			ids := idsFor(codes)
			x := Build(ids, codes)
			o := oracle{}
			for i := range ids {
				o[ids[i]] = codes[i]
			}
			check(t, "built", x, o, append(queries, random...), radii)
		})
	}
}

// TestCrowdedQueryScans checks that a query whose buckets overflow bails
// out to a scan, and that an ordinary one does not.
func TestCrowdedQueryScans(t *testing.T) {
	codes, queries := hammingtest.Clustered[Code](40000, 20000, 1, 1)
	s := buildSegment(idsFor(codes), codes)
	p := &s.plans[31]
	if p.brute {
		t.Fatal("40000 codes: plan scans at radius 31")
	}
	_, _, random := corpus(2, 100, 1)
	for _, tc := range []struct {
		what string
		q    Code
		want bool
	}{
		{"query inside a cluster of 20000", queries[0], true},
		{"random query", random[0], false},
	} {
		sc := new(scratch)
		entries, done, crowded := 0, 0, false
		for j, tj := range p.t {
			if tj >= 0 {
				entries += len(s.candidates(tc.q, j, int(tj), sc))
				done++
				crowded = crowded || s.crowded(p, entries, done)
			}
		}
		if crowded != tc.want {
			t.Errorf("%s: %d bucket entries in %d tables, budget %.0f: crowded = %v, want %v", tc.what, entries, done, p.budget, crowded, tc.want)
		}
	}
}

// TestPlansChoose checks that the cost model uses both paths where it
// should: tables at the PDQ radius on a large segment, a scan at a large
// radius and on a small one.
func TestPlansChoose(t *testing.T) {
	_, codes, _ := corpus(1, 20000, 0)
	ids := make([]uint64, len(codes))
	for i := range ids {
		ids[i] = uint64(i)
	}
	s := buildSegment(ids, codes)
	if len(s.tables) == 0 || s.plans[31].brute || s.plans[0].brute {
		t.Errorf("20000 codes: want tables probed at radius 0 and 31, got %d tables, plans %v %v", len(s.tables), s.plans[0], s.plans[31])
	}
	if !s.plans[120].brute || !s.plans[256].brute {
		t.Errorf("20000 codes: want a scan at radius 120 and 256")
	}
	for r, p := range s.plans {
		if p.brute {
			continue
		}
		units := 0
		for _, ti := range p.t {
			units += int(ti) + 1
		}
		if units < r+1 {
			t.Errorf("radius %d: thresholds %v cover %d, want >= %d", r, p.t, units, r+1)
		}
	}
	small := buildSegment(ids[:100], codes[:100])
	if !small.plans[0].brute {
		t.Errorf("100 codes: want a scan")
	}
}

// TestChanges checks exactness through adds, replacements, removes, merges
// and half-dead rebuilds, against a brute-force oracle after each stage, and
// after a snapshot round-trip.
func TestChanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	ids, codes, queries := corpus(9, 30000, 40)
	radii := []int{0, 8, 31, 40, 90}
	x := Build(ids[:20000], codes[:20000])
	o := oracle{}
	for i := range 20000 {
		o[ids[i]] = codes[i]
	}
	check(t, "built", x, o, queries, radii)

	// Adds: enough to flush pending lists into segments and merge them.
	for i := 20000; i < 30000; i++ {
		x.Add(ids[i], codes[i])
		o[ids[i]] = codes[i]
	}
	if len(x.segs) < 2 {
		t.Errorf("after 10000 adds: %d segments, want the adds in their own", len(x.segs))
	}
	check(t, "added", x, o, queries, radii)

	// Replacements and removes, in segments and in the pending list, and
	// of ids that are absent.
	for k := 0; k < 12000; k++ {
		id := ids[rng.IntN(len(ids))]
		switch rng.IntN(3) {
		case 0:
			c := near(rng, queries[rng.IntN(len(queries))], rng.IntN(41))
			x.Add(id, c)
			o[id] = c
		default:
			_, had := o[id]
			if got := x.Remove(id); got != had {
				t.Fatalf("Remove(%d) = %v, want %v", id, got, had)
			}
			delete(o, id)
		}
	}
	if x.Remove(1 << 60) {
		t.Errorf("Remove of an id never added = true")
	}
	check(t, "changed", x, o, queries, radii)

	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	y, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "loaded", y, o, queries, radii)
	// A loaded index keeps changing correctly.
	for id := range o {
		if rng.IntN(2) == 0 {
			y.Remove(id)
			delete(o, id)
		}
	}
	y.Add(5, queries[0])
	o[5] = queries[0]
	check(t, "loaded and changed", y, o, queries, radii)
}

func TestBuildRepeatedIDs(t *testing.T) {
	_, codes, _ := corpus(4, 5000, 0)
	ids := make([]uint64, len(codes))
	for i := range ids {
		ids[i] = uint64(i % 2500) // each id twice; the second code wins
	}
	x := Build(ids, codes)
	if x.Len() != 2500 {
		t.Fatalf("Len() = %d, want 2500", x.Len())
	}
	for i := 2500; i < 5000; i++ {
		got := x.Search(codes[i], 0, nil)
		if !slices.Contains(got, Result{uint64(i % 2500), 0}) {
			t.Fatalf("code %d: Search = %v, want id %d at 0", i, got, i%2500)
		}
	}
}

func TestZeroIndex(t *testing.T) {
	var x Index
	if x.Len() != 0 || len(x.Search(Code{}, 256, nil)) != 0 || x.Remove(1) {
		t.Fatal("zero Index is not empty")
	}
	x.Add(1, Code{1})
	if got := x.Search(Code{}, 1, nil); !slices.Equal(got, []Result{{1, 1}}) {
		t.Fatalf("Search = %v", got)
	}
	if got := x.Search(Code{}, -1, nil); len(got) != 0 {
		t.Fatalf("radius -1: Search = %v", got)
	}
}

// TestConcurrentSearch runs searches on several goroutines at once, as the
// matcher does under a read lock; run with -race it checks that searches
// share nothing they write.
func TestConcurrentSearch(t *testing.T) {
	ids, codes, queries := corpus(11, 5000, 50)
	x := Build(ids, codes)
	want := make([][]Result, len(queries))
	for i, q := range queries {
		want[i] = sorted(x.Search(q, 31, nil))
	}
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			var dst []Result
			for k := range 200 {
				i := (k + g*13) % len(queries)
				dst = x.Search(queries[i], 31, dst[:0])
				if !slices.Equal(sorted(dst), want[i]) {
					errs <- fmt.Errorf("goroutine %d: query %d: got %v, want %v", g, i, dst, want[i])
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestBucketOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, width := range []int{12, 21, 23, 26} {
		for _, n := range []int{0, 1, 30, 5000} {
			keys := make([]uint32, n)
			for i := range keys {
				keys[i] = uint32(rng.IntN(1 << width))
				if i > 0 && rng.IntN(4) == 0 {
					keys[i] = keys[i-1] // runs, to check the order within a key
				}
				if i > 0 && rng.IntN(8) == 0 {
					keys[i] = keys[i-1] ^ 1<<rng.IntN(width) // neighbours in a group
				}
			}
			want := make([]uint64, n)
			for i, k := range keys {
				want[i] = uint64(k)<<32 | uint64(i)
			}
			slices.Sort(want)
			if got := bucketOrder(n, width, func(i int) uint32 { return keys[i] }); !slices.Equal(got, want) {
				t.Fatalf("width %d, %d keys: order differs from a sort by key and index", width, n)
			}
		}
	}
}

func TestRuns(t *testing.T) {
	for _, tc := range []struct {
		keys         []uint64
		full, listed int
	}{
		{nil, 0, 0},
		{[]uint64{4}, 1, 0},
		{[]uint64{1, 2, 3}, 3, 0},
		{[]uint64{1, 1, 2}, 2, 2},
		{[]uint64{1, 1, 1, 2, 5, 5}, 3, 3 + 2},
	} {
		pairs := make([]uint64, len(tc.keys))
		for i, k := range tc.keys {
			pairs[i] = k<<32 | uint64(i)
		}
		full, listed := runs(pairs)
		if full != tc.full || listed != tc.listed {
			t.Errorf("runs(%v) = %d, %d; want %d, %d", tc.keys, full, listed, tc.full, tc.listed)
		}
	}
}

// TestBuildInPlaceAndWidths checks that an index that kept and reordered
// the caller's slices, and indexes of other substring widths (up to the
// widest BuildWidth makes), give brute force's answers on clustered and
// random lists, and that removals still find their codes.
func TestBuildInPlaceAndWidths(t *testing.T) {
	radii := []int{0, 16, 31, 40}
	codes, queries := hammingtest.Clustered[Code](30000, 400, 25, 7)
	_, _, random := corpus(7, 30000, 10)
	queries = append(queries, random...)
	o := oracle{}
	for i, id := range idsFor(codes) {
		o[id] = codes[i]
	}
	for _, width := range []int{0, 12, 20, 26} {
		x := BuildWidth(idsFor(codes), codes, width)
		check(t, fmt.Sprintf("width %d (%s)", width, x.Widths()), x, o, queries, radii)
	}
	own := slices.Clone(codes)
	x := BuildInPlace(idsFor(own), own, 0)
	if own[0] == codes[0] && own[1] == codes[1] && own[2] == codes[2] {
		t.Error("BuildInPlace left the caller's codes in their order: it copied them")
	}
	check(t, "in place", x, o, queries, radii)
	for _, id := range idsFor(codes)[:500] {
		if !x.Remove(id) {
			t.Fatalf("in place: Remove(%d) found nothing", id)
		}
		delete(o, id)
	}
	check(t, "in place, after removals", x, o, queries, radii)
}

// TestWide100MExact checks the tables the default gives at 100 M codes
// (nine of 28-29 bits, as BuildWidth 28 does; ten of 25-26 below wideFrom)
// find exactly brute force's set on clustered and random lists: with the
// plans of the segment's own size, and with those a segment of 100 M codes
// makes, which a test cannot build (their thresholds, not the size, decide
// what a probe finds).
func TestWide100MExact(t *testing.T) {
	const n = 100_000_000
	wide := widthsNear(28, n)(n)
	for _, tc := range []struct {
		what string
		got  []int
		want string
	}{
		{"default at 100 M", defaultWidths(n), "[29 29 29 29 28 28 28 28 28]"},
		{"width 28 at 100 M", wide, "[29 29 29 29 28 28 28 28 28]"},
		{"default just below wideFrom", defaultWidths(wideFrom - 1), "[26 26 26 26 26 26 25 25 25 25]"},
		{"default at 10 M", defaultWidths(10_000_000), "[26 26 26 26 26 26 25 25 25 25]"},
	} {
		if got := fmt.Sprint(tc.got); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.what, got, tc.want)
		}
	}
	radii := []int{0, 16, 24, 31, 32, 40}
	codes, queries := hammingtest.Clustered[Code](30000, 400, 25, 19)
	_, _, random := corpus(19, 30000, 25)
	queries = append(queries, random...)
	ids := idsFor(codes)
	o := oracle{}
	for i, id := range ids {
		o[id] = codes[i]
	}
	s := buildSegmentWidths(ids, codes, func(int) []int { return wide }, false)
	x := &Index{segs: []*segment{s}}
	check(t, "nine tables of 28-29 bits, plans for 30000 codes", x, o, queries, radii)
	s.makePlans(n)
	if p := s.plans[31]; p.brute || p.probed != len(s.tables) {
		t.Fatalf("100 M codes, radius 31: plan %+v, want every table probed", p)
	}
	check(t, "nine tables of 28-29 bits, plans for 100 M codes", x, o, queries, radii)
}
