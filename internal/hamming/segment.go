package hamming

import (
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"unsafe"
)

// A segment is an immutable set of codes with its multi-index tables; only
// its dead marks change.
//
// Each table has a directory with a bit per bucket, set when the bucket
// holds a code, and the count of set bits before every 256 buckets: so a
// probe of an empty bucket, the usual case, reads only its bit, and a probe
// of a full bucket finds its slot among the full buckets' slots with a
// count and up to four popcounts of words in one cache line. (A count every
// 64 buckets, as the first version had, made the directory 2 bits a bucket
// instead of 1.125.)
//
// The codes are stored in the order of their table-0 substring, so table 0
// needs no postings: its slot i says where the i-th full bucket's run of
// codes starts, and probing it reads codes in sequence. In the other
// tables, a full bucket's slot holds the position of its one code, or
// points into the overflow list, where the bucket's positions follow each
// other and the last is marked: a bit, where a count would cost a word a
// bucket. Positions, offsets and slots are packed in log2(n) bits (one
// more for the mark), not 32.
type segment struct {
	codes []Code
	ids   []uint64
	byID  packed // positions in increasing order of id, for kill
	// dead marks removed positions; nil until the first removal.
	deadBits []uint64
	dead     int
	tables   []table   // none when the segment is too small to be worth them
	plans    [257]plan // by radius
}

// A table indexes one substring: bits [start, start+width) of the code.
type table struct {
	start, width int
	// Bit b of full[e] is set when bucket 64e+b holds a code; rank[g]
	// counts the full buckets before bucket 256g.
	full []uint64
	rank []uint32
	off  packed // table 0: where each full bucket's codes start, and n
	// Other tables: per full bucket, its one position, or mark|i when its
	// positions are over[i], over[i+1], … up to the first with mark set.
	head, over packed
	mark       uint32 // the bit above a position
}

// maxCodes keeps a position and its mark within 32 bits.
const maxCodes = 1<<31 - 1

// plan says how to search a segment at one radius.
type plan struct {
	brute bool
	t     []int8 // per table, the bit flips to probe; -1: not probed
	// probed counts the tables with t >= 0; budget is the number of
	// bucket entries a query may read before a scan would have been
	// cheaper (see search).
	probed int
	budget float64
}

// Substring geometry and the cost model. The costs are nanoseconds, fitted
// to where probing stopped beating a scan on the machine that measured them
// (docs/benchmarks.md: about radius 48 at 2,048 codes, 56 at 8,192 and 60
// to 64 from 32,768 to a million); only their ratios matter.
const (
	minTableN = 2048 // below this a scan is as fast and needs no tables
	// maxWidth bounds what BuildWidth and a snapshot may hold: 2^30
	// buckets make a 144 MiB directory. widthCap bounds the default
	// (Build, merges): measured at 100 M codes (docs/benchmarks.md).
	maxWidth  = 30
	widthCap  = 26
	wideCap   = 29      // the default's cap from wideFrom codes (defaultWidths)
	wideFrom  = 1 << 26 // about 67 M codes
	minWidth  = 12
	maxTables = 256 / minWidth
	maxFlips  = 4 // probing beyond C(w,4) buckets a table never beats a scan

	costProbe = 2.0  // a bucket: its directory word, from cache
	costSlot  = 10.0 // a full bucket: its slot, a cache miss
	costCand  = 20.0 // a candidate: its code, a cache miss, and its distance
	costCode  = 2.5  // a code in a scan
	// costEntry is what a bucket entry costs on average when a query's
	// buckets are crowded: near-duplicates of the query, found again in
	// table after table, whose codes are by then in cache. It sets when a
	// query bails out to a scan (docs/benchmarks.md has the measurements).
	costEntry = 15.0
)

// widthBias shifts the substring width from log2(n), the width at which a
// bucket holds about one code: one bit wider halves the candidates, doubles
// the directory and costs more probes (docs/benchmarks.md has the sweep).
const widthBias = 2

// defaultWidths returns the substring widths Build and merges give a
// segment of n codes. From wideFrom codes the cap rises to wideCap: at
// 100 M codes, where a candidate costs two or three cache misses (its slot,
// then its code in gigabytes), nine tables of 28-29 bits read a third of
// the candidates and hold less than ten of 25-26; measured on a quiet
// machine, CPU p99 1.75 ms against 4.49 (docs/hamming.md, "Wider tables at
// 100 M"). At 30 M the two were within noise of each other (clustered
// better, random worse), so below wideFrom the narrower cap stays.
func defaultWidths(n int) []int {
	if n >= wideFrom {
		return geometry(n, widthBias, wideCap)
	}
	return geometry(n, widthBias, widthCap)
}

