package hamming

import (
	"cmp"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
)

// A segment is an immutable set of codes with its multi-index tables; only
// its dead marks change.
//
// Each table has a directory with a bit per bucket, set when the bucket
// holds a code, and the count of set bits before every 64 buckets: so a
// probe of an empty bucket, the usual case, reads only the directory, a
// bit or two per bucket that stays in cache, and a probe of a full bucket
// finds its slot among the full buckets' slots with a popcount.
//
// The codes are stored in the order of their table-0 substring, so table 0
// needs no postings: its slot i says where the i-th full bucket's run of
// codes starts, and probing it reads codes in sequence. In the other
// tables, most full buckets hold one code, and the slot holds its position
// itself; a larger bucket's slot points into the overflow list.
type segment struct {
	codes []Code
	ids   []uint64
	byID  []uint32 // positions in increasing order of id, for kill
	// dead marks removed positions; nil until the first removal.
	deadBits []uint64
	dead     int
	tables   []table   // none when the segment is too small to be worth them
	plans    [257]plan // by radius
}

// A table indexes one substring: bits [start, start+width) of the code.
type table struct {
	start, width int
	// dir[2e] counts the full buckets before bucket 64e; bit b of
	// dir[2e+1] is set when bucket 64e+b is full.
	dir []uint64
	off []uint32 // table 0: where each full bucket's codes start, and n
	// Other tables: per full bucket, its one position, or listBit|i where
	// over[i] is the number of positions that follow it.
	head []uint32
	over []uint32
}

const (
	listBit  = 1 << 31
	maxCodes = listBit - 1 // positions must leave listBit clear
)

// plan says how to search a segment at one radius.
type plan struct {
	brute bool
	t     []int8 // per table, the bit flips to probe; -1: not probed
}

// Substring geometry and the cost model. The costs are nanoseconds, fitted
// to where probing stopped beating a scan on the machine that measured them
// (docs/benchmarks.md: about radius 48 at 2,048 codes, 56 at 8,192 and 60
// to 64 from 32,768 to a million); only their ratios matter.
const (
	minTableN = 2048 // below this a scan is as fast and needs no tables
	maxWidth  = 26   // 2^26 buckets make a 16 MiB directory
	minWidth  = 12
	maxTables = 256 / minWidth
	maxFlips  = 4 // probing beyond C(w,4) buckets a table never beats a scan

	costProbe = 2.0  // a bucket: its directory word, from cache
	costSlot  = 10.0 // a full bucket: its slot, a cache miss
	costCand  = 20.0 // a candidate: its code, a cache miss, and its distance
	costCode  = 2.5  // a code in a scan
)

// widthBias shifts the substring width from log2(n), the width at which a
// bucket holds about one code: one bit wider halves the candidates, doubles
// the directory and costs more probes (docs/benchmarks.md has the sweep).
const widthBias = 2

// geometry returns the substring widths for n codes: about log2(n)+2 bits
// each, as many tables as fit in 256 bits, and the bits left over spread
// over them (one more bit each at most).
func geometry(n int) []int {
	if n < minTableN {
		return nil
	}
	w := int(math.Round(math.Log2(float64(n)))) + widthBias
	w = max(minWidth, min(maxWidth-1, w))
	m := 256 / w
	widths := make([]int, m)
	extra := 256 - m*w
	for j := range widths {
		widths[j] = w
		if extra > 0 {
			widths[j]++
			extra--
		}
	}
	return widths
}

func (t *table) key(c Code) uint32 {
	w, off := t.start>>6, uint(t.start&63)
	v := c[w] << off
	if int(off)+t.width > 64 {
		v |= c[w+1] >> (64 - off)
	}
	return uint32(v >> (64 - uint(t.width)))
}

func newTables(widths []int) []table {
	tables := make([]table, len(widths))
	start := 0
	for j, w := range widths {
		tables[j] = table{start: start, width: w}
		start += w
		ensureMasks(w)
	}
	return tables
}

