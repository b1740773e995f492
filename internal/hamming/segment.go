package hamming

import (
	"math"
	"math/bits"
	"runtime"
	"sync"
)

// A segment is an immutable set of codes with its multi-index tables; only
// its dead marks change.
//
// The codes are stored in the order of their table-0 substring, so table 0
// needs no postings: its bucket k is the run of codes off[k]..off[k+1]. The
// other tables list, per bucket, the positions of the codes whose substring
// is the bucket's number.
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
	off          []uint32 // 1<<width + 1 bucket starts
	post         []uint32 // positions by bucket; nil for table 0
}

// plan says how to search a segment at one radius.
type plan struct {
	brute bool
	t     []int8 // per table, the bit flips to probe; -1: not probed
}

// Substring geometry and the cost model. The constants are nanoseconds on
// the machine that measured them (see docs/benchmarks.md); only their ratios
// matter, as they decide between probing and scanning.
const (
	minTableN = 2048 // below this a scan is as fast and needs no tables
	maxWidth  = 26   // 2^26 offsets are 256 MiB a table
	minWidth  = 12
	maxFlips  = 4 // probing beyond C(w,4) buckets a table never beats a scan

	costProbe = 12.0 // a bucket: its offsets, loop overhead
	costCand  = 8.0  // a candidate: its posting, its code, its distance
	costCode  = 1.0  // a code in a scan
)

// widthBias shifts the substring width from log2(n), the width at which a
// bucket holds about one code: one bit wider halves the candidates and
// doubles the offset arrays.
var widthBias = 0

// geometry returns the substring width and the number of tables for n codes.
func geometry(n int) (width, m int) {
	if n < minTableN {
		return 0, 0
	}
	width = int(math.Round(math.Log2(float64(n)))) + widthBias
	width = max(minWidth, min(maxWidth, width))
	return width, 256 / width
}

func (t *table) key(c Code) uint32 {
	w, off := t.start>>6, uint(t.start&63)
	v := c[w] << off
	if int(off)+t.width > 64 {
		v |= c[w+1] >> (64 - off)
	}
	return uint32(v >> (64 - uint(t.width)))
}

// buildSegment indexes the codes; when an id repeats, its last code wins.
func buildSegment(ids []uint64, codes []Code) *segment {
	kept := uniqueByID(ids)
	n := len(kept)
	s := &segment{codes: make([]Code, n), ids: make([]uint64, n), byID: make([]uint32, n)}
	width, m := geometry(n)
	if m == 0 {
		for j, i := range kept {
			s.codes[j], s.ids[j], s.byID[j] = codes[i], ids[i], uint32(j)
		}
		s.makePlans()
		return s
	}
	s.tables = make([]table, m)
	for j := range s.tables {
		s.tables[j] = table{start: j * width, width: width}
	}
	ensureMasks(width)
	// Table 0 orders the codes: a counting sort by its substring, stable,
	// so that each bucket's codes are in order of id.
	t0 := &s.tables[0]
	t0.off = make([]uint32, 1<<width+1)
	for _, i := range kept {
		t0.off[t0.key(codes[i])+1]++
	}
	for k := 1; k < len(t0.off); k++ {
		t0.off[k] += t0.off[k-1]
	}
	for j, i := range kept {
		k := t0.key(codes[i])
		pos := t0.off[k]
		t0.off[k]++
		s.codes[pos], s.ids[pos], s.byID[j] = codes[i], ids[i], pos
	}
	copy(t0.off[1:], t0.off)
	t0.off[0] = 0

	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for j := 1; j < m; j++ {
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

// fill builds a table's offsets and postings by counting sort.
func (s *segment) fill(t *table) {
	t.off = make([]uint32, 1<<t.width+1)
	t.post = make([]uint32, len(s.codes))
	for _, c := range s.codes {
		t.off[t.key(c)+1]++
	}
	for k := 1; k < len(t.off); k++ {
		t.off[k] += t.off[k-1]
	}
	for pos, c := range s.codes {
		k := t.key(c)
		t.post[t.off[k]] = uint32(pos)
		t.off[k]++
	}
	copy(t.off[1:], t.off)
	t.off[0] = 0
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
				c := binomial(w, int(ti)+1) * (costProbe + costCand*n/float64(uint64(1)<<w))
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
		n += int64(len(t.off)+len(t.post)) * 4
	}
	return n
}

func (s *segment) search(q Code, r int, dst []Result) []Result {
	p := &s.plans[r]
	if p.brute {
		return s.scan(q, r, dst)
	}
	var qk [256 / minWidth]uint32
	for j := range s.tables {
		qk[j] = s.tables[j].key(q)
	}
	for j, t := range p.t {
		if t < 0 {
			continue
		}
		tb := &s.tables[j]
		for _, mask := range masksUpTo(tb.width, int(t)) {
			k := qk[j] ^ mask
			lo, hi := tb.off[k], tb.off[k+1]
			for i := lo; i < hi; i++ {
				pos := i
				if tb.post != nil {
					pos = tb.post[i]
				}
				c := &s.codes[pos]
				d := Distance(q, *c)
				if d > r || s.foundBefore(c, &qk, j, p) || s.isDead(pos) {
					continue
				}
				dst = append(dst, Result{s.ids[pos], d})
			}
		}
	}
	return dst
}

// foundBefore reports whether a table probed before table j also holds c
// within its threshold, so that each match is reported once.
func (s *segment) foundBefore(c *Code, qk *[256 / minWidth]uint32, j int, p *plan) bool {
	for i := 0; i < j; i++ {
		if p.t[i] >= 0 && bits.OnesCount32(qk[i]^s.tables[i].key(*c)) <= int(p.t[i]) {
			return true
		}
	}
	return false
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
