// Package hamming finds every 256-bit code within a Hamming radius of a query:
// the exact set a brute-force scan finds, never an approximation, in a small
// fraction of the scan's time.
//
// A hash list that misses a known abuse image leaves it up, so the index is
// exact: it uses multi-index hashing (each code is cut into m substrings; a
// code within radius r of the query has, by the pigeonhole principle, some
// substring i within t_i bit flips of the query's when the thresholds satisfy
// sum(t_i+1) > r), verifies every candidate's full distance, and falls back to
// a popcount scan wherever its cost model says the scan is cheaper (small
// lists, large radii).
//
// Codes live in immutable segments with flat arrays (fast to build, to search
// and to snapshot); adds go to a small pending list that is scanned, and
// becomes a segment when it fills; segments of similar size merge, and
// removals mark codes dead until a segment is half dead and rebuilt. So a
// change never rebuilds the whole index at once, and the cost of rebuilding
// is spread over the changes that made it necessary.
package hamming

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Code is a 256-bit code as four 64-bit words, most significant first
// (pdq.Hash.Words() gives this form). Bit k of the code, for substrings, is
// counted from the most significant bit of the first word.
type Code [4]uint64

// Distance is the number of bits in which a and b differ.
func Distance(a, b Code) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// Result is one code found by Search.
type Result struct {
	ID       uint64
	Distance int
}

// pendingMax is how many added codes are scanned by brute force before they
// become a segment: a scan of this many costs about a microsecond.
const pendingMax = 1024

// Index holds codes by id and answers radius queries.
//
// An Index is not safe for concurrent writes; concurrent Search calls are
// safe when no writer runs (callers hold an RWMutex). The zero value is an
// empty index ready to use.
type Index struct {
	segs []*segment // largest first, each at least mergeRatio times the next
	// Recently added codes, not yet in a segment.
	pendIDs   []uint64
	pendCodes []Code
}

// mergeRatio keeps segment sizes falling geometrically, so that a search
// visits few segments and each code is merged O(log n) times.
const mergeRatio = 4

// New returns an empty index.
func New() *Index { return &Index{} }

// Build indexes codes[i] under ids[i] in one pass, much faster than as many
// Adds. Ids should be unique; when one repeats, its last code is kept, as a
// sequence of Adds would. Build panics if the slices differ in length.
func Build(ids []uint64, codes []Code) *Index {
	if len(ids) != len(codes) {
		panic(fmt.Sprintf("hamming: Build with %d ids and %d codes", len(ids), len(codes)))
	}
	x := &Index{}
	if len(ids) < pendingMax {
		for i := range ids {
			x.Add(ids[i], codes[i])
		}
		return x
	}
	if s := buildSegment(ids, codes); s.n() > 0 {
		x.segs = []*segment{s}
	}
	return x
}

// BuildInPlace is Build for a caller done with ids and codes: when the ids
// increase (the usual case) and the slices' capacities are within a
// sixteenth of their length, the index reorders the two slices and keeps
// them as its own instead of copying them, so that building needs no
// second copy of the input (4 GB at 100 M codes). The caller must not use
// or change the slices afterwards. width is BuildWidth's (0: the default).
func BuildInPlace(ids []uint64, codes []Code, width int) *Index {
	if len(ids) != len(codes) {
		panic(fmt.Sprintf("hamming: BuildInPlace with %d ids and %d codes", len(ids), len(codes)))
	}
	if len(ids) < pendingMax {
		return Build(ids, codes)
	}
	x := &Index{}
	if s := buildSegmentWidths(ids, codes, widthsNear(width, len(ids)), true); s.n() > 0 {
		x.segs = []*segment{s}
	}
	return x
}

// BuildWidth is Build with substrings of about width bits (at most 29,
// and as many as fit in 256 bits) instead of the default, so that a
// benchmark can trace memory against time; 0 means the default. Segments
// made later, by adds and merges, take the default widths.
func BuildWidth(ids []uint64, codes []Code, width int) *Index {
	if width <= 0 || len(ids) < pendingMax || len(ids) != len(codes) {
		return Build(ids, codes)
	}
	x := &Index{}
	if s := buildSegmentWidths(ids, codes, widthsNear(width, len(ids)), false); s.n() > 0 {
		x.segs = []*segment{s}
	}
	return x
}

// widthsNear returns the geometry of substrings of about width bits for
// a segment of about n codes (defaultWidths when width is 0).
func widthsNear(width, n int) func(int) []int {
	if width <= 0 {
		return defaultWidths
	}
	bias := width - int(math.Round(math.Log2(float64(n))))
	return func(n int) []int { return geometry(n, bias, maxWidth) }
}