// buildSegment indexes the codes; when an id repeats, its last code wins.
func buildSegment(ids []uint64, codes []Code) *segment {
	kept := uniqueByID(ids)
	n := len(kept)
	if n > maxCodes {
		panic("hamming: more than 2^31-1 codes in one segment")
	}
	s := &segment{codes: make([]Code, n), ids: make([]uint64, n), byID: make([]uint32, n)}
	s.tables = newTables(geometry(n))
	if len(s.tables) == 0 {
		for j, i := range kept {
			s.codes[j], s.ids[j], s.byID[j] = codes[i], ids[i], uint32(j)
		}
		s.makePlans()
		return s
	}
	// Table 0 orders the codes. The sort is stable, so each bucket's codes
	// are in order of id.
	t0 := &s.tables[0]
	keys := make([]uint32, n)
	for j, i := range kept {
		keys[j] = t0.key(codes[i])
	}
	order := sortKeys(keys, t0.width)
	for pos, j := range order {
		i := kept[j]
		s.codes[pos], s.ids[pos], s.byID[j] = codes[i], ids[i], uint32(pos)
	}
	full, _ := runs(keys)
	t0.off = make([]uint32, 0, full+1)
	t0.index(keys, func(lo, hi int) { t0.off = append(t0.off, uint32(lo)) })
	t0.off = append(t0.off, uint32(n))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for j := 1; j < len(s.tables); j++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(t *table) {
			defer func() { <-sem; wg.Done() }()
			s.fill(t)
		}(&s.tables[j])
	}
	wg.Wait()
	s.makePlans()
	return s
}

// fill builds a table's directory and slots: a slot holds a bucket's one
// position, or points into the overflow list.
func (s *segment) fill(t *table) {
	keys := make([]uint32, len(s.codes))
	for pos, c := range s.codes {
		keys[pos] = t.key(c)
	}
	post := sortKeys(keys, t.width)
	full, listed := runs(keys)
	t.head, t.over = make([]uint32, 0, full), make([]uint32, 0, listed)
	t.index(keys, func(lo, hi int) {
		if hi-lo == 1 {
			t.head = append(t.head, post[lo])
			return
		}
		t.head = append(t.head, listBit|uint32(len(t.over)))
		t.over = append(t.over, uint32(hi-lo))
		t.over = append(t.over, post[lo:hi]...)
	})
}

// runs counts the full buckets among sorted keys, and the length of the
// overflow list their larger buckets make, so that the slots and the list
// are allocated exactly: append's growth would leave up to a quarter of
// them unused for the life of the index.
func runs(sorted []uint32) (full, listed int) {
	for i, k := range sorted {
		switch {
		case i == 0 || k != sorted[i-1]:
			full++
		case i == 1 || k != sorted[i-2]:
			listed += 3 // a bucket of two: its count and both positions
		default:
			listed++
		}
	}
	return full, listed
}

// sortKeys sorts keys of width bits, stably, and returns the order it put
// them in: the i-th sorted key was keys[order[i]]. It is a radix sort of
// passes of at most 11 bits, whose counts and write streams stay in cache:
// a counting sort over all 2^width buckets would miss the cache at every
// key, twice.
func sortKeys(keys []uint32, width int) []uint32 {
	n := len(keys)
	passes := (width + 10) / 11
	order, tk, to := make([]uint32, n), make([]uint32, n), make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	var count [1 << 11]int
	shift := 0
	for p := range passes {
		digits := (width - shift + passes - p - 1) / (passes - p)
		mask := uint32(1)<<digits - 1
		clear(count[:])
		for _, k := range keys {
			count[k>>shift&mask]++
		}
		sum := 0
		for d := range count[:mask+1] {
			count[d], sum = sum, sum+count[d]
		}
		for i, k := range keys {
			d := k >> shift & mask
			tk[count[d]], to[count[d]] = k, order[i]
			count[d]++
		}
		keys, tk = tk, keys
		order, to = to, order
		shift += digits
	}
	if passes%2 == 1 {
		copy(tk, keys) // the caller's slice, after an odd number of swaps
	}
	return order
}

// index makes the table's directory from its sorted keys, calling full
// with the bounds of each bucket's run of keys, in order.
func (t *table) index(sorted []uint32, full func(lo, hi int)) {
	t.dir = make([]uint64, 2*(1<<t.width/64))
	for lo := 0; lo < len(sorted); {
		k := sorted[lo]
		hi := lo + 1
		for hi < len(sorted) && sorted[hi] == k {
			hi++
		}
		t.dir[k/64*2+1] |= 1 << (k & 63)
		full(lo, hi)
		lo = hi
	}
	rank := uint64(0)
	for e := 0; e < len(t.dir); e += 2 {
		t.dir[e] = rank
		rank += uint64(bits.OnesCount64(t.dir[e+1]))
	}
}