// geometry returns the substring widths for n codes: about log2(n)+bias
// bits each, at most limit-1, split as split does.
func geometry(n, bias, limit int) []int {
	if n < minTableN {
		return nil
	}
	w := int(math.Round(math.Log2(float64(n)))) + bias
	return split(max(minWidth, min(limit-1, w)))
}

// split returns as many tables of w bits as fit in 256 bits, with the bits
// left over spread over them (one more bit each at most).
func split(w int) []int {
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
	return buildSegmentWidths(ids, codes, defaultWidths, false)
}

// buildSegmentWidths is buildSegment with the substring widths that
// widths gives for the number of distinct ids, so that tests and
// benchmarks can trace the trade between memory and time. When own is set
// and the ids increase, the segment reorders and keeps the caller's slices
// instead of copying them (see BuildInPlace).
func buildSegmentWidths(ids []uint64, codes []Code, widths func(n int) []int, own bool) *segment {
	// kept lists the codes to index in increasing order of id; nil when
	// that is all of them in their own order, the usual case, which saves
	// the sort and its 24 bytes a code of scratch.
	var kept []uint32
	n := len(ids)
	if !increasing(ids) {
		kept = uniqueByID(ids)
		n = len(kept)
	}
	if n > maxCodes {
		panic("hamming: more than 2^31-1 codes in one segment")
	}
	src := func(j int) int {
		if kept == nil {
			return j
		}
		return int(kept[j])
	}
	// Kept slices with much room beyond their length (append's growth)
	// would hold that room for the life of the index: copy those.
	own = own && kept == nil && cap(codes)-n <= n/16 && cap(ids)-n <= n/16
	s := &segment{byID: newPacked(n, posBits(n))}
	if own {
		s.codes, s.ids = codes[:n:n], ids[:n:n]
		// The caller's pages are already in place: collapse them.
		collapseHuge(unsafe.Pointer(unsafe.SliceData(s.codes)), uintptr(n)*unsafe.Sizeof(Code{}))
	} else {
		s.codes, s.ids = hugeSlice[Code](n), make([]uint64, n)
	}
	s.tables = newTables(widths(n))
	if own && len(s.tables) == 0 {
		for j := range n {
			s.byID.set(j, uint32(j))
		}
		s.makePlans(s.n())
		return s
	}
	if len(s.tables) == 0 {
		for j := range n {
			i := src(j)
			s.codes[j], s.ids[j] = codes[i], ids[i]
			s.byID.set(j, uint32(j))
		}
		s.makePlans(s.n())
		return s
	}
	// Table 0 orders the codes; within a bucket they stay in order of id.
	t0 := &s.tables[0]
	pairs := bucketOrder(n, t0.width, func(j int) uint32 { return t0.key(codes[src(j)]) })
	if own {
		permute(s, pairs)
	}
	for pos, pr := range pairs {
		if own {
			s.byID.set(int(uint32(pr)), uint32(pos))
			continue
		}
		j := int(uint32(pr))
		i := src(j)
		s.codes[pos], s.ids[pos] = codes[i], ids[i]
		s.byID.set(j, uint32(pos))
	}
	full, _ := runs(pairs)
	t0.off = newPacked(full+1, posBits(n))
	k := 0
	t0.index(pairs, func(lo, hi int) { t0.off.set(k, uint32(lo)); k++ })
	t0.off.set(k, uint32(n))
	pairs = nil // the other tables' scratch takes its place
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
	s.makePlans(s.n())
	return s
}

// permute moves the segment's codes and ids, in place, to the order of
// pairs: position pos gets what was at uint32(pairs[pos]). It follows each
// cycle of the permutation, holding one code and id aside, with a bit a
// position to mark those already moved: n/8 bytes of scratch instead of a
// copy of 40 bytes a code.
func permute(s *segment, pairs []uint64) {
	moved := make([]uint64, (len(pairs)+63)/64)
	for p := range pairs {
		if moved[p>>6]&(1<<(p&63)) != 0 {
			continue
		}
		held, heldID := s.codes[p], s.ids[p]
		for q := p; ; {
			moved[q>>6] |= 1 << (q & 63)
			from := int(uint32(pairs[q]))
			if from == p {
				s.codes[q], s.ids[q] = held, heldID
				break
			}
			s.codes[q], s.ids[q] = s.codes[from], s.ids[from]
			q = from
		}
	}
}

// increasing reports whether ids are in strictly increasing order.
func increasing(ids []uint64) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return false
		}
	}
	return true
}