// Widths describes the substring widths of the largest segment, as
// "10 tables of 25-26 bits", or "no tables" when it is scanned.
func (x *Index) Widths() string {
	if len(x.segs) == 0 || len(x.segs[0].tables) == 0 {
		return "no tables"
	}
	lo, hi := 256, 0
	for _, t := range x.segs[0].tables {
		lo, hi = min(lo, t.width), max(hi, t.width)
	}
	if lo == hi {
		return fmt.Sprintf("%d tables of %d bits", len(x.segs[0].tables), lo)
	}
	return fmt.Sprintf("%d tables of %d-%d bits", len(x.segs[0].tables), lo, hi)
}

// Len returns the number of codes in the index.
func (x *Index) Len() int {
	n := len(x.pendIDs)
	for _, s := range x.segs {
		n += s.live()
	}
	return n
}

// Add indexes c under id, replacing the code id had, if any.
func (x *Index) Add(id uint64, c Code) {
	if i := slices.Index(x.pendIDs, id); i >= 0 {
		x.pendCodes[i] = c
		return
	}
	x.removeFromSegments(id)
	x.pendIDs = append(x.pendIDs, id)
	x.pendCodes = append(x.pendCodes, c)
	if len(x.pendIDs) >= pendingMax {
		x.flush()
	}
}

// Has reports whether id is in the index.
func (x *Index) Has(id uint64) bool {
	if slices.Contains(x.pendIDs, id) {
		return true
	}
	for _, s := range x.segs {
		if s.alive(id) {
			return true
		}
	}
	return false
}

// Remove drops id from the index and reports whether it was there.
func (x *Index) Remove(id uint64) bool {
	if i := slices.Index(x.pendIDs, id); i >= 0 {
		last := len(x.pendIDs) - 1
		x.pendIDs[i], x.pendCodes[i] = x.pendIDs[last], x.pendCodes[last]
		x.pendIDs, x.pendCodes = x.pendIDs[:last], x.pendCodes[:last]
		return true
	}
	return x.removeFromSegments(id)
}

func (x *Index) removeFromSegments(id uint64) bool {
	for i, s := range x.segs {
		if !s.kill(id) {
			continue
		}
		if 2*s.dead > s.n() {
			// Half dead: searching it costs twice what its live codes
			// are worth, so rebuild it from them.
			ids, codes := s.liveEntries(nil, nil)
			x.segs = slices.Delete(x.segs, i, i+1)
			if len(ids) > 0 {
				x.insertSegment(buildSegment(ids, codes))
			}
		}
		return true
	}
	return false
}

// flush turns the pending codes into a segment.
func (x *Index) flush() {
	s := buildSegment(x.pendIDs, x.pendCodes)
	x.pendIDs, x.pendCodes = x.pendIDs[:0], x.pendCodes[:0]
	x.insertSegment(s)
}

// insertSegment adds s in size order, then merges neighbours that have
// grown within mergeRatio of each other.
func (x *Index) insertSegment(s *segment) {
	i, _ := slices.BinarySearchFunc(x.segs, s.live(), func(t *segment, n int) int { return n - t.live() })
	x.segs = slices.Insert(x.segs, i, s)
	for i := len(x.segs) - 1; i > 0; i-- {
		a, b := x.segs[i-1], x.segs[i]
		if mergeRatio*b.live() < a.live() {
			continue
		}
		ids, codes := a.liveEntries(nil, nil)
		ids, codes = b.liveEntries(ids, codes)
		x.segs[i-1] = buildSegment(ids, codes)
		x.segs = slices.Delete(x.segs, i, i+1)
		i = len(x.segs) // merges can cascade: look again from the end
	}
}

// Search appends to dst every code within radius of q (distance <= radius),
// in no particular order, and returns the extended slice.
func (x *Index) Search(q Code, radius int, dst []Result) []Result {
	if radius < 0 {
		return dst
	}
	radius = min(radius, 256)
	for _, s := range x.segs {
		dst = s.search(q, radius, dst)
	}
	for i, c := range x.pendCodes {
		if d := Distance(q, c); d <= radius {
			dst = append(dst, Result{x.pendIDs[i], d})
		}
	}
	return dst
}

// Bytes returns the memory the index holds for its codes, ids and tables.
func (x *Index) Bytes() int64 {
	n := int64(cap(x.pendIDs))*8 + int64(cap(x.pendCodes))*32
	for _, s := range x.segs {
		n += s.bytes()
	}
	return n
}