// slots appends to dst the slots of the full buckets among those whose
// number is qk^mask for each mask.
func (t *table) slots(qk uint32, masks []uint32, dst []uint32) []uint32 {
	n := len(dst)
	if cap(dst) < n+len(masks) {
		dst = slices.Grow(dst, len(masks))
	}
	dst = dst[:n+len(masks)]
	for _, mask := range masks {
		k := qk ^ mask
		e, b := k/64*2, k&63
		word := t.dir[e+1]
		// Branch-free: a full bucket's slot is kept by moving n on; the
		// next probe overwrites an empty one's.
		dst[n] = uint32(t.dir[e]) + uint32(bits.OnesCount64(word&(1<<b-1)))
		n += int(word >> b & 1)
	}
	return dst[:n]
}

// uniqueByID returns the indexes of ids in increasing order of id, keeping
// only the last index of an id that repeats.
func uniqueByID(ids []uint64) []uint32 {
	idx := make([]uint32, len(ids))
	for i := range idx {
		idx[i] = uint32(i)
	}
	keys := make([]uint64, len(ids))
	copy(keys, ids)
	radixSort(keys, idx)
	out := idx[:0]
	for j := range idx {
		if j+1 < len(idx) && keys[j+1] == keys[j] {
			continue // a later index has the same id; the sort is stable
		}
		out = append(out, idx[j])
	}
	return out
}