// fill builds a table's directory and slots: a slot holds a bucket's one
// position, or points into the overflow list.
func (s *segment) fill(t *table) {
	pairs := bucketOrder(len(s.codes), t.width, func(pos int) uint32 { return t.key(s.codes[pos]) })
	full, listed := runs(pairs)
	t.setWidths(len(s.codes), full, listed)
	k, o := 0, 0
	t.index(pairs, func(lo, hi int) {
		if hi-lo == 1 {
			t.head.set(k, uint32(pairs[lo]))
			k++
			return
		}
		t.head.set(k, t.mark|uint32(o))
		k++
		for _, pr := range pairs[lo:hi] {
			t.over.set(o, uint32(pr))
			o++
		}
		t.over.set(o-1, t.mark|uint32(pairs[hi-1]))
	})
}

// setWidths makes a table's empty slots and overflow list for a segment
// of n codes.
func (t *table) setWidths(n, full, listed int) {
	b := posBits(n)
	t.mark = 1 << b
	t.head, t.over = newPacked(full, b+1), newPacked(listed, b+1)
}

// runs counts the full buckets among pairs sorted by key, and the codes in
// buckets of more than one, so that the slots and the overflow list are
// allocated exactly: append's growth would leave up to a quarter of them
// unused for the life of the index.
func runs(pairs []uint64) (full, listed int) {
	for i, pr := range pairs {
		k := pr >> 32
		switch {
		case i == 0 || k != pairs[i-1]>>32:
			full++
		case i == 1 || k != pairs[i-2]>>32:
			listed += 2 // a bucket of two
		default:
			listed++
		}
	}
	return full, listed
}

// bucketOrder returns key(i)<<32|i for each i below n, in increasing
// order: by key of width bits, and within a key by i. It distributes the
// pairs by their top 11 bits of key, which keeps the counts and the write
// streams in cache, and then sorts each group, small enough to stay in
// cache, by the rest of its key. Its scratch beyond the result is one
// group: half what a radix sort of keys and a permutation alongside needs.
func bucketOrder(n, width int, key func(i int) uint32) []uint64 {
	hi := min(width, 11)
	lo := width - hi
	var start [1<<11 + 1]int
	for i := range n {
		start[key(i)>>lo+1]++
	}
	for d := 1; d < len(start); d++ {
		start[d] += start[d-1]
	}
	next := start
	pairs := make([]uint64, n)
	for i := range n {
		k := key(i)
		d := k >> lo
		pairs[next[d]] = uint64(k)<<32 | uint64(i)
		next[d]++
	}
	var tmp []uint64
	for d := range 1 << hi {
		if g := pairs[start[d]:start[d+1]]; len(g) > 1 && lo > 0 {
			tmp = sortLow(g, lo, tmp)
		}
	}
	return pairs
}

// sortLow sorts pairs whose keys share all but their low lo bits, and
// whose indexes increase, into increasing order: a stable radix sort of
// the low bits, in passes of at most 8, through tmp (returned for reuse).
func sortLow(g []uint64, lo int, tmp []uint64) []uint64 {
	if len(g) <= 32 {
		slices.Sort(g) // the indexes break ties, so any sort is stable here
		return tmp
	}
	if cap(tmp) < len(g) {
		tmp = make([]uint64, len(g))
	}
	src, dst := g, tmp[:len(g)]
	passes := (lo + 7) / 8
	shift := 32
	for p := range passes {
		digits := (lo - (shift - 32) + passes - p - 1) / (passes - p)
		mask := uint64(1)<<digits - 1
		var count [1<<8 + 1]int
		for _, v := range src {
			count[v>>shift&mask+1]++
		}
		for d := 1; d < len(count); d++ {
			count[d] += count[d-1]
		}
		for _, v := range src {
			d := v >> shift & mask
			dst[count[d]] = v
			count[d]++
		}
		src, dst = dst, src
		shift += digits
	}
	if passes%2 == 1 {
		copy(g, src)
	}
	return tmp
}

// index makes the table's directory from pairs sorted by key, calling bucket
// with the bounds of each bucket's run of pairs, in order.
func (t *table) index(pairs []uint64, bucket func(lo, hi int)) {
	t.full = hugeSlice[uint64](1 << t.width / 64)
	for lo := 0; lo < len(pairs); {
		k := uint32(pairs[lo] >> 32)
		hi := lo + 1
		for hi < len(pairs) && uint32(pairs[hi]>>32) == k {
			hi++
		}
		t.full[k/64] |= 1 << (k & 63)
		bucket(lo, hi)
		lo = hi
	}
	t.ranks()
}

// ranks counts the full buckets before every 256, and returns how many
// there are.
func (t *table) ranks() int {
	t.rank = make([]uint32, len(t.full)/4)
	n := 0
	for e, w := range t.full {
		if e%4 == 0 {
			t.rank[e/4] = uint32(n)
		}
		n += bits.OnesCount64(w)
	}
	return n
}

// slot returns the slot of full bucket k: the number of full buckets
// before it.
func (t *table) slot(k uint32) uint32 {
	e := k / 64
	r := t.rank[k/256] + uint32(bits.OnesCount64(t.full[e]&(1<<(k&63)-1)))
	for i := e &^ 3; i < e; i++ {
		r += uint32(bits.OnesCount64(t.full[i]))
	}
	return r
}

// slots appends to dst the slots of the full buckets among those whose
// number is qk^mask for each mask.
func (t *table) slots(qk uint32, masks []uint32, dst []uint32) []uint32 {
	n := len(dst)
	if cap(dst) < n+len(masks) {
		dst = slices.Grow(dst, len(masks))
	}
	dst = dst[:n+len(masks)]
	start := n
	for _, mask := range masks {
		k := qk ^ mask
		// Branch-free: a full bucket is kept by moving n on; the next
		// probe overwrites an empty one.
		dst[n] = k
		n += int(t.full[k/64] >> (k & 63) & 1)
	}
	// The few full ones' words are in cache now.
	for i := start; i < n; i++ {
		dst[i] = t.slot(dst[i])
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
// size is the segment's number of codes (a test passes another, to see the
// plans of a segment larger than it can build).
func (s *segment) makePlans(size int) {
	n := float64(size)
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
		probed := 0
		for _, ti := range t {
			if ti >= 0 {
				probed++
			}
		}
		s.plans[r] = plan{t: append([]int8(nil), t...), probed: probed, budget: scan / costEntry}
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
	lo, hi := 0, s.byID.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.ids[s.byID.get(mid)] < id {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == s.byID.n || s.ids[s.byID.get(lo)] != id {
		return 0, false
	}
	return s.byID.get(lo), true
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
	n := int64(len(s.codes))*(32+8) + s.byID.bytes() + int64(len(s.deadBits))*8
	for _, t := range s.tables {
		n += int64(len(t.full))*8 + int64(len(t.rank))*4 + t.off.bytes() + t.head.bytes() + t.over.bytes()
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
//
// Two things keep a query among near-duplicates, whose buckets are
// crowded, from costing more than a scan. A code near the query is near it
// in most substrings and found in table after table; it is reported only
// by the first table that finds it, which the distances of its substrings
// tell without any memory of what was found. And the plan's costs assume
// buckets of average size: when the entries read so far, extrapolated
// over the tables left, would cost more than scanning the segment, the
// query scans it instead.
func (s *segment) search(q Code, r int, dst []Result) []Result {
	p := &s.plans[r]
	if p.brute {
		return s.scan(q, r, dst)
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	start := len(dst)
	entries, done := 0, 0
	for j, t := range p.t {
		if t < 0 {
			continue
		}
		cands := s.candidates(q, j, int(t), sc)
		entries += len(cands)
		done++
		if s.crowded(p, entries, done) {
			return s.scan(q, r, dst[:start])
		}
		for _, pos := range cands {
			c := &s.codes[pos]
			if d := Distance(q, *c); d <= r && !s.isDead(pos) && !s.foundBefore(q, c, p, j) {
				dst = append(dst, Result{s.ids[pos], d})
			}
		}
	}
	return dst
}

// candidates returns the positions in table j's buckets within t bit
// flips of the query's, in sc.cands.
func (s *segment) candidates(q Code, j, t int, sc *scratch) []uint32 {
	tb := &s.tables[j]
	slots := tb.slots(tb.key(q), masksUpTo(tb.width, t), sc.slots[:0])
	cands := sc.cands[:0]
	if j == 0 {
		for _, i := range slots {
			for pos, end := tb.off.get(int(i)), tb.off.get(int(i)+1); pos < end; pos++ {
				cands = append(cands, pos)
			}
		}
	} else {
		for i, slot := range slots {
			slots[i] = tb.head.get(int(slot))
		}
		for _, h := range slots {
			if h < tb.mark {
				cands = append(cands, h)
				continue
			}
			for o := int(h &^ tb.mark); ; o++ {
				v := tb.over.get(o)
				cands = append(cands, v&^tb.mark)
				if v&tb.mark != 0 {
					break
				}
			}
		}
	}
	sc.slots, sc.cands = slots, cands
	return cands
}

// crowded reports whether a query that has read entries in the first done
// of its plan's tables would, at that rate, cost more than a scan.
func (s *segment) crowded(p *plan, entries, done int) bool {
	return float64(entries)*float64(p.probed)/float64(done) > p.budget
}

// foundBefore reports whether a table probed before table j found c: it
// did when c's substring there is within that table's flips of the
// query's. Only codes within the radius ask, so the cost is theirs.
func (s *segment) foundBefore(q Code, c *Code, p *plan, j int) bool {
	x := Code{q[0] ^ c[0], q[1] ^ c[1], q[2] ^ c[2], q[3] ^ c[3]}
	for i, t := range p.t[:j] {
		if t >= 0 && bits.OnesCount32(s.tables[i].key(x)) <= int(t) {
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