// radixSort sorts keys, and idx along with them, stably, 16 bits a pass;
// passes whose digit is the same for every key are skipped (ids below 2^32
// cost two passes).
func radixSort(keys []uint64, idx []uint32) {
	tk, ti := make([]uint64, len(keys)), make([]uint32, len(idx))
	var count [1 << 16]int
	for shift := 0; shift < 64; shift += 16 {
		clear(count[:])
		for _, k := range keys {
			count[k>>shift&0xffff]++
		}
		if len(keys) == 0 || count[keys[0]>>shift&0xffff] == len(keys) {
			continue
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for j, k := range keys {
			d := k >> shift & 0xffff
			tk[count[d]], ti[count[d]] = k, idx[j]
			count[d]++
		}
		copy(keys, tk)
		copy(idx, ti)
	}
}

// makePlans chooses, for each radius, between a scan and the cheapest
// thresholds. Raising table i's threshold from t to t+1 covers one more
// bit of radius at a cost of C(w, t+1) more buckets and their codes; those
// costs grow with t, so adding the cheapest step each time is optimal.
func (s *segment) makePlans() {
	n := float64(s.n())
	scan := n * costCode
	m := len(s.tables)
	t := make([]int8, m)
	for i := range t {
		t[i] = -1
	}
	cost, units := 0.0, 0
	feasible := m > 0
	for r := range s.plans {
		for feasible && units < r+1 {
			best, bestCost := -1, math.Inf(1)
			for i, ti := range t {
				if ti >= maxFlips {
					continue
				}
				w := s.tables[i].width
				load := n / float64(uint64(1)<<w) // codes a bucket
				full := -math.Expm1(-load)        // chance that a bucket holds any
				c := binomial(w, int(ti)+1) * (costProbe + full*costSlot + load*costCand)
				if c < bestCost {
					best, bestCost = i, c
				}
			}
			if best < 0 {
				feasible = false
				break
			}
			t[best]++
			cost += bestCost
			units++
		}
		if !feasible || cost >= scan {
			s.plans[r] = plan{brute: true}
			continue
		}
		s.plans[r] = plan{t: append([]int8(nil), t...)}
	}
}

func binomial(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	c := 1.0
	for i := 0; i < k; i++ {
		c = c * float64(n-i) / float64(i+1)
	}
	return c
}

func (s *segment) n() int    { return len(s.codes) }
func (s *segment) live() int { return len(s.codes) - s.dead }

func (s *segment) isDead(pos uint32) bool {
	return s.deadBits != nil && s.deadBits[pos>>6]&(1<<(pos&63)) != 0
}

// find returns the position of id, dead or alive.
func (s *segment) find(id uint64) (uint32, bool) {
	lo, hi := 0, len(s.byID)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.ids[s.byID[mid]] < id {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(s.byID) || s.ids[s.byID[lo]] != id {
		return 0, false
	}
	return s.byID[lo], true
}

// kill marks id dead and reports whether it was alive here.
func (s *segment) kill(id uint64) bool {
	pos, ok := s.find(id)
	if !ok || s.isDead(pos) {
		return false
	}
	if s.deadBits == nil {
		s.deadBits = make([]uint64, (len(s.codes)+63)/64)
	}
	s.deadBits[pos>>6] |= 1 << (pos & 63)
	s.dead++
	return true
}

// liveEntries appends the segment's live ids and codes.
func (s *segment) liveEntries(ids []uint64, codes []Code) ([]uint64, []Code) {
	for pos := range s.codes {
		if !s.isDead(uint32(pos)) {
			ids, codes = append(ids, s.ids[pos]), append(codes, s.codes[pos])
		}
	}
	return ids, codes
}

func (s *segment) bytes() int64 {
	n := int64(len(s.codes))*(32+8+4) + int64(len(s.deadBits))*8
	for _, t := range s.tables {
		n += int64(len(t.dir))*8 + int64(len(t.off)+len(t.head)+len(t.over))*4
	}
	return n
}

// scratch holds a search's intermediate lists.
type scratch struct {
	slots []uint32 // slots of the full ones
	cands []uint32 // positions of candidates
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// search probes a table in stages, each a loop of independent memory reads
// (the directory, then the slots, then the overflow lists, then the
// candidates' codes), so that the processor overlaps their cache misses
// instead of waiting on each in turn.
func (s *segment) search(q Code, r int, dst []Result) []Result {
	p := &s.plans[r]
	if p.brute {
		return s.scan(q, r, dst)
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	start := len(dst)
	for j, t := range p.t {
		if t < 0 {
			continue
		}
		tb := &s.tables[j]
		qk := tb.key(q)
		slots := tb.slots(qk, masksUpTo(tb.width, int(t)), sc.slots[:0])
		cands := sc.cands[:0]
		if j == 0 {
			for _, i := range slots {
				for pos := tb.off[i]; pos < tb.off[i+1]; pos++ {
					cands = append(cands, pos)
				}
			}
		} else {
			for i, slot := range slots {
				slots[i] = tb.head[slot]
			}
			for _, h := range slots {
				if h < listBit {
					cands = append(cands, h)
				} else {
					i := h &^ listBit
					cands = append(cands, tb.over[i+1:i+1+tb.over[i]]...)
				}
			}
		}
		for _, pos := range cands {
			if d := Distance(q, s.codes[pos]); d <= r && !s.isDead(pos) {
				dst = append(dst, Result{s.ids[pos], d})
			}
		}
		sc.slots, sc.cands = slots, cands
	}
	// A code near the query is often near it in several substrings, and
	// found in each of their tables: report it once.
	found := dst[start:]
	if len(found) > 1 {
		slices.SortFunc(found, func(a, b Result) int { return cmp.Compare(a.ID, b.ID) })
		dst = dst[:start+len(slices.CompactFunc(found, func(a, b Result) bool { return a.ID == b.ID }))]
	}
	return dst
}

func (s *segment) scan(q Code, r int, dst []Result) []Result {
	for pos := range s.codes {
		if d := Distance(q, s.codes[pos]); d <= r && !s.isDead(uint32(pos)) {
			dst = append(dst, Result{s.ids[pos], d})
		}
	}
	return dst
}

// masks[w] lists every w-bit mask of at most maxFlips bits, by weight;
// maskEnd[w][t] is where the masks of weight t end.
var (
	masksMu sync.Mutex
	masks   [maxWidth + 1][]uint32
	maskEnd [maxWidth + 1][maxFlips + 1]int
)

// ensureMasks makes the masks of width w before any search can read them.
func ensureMasks(w int) {
	masksMu.Lock()
	defer masksMu.Unlock()
	if masks[w] != nil {
		return
	}
	var list []uint32
	var gen func(from, left int, m uint32)
	for t := 0; t <= maxFlips; t++ {
		gen = func(from, left int, m uint32) {
			if left == 0 {
				list = append(list, m)
				return
			}
			for b := from; b < w; b++ {
				gen(b+1, left-1, m|1<<b)
			}
		}
		gen(0, t, 0)
		maskEnd[w][t] = len(list)
	}
	masks[w] = list
}

func masksUpTo(w, t int) []uint32 { return masks[w][:maskEnd[w][t]] }
