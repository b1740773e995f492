package pdq

// The reference's jaroszFilterFloat (box filters along rows, then columns,
// twice) followed by decimateFloat to 64x64, computed as one stream over
// the image's rows with exactly the same float32 values:
//
//   - every running sum sees the same additions and subtractions, in the
//     same order, as the reference's loops, so every value is identical;
//   - the four filters run as a pipeline, row by row: a luminance row is
//     made, filtered along the row, and pushed into the first column
//     filter, whose output rows go through the second row filter and into
//     the second column filter. The column filters keep only the rows
//     their windows still need (a ring of a few rows), so no full-size
//     intermediate plane is ever written or read back, and the working
//     set stays in the CPU's first-level caches;
//   - the last round divides only where decimation will read (64 columns of
//     each row, 64 rows of those columns);
//   - a division by a power of two becomes a multiplication by its
//     reciprocal, which is exact; other divisions by a window's count go
//     through float64 (see divideRow), which is exact too;
//   - rows are filtered eight at a time, so that independent running sums
//     overlap in the CPU instead of waiting on each other.

// rowSource returns row i (cols values) of a luminance plane, either a
// slice of a plane it holds or scratch, which it may fill and return.
type rowSource func(i int, scratch []float32) []float32

// blurDecimate filters and decimates a whole row-major plane.
func (h *Hasher) blurDecimate(buf []float32, rows, cols int, out *[64][64]float32) {
	h.blurDecimateRows(func(i int, _ []float32) []float32 { return buf[i*cols : (i+1)*cols] }, rows, cols, out)
}

// blurDecimateRows is blurDecimate with rows taken from src, in order.
func (h *Hasher) blurDecimateRows(src rowSource, rows, cols int, out *[64][64]float32) {
	p := &h.blur
	p.cols = cols
	winR, winC := windowSize(cols, 64), windowSize(rows, 64)
	p.winR = winR
	// Where each position lands in the last round: at the decimation
	// centres (lowest k wins where centres coincide), or nowhere (-1).
	centres := func(dst []int32, n int) []int32 {
		dst = grow(dst, n)
		for i := range dst {
			dst[i] = -1
		}
		for k := 63; k >= 0; k-- {
			dst[centre(k, n)] = int32(k)
		}
		return dst
	}
	p.rowDst = centres(p.rowDst, cols)
	p.colDst = centres(p.colDst, rows)

	// Scratch: a batch of source rows, the first column filter's ring and
	// sums, a batch of its output rows, the second's ring and sums.
	slots := ringSlots(winC)
	p.scratch = grow(p.scratch, batch*cols+slots*cols+cols+batch*cols+slots*64+64)
	s := p.scratch
	take := func(n int) []float32 { t := s[:n:n]; s = s[n:]; return t }
	srcRows := take(batch * cols)
	p.first = colBox{width: cols, window: winC, ring: take(slots * cols), slots: slots, sums: take(cols)}
	p.group = take(batch * cols)
	p.second = colBox{width: 64, window: winC, ring: take(slots * 64), slots: slots, sums: take(64)}
	p.pending = 0
	p.first.start()
	p.second.start()
	if useSIMD {
		p.startSIMD()
	}

	ident := h.identity(cols)
	for r0 := 0; r0 < rows; r0 += batch {
		n := min(batch, rows-r0)
		in := srcRows[:n*cols]
		for i := 0; i < n; i++ {
			row := src(r0+i, in[i*cols:(i+1)*cols])
			if &row[0] != &in[i*cols] {
				copy(in[i*cols:(i+1)*cols], row)
			}
		}
		p.boxRowsTo(in, winR, ident, func(i int) []float32 { return p.first.slot(r0 + i) })
		for i := 0; i < n; i++ {
			if p.first.push() {
				p.emitFirst()
			}
		}
	}
	for p.first.shrink() {
		p.emitFirst()
	}
	p.flush()
	for p.second.shrink() {
		p.emitSecond()
	}

	// Fill in centres that coincide (images narrower than 64 pixels).
	for k := 0; k < 64; k++ {
		src := int(p.colDst[centre(k, rows)])
		for j := 0; j < 64; j++ {
			out[k][j] = p.b[src*64+int(p.rowDst[centre(j, cols)])]
		}
	}
}

// blur is the state of blurDecimateRows, kept in the Hasher so that it
// allocates nothing once warm.
type blur struct {
	cols, winR     int
	first, second  colBox
	group          []float32 // output rows of first, waiting for a batch
	pending        int       // how many rows group holds
	b              [64 * 64]float32
	rowDst, colDst []int32 // where each position lands in the last round
	scratch        []float32
	// The SIMD row filter's: 8 rows' columns interleaved, with zero columns
	// either side (in), its output (out), and each output's divisor.
	in, out, divs []float32
}

// startSIMD sizes the SIMD row filter's buffers for p.cols and p.winR.
// The zero columns around the input make every step of the filter
// s = (s + next) - last, as the reference's four phases are: adding or
// subtracting a zero leaves a sum unchanged (sums of luminance are never
// -0, and x + 0 == x exactly for every other x).
func (p *blur) startSIMD() {
	cols, window := p.cols, p.winR
	half := (window + 2) / 2
	p.in = grow(p.in, (window+cols+half-1)*8)
	clear(p.in)
	p.out = grow(p.out, max(cols, 64)*8) // the last round writes 64 columns
	p.divs = grow(p.divs, cols)
	// The window's count at each output, as the reference's cur.
	cur, oi := half-1, 0
	for k := 0; k < window-half+1; k++ {
		cur++
		p.divs[oi] = float32(cur)
		oi++
	}
	for k := 0; k < cols-window; k++ {
		p.divs[oi] = float32(cur)
		oi++
	}
	for k := 0; k < half-1; k++ {
		cur--
		p.divs[oi] = float32(cur)
		oi++
	}
}

// emitFirst collects the first column filter's output row; a batch at a
// time is filtered along the row straight into the second's ring.
func (p *blur) emitFirst() {
	c := &p.first
	divideRow(p.group[p.pending*p.cols:(p.pending+1)*p.cols], c.sums, c.cur)
	p.pending++
	if p.pending == batch {
		p.flush()
	}
}

func (p *blur) flush() {
	r0 := p.second.ri
	p.boxRowsTo(p.group[:p.pending*p.cols], p.winR, p.rowDst, func(i int) []float32 { return p.second.slot(r0 + i) })
	for i := 0; i < p.pending; i++ {
		if p.second.push() {
			p.emitSecond()
		}
	}
	p.pending = 0
}

// emitSecond keeps the second column filter's output row if decimation
// reads it.
func (p *blur) emitSecond() {
	c := &p.second
	if d := int(p.colDst[c.oi-1]); d >= 0 {
		divideRow(p.b[d*64:d*64+64], c.sums, c.cur)
	}
}

// centre is the reference's decimation: output k of 64 reads input
// floor((k+0.5)*n/64).
func centre(k, n int) int { return int((float64(k) + 0.5) * float64(n) / 64) }

// ringSlots is how many rows a column filter of the window keeps: the
// window plus the batch of rows written ahead of being pushed.
func ringSlots(window int) int { return window + batch }

// batch is how many rows are filtered along the row at once (boxRows8).
const batch = 8

// identity returns 0, 1, ..., n-1: every position of a full round lands
// where it is.
func (h *Hasher) identity(n int) []int32 {
	if len(h.ident) != n {
		h.ident = grow(h.ident, n)
		for i := range h.ident {
			h.ident[i] = int32(i)
		}
	}
	return h.ident
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// divide divides by a window's count as the reference does (see
// divideRow for why this is its value).
func divide(sum float32, count int) float32 {
	if count&(count-1) == 0 {
		return sum * (1 / float32(count))
	}
	return quotient(sum, count, 1/float64(count))
}

// quotient is sum/float32(count), correctly rounded, computed as
// float32(float64(sum) * (1/count)) where that is provably the same value:
// the exact quotient of a float32 by an integer count that is not a power
// of two is never a float32 rounding midpoint, and lies at least 2^-25/count
// of its magnitude away from one, while the float64 product is within
// 2^-52 of it; so for counts up to 2^20 both round to the same float32.
// Tiny sums (whose quotients could be subnormal, where that spacing
// argument fails) take the plain division. TestQuotient checks it.
func quotient(sum float32, count int, inv float64) float32 {
	if sum < 0x1p-90 && sum > -0x1p-90 || count > 1<<20 {
		return sum / float32(count)
	}
	return float32(float64(sum) * inv)
}

// divideRow sets out[j] = sums[j] / count, as divide does.
func divideRow(out, sums []float32, count int) {
	out = out[:len(sums)]
	if n := len(sums) &^ 7; useSIMD && n > 0 {
		// A correctly rounded division, the reference's own.
		divAVX2(&out[0], &sums[0], float32(count), n)
		out, sums = out[n:], sums[n:]
	}
	if count&(count-1) == 0 {
		inv := 1 / float32(count)
		for j, s := range sums {
			out[j] = s * inv
		}
		return
	}
	inv := 1 / float64(count)
	for j, s := range sums {
		out[j] = quotient(s, count, inv)
	}
}

// boxRowsTo runs the reference's box1DFloat along every row of in (rows of
// p.cols values). Output position oi of row r goes to slot(r)[dst[oi]] when
// dst[oi] >= 0 and is skipped (not even divided) otherwise.
func (p *blur) boxRowsTo(in []float32, window int, dst []int32, slot func(r int) []float32) {
	cols := p.cols
	rows := len(in) / cols
	line := func(r int) []float32 { return in[r*cols : (r+1)*cols] }
	r := 0
	for ; r+8 <= rows; r += 8 {
		lines := [8][]float32{line(r), line(r + 1), line(r + 2), line(r + 3), line(r + 4), line(r + 5), line(r + 6), line(r + 7)}
		outs := [8][]float32{slot(r), slot(r + 1), slot(r + 2), slot(r + 3), slot(r + 4), slot(r + 5), slot(r + 6), slot(r + 7)}
		if useSIMD {
			p.boxRows8SIMD(&lines, &outs, window, dst)
		} else {
			boxRows8(&lines, &outs, window, dst)
		}
	}
	for ; r < rows; r++ {
		boxLine(line(r), slot(r), window, dst)
	}
}

// boxRows8SIMD is boxRows8 with the AVX2 kernels: the 8 rows are
// transposed so that each column is one vector, filtered with the
// reference's operations on all 8 rows at once, and transposed back.
func (p *blur) boxRows8SIMD(in, out *[8][]float32, window int, dst []int32) {
	cols := p.cols
	half := (window + 2) / 2
	body := p.in[window*8 : (window+cols)*8]
	blocks := cols / 8
	var src, to [8]*float32
	if blocks > 0 {
		for k := range 8 {
			src[k], to[k] = &in[k][0], &body[k*8]
		}
		transposeAVX2(&to, 8*8*4, &src, 8*4, blocks)
	}
	for c := blocks * 8; c < cols; c++ {
		for k := range 8 {
			body[c*8+k] = in[k][c]
		}
	}
	dst = dst[:cols]
	boxAVX2(&p.in[0], &p.out[0], &dst[0], &p.divs[0], cols+half-1, window, half-1)
	width := len(out[0])
	blocks = width / 8
	if blocks > 0 {
		for k := range 8 {
			src[k], to[k] = &p.out[k*8], &out[k][0]
		}
		transposeAVX2(&to, 8*4, &src, 8*8*4, blocks)
	}
	for c := blocks * 8; c < width; c++ {
		for k := range 8 {
			out[k][c] = p.out[c*8+k]
		}
	}
}

// boxRows8 filters 8 rows in lockstep, so that their running sums,
// each a chain of dependent additions, overlap in the CPU: the reference's
// four phases per line (accumulate half a window, emit while the window
// grows, slide, emit while it shrinks) at the same positions in every row.
func boxRows8(in, out *[8][]float32, window int, dst []int32) {
	cols := len(in[0])
	l0 := in[0][:cols]
	l1 := in[1][:cols]
	l2 := in[2][:cols]
	l3 := in[3][:cols]
	l4 := in[4][:cols]
	l5 := in[5][:cols]
	l6 := in[6][:cols]
	l7 := in[7][:cols]
	o0 := out[0]
	o1 := out[1]
	o2 := out[2]
	o3 := out[3]
	o4 := out[4]
	o5 := out[5]
	o6 := out[6]
	o7 := out[7]
	dst = dst[:cols]
	half := (window + 2) / 2
	slide := cols - window
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	ri, li, oi, cur := 0, 0, 0, 0
	for ; ri < half-1; ri++ {
		s0 += l0[ri]
		s1 += l1[ri]
		s2 += l2[ri]
		s3 += l3[ri]
		s4 += l4[ri]
		s5 += l5[ri]
		s6 += l6[ri]
		s7 += l7[ri]
		cur++
	}
	for k := 0; k < window-half+1; k++ {
		s0 += l0[ri]
		s1 += l1[ri]
		s2 += l2[ri]
		s3 += l3[ri]
		s4 += l4[ri]
		s5 += l5[ri]
		s6 += l6[ri]
		s7 += l7[ri]
		ri++
		cur++
		if d := dst[oi]; d >= 0 {
			o0[d] = divide(s0, cur)
			o1[d] = divide(s1, cur)
			o2[d] = divide(s2, cur)
			o3[d] = divide(s3, cur)
			o4[d] = divide(s4, cur)
			o5[d] = divide(s5, cur)
			o6[d] = divide(s6, cur)
			o7[d] = divide(s7, cur)
		}
		oi++
	}
	if window&(window-1) == 0 {
		inv := 1 / float32(window)
		for k := 0; k < slide; k++ {
			s0 += l0[ri]
			s1 += l1[ri]
			s2 += l2[ri]
			s3 += l3[ri]
			s4 += l4[ri]
			s5 += l5[ri]
			s6 += l6[ri]
			s7 += l7[ri]
			s0 -= l0[li]
			s1 -= l1[li]
			s2 -= l2[li]
			s3 -= l3[li]
			s4 -= l4[li]
			s5 -= l5[li]
			s6 -= l6[li]
			s7 -= l7[li]
			ri++
			li++
			if d := dst[oi]; d >= 0 {
				o0[d] = s0 * inv
				o1[d] = s1 * inv
				o2[d] = s2 * inv
				o3[d] = s3 * inv
				o4[d] = s4 * inv
				o5[d] = s5 * inv
				o6[d] = s6 * inv
				o7[d] = s7 * inv
			}
			oi++
		}
	} else {
		inv := 1 / float64(window)
		for k := 0; k < slide; k++ {
			s0 += l0[ri]
			s1 += l1[ri]
			s2 += l2[ri]
			s3 += l3[ri]
			s4 += l4[ri]
			s5 += l5[ri]
			s6 += l6[ri]
			s7 += l7[ri]
			s0 -= l0[li]
			s1 -= l1[li]
			s2 -= l2[li]
			s3 -= l3[li]
			s4 -= l4[li]
			s5 -= l5[li]
			s6 -= l6[li]
			s7 -= l7[li]
			ri++
			li++
			if d := dst[oi]; d >= 0 {
				o0[d] = quotient(s0, window, inv)
				o1[d] = quotient(s1, window, inv)
				o2[d] = quotient(s2, window, inv)
				o3[d] = quotient(s3, window, inv)
				o4[d] = quotient(s4, window, inv)
				o5[d] = quotient(s5, window, inv)
				o6[d] = quotient(s6, window, inv)
				o7[d] = quotient(s7, window, inv)
			}
			oi++
		}
	}
	for k := 0; k < half-1; k++ {
		s0 -= l0[li]
		s1 -= l1[li]
		s2 -= l2[li]
		s3 -= l3[li]
		s4 -= l4[li]
		s5 -= l5[li]
		s6 -= l6[li]
		s7 -= l7[li]
		li++
		cur--
		if d := dst[oi]; d >= 0 {
			o0[d] = divide(s0, cur)
			o1[d] = divide(s1, cur)
			o2[d] = divide(s2, cur)
			o3[d] = divide(s3, cur)
			o4[d] = divide(s4, cur)
			o5[d] = divide(s5, cur)
			o6[d] = divide(s6, cur)
			o7[d] = divide(s7, cur)
		}
		oi++
	}
}

// boxLine is boxRows8 for a single row.
func boxLine(in, out []float32, window int, dst []int32) {
	half := (window + 2) / 2
	var s float32
	ri, li, oi, cur := 0, 0, 0, 0
	emit := func() {
		if d := dst[oi]; d >= 0 {
			out[d] = divide(s, cur)
		}
		oi++
	}
	for ; ri < half-1; ri++ {
		s += in[ri]
		cur++
	}
	for k := 0; k < window-half+1; k++ {
		s += in[ri]
		ri++
		cur++
		emit()
	}
	for k := 0; k < len(in)-window; k++ {
		s += in[ri]
		ri++
		s -= in[li]
		li++
		emit()
	}
	for k := 0; k < half-1; k++ {
		s -= in[li]
		li++
		cur--
		emit()
	}
}

// colBox runs box1DFloat down every column of a stream of rows at once:
// each column's running sum sees the same operations in the same order as
// the reference's strided loop. Row i is written into slot(i) and then
// pushed; when push or shrink reports an output row (number oi-1), it is
// sums divided by cur, as the reference computes it at that point.
type colBox struct {
	width, window   int
	ring            []float32 // slots rows of width values
	slots           int
	sums            []float32
	half            int
	ri, li, oi, cur int
}

func (c *colBox) start() {
	c.half = (c.window + 2) / 2
	c.ri, c.li, c.oi, c.cur = 0, 0, 0, 0
	clear(c.sums)
}

// slot is where row i of the stream is kept while the window needs it.
func (c *colBox) slot(i int) []float32 {
	s := i % c.slots
	return c.ring[s*c.width : (s+1)*c.width]
}

// push takes in the next row, which must be in its slot, and reports
// whether an output row is ready.
func (c *colBox) push() bool {
	add := c.slot(c.ri)
	sums := c.sums[:len(add)]
	if c.ri >= c.window {
		sub := c.slot(c.li)[:len(add)]
		if n := len(sums) &^ 7; useSIMD && n > 0 {
			addSubAVX2(&sums[0], &add[0], &sub[0], n)
			sums, add, sub = sums[n:], add[n:], sub[n:]
		}
		for j := range sums {
			s := sums[j] + add[j]
			sums[j] = s - sub[j]
		}
		c.li++
	} else {
		if n := len(sums) &^ 7; useSIMD && n > 0 {
			addAVX2(&sums[0], &add[0], n)
			sums, add = sums[n:], add[n:]
		}
		for j, v := range add {
			sums[j] += v
		}
		c.cur++
	}
	c.ri++
	if c.ri < c.half {
		return false
	}
	c.oi++
	return true
}

// shrink takes the next step after the last input row, as the window
// shrinks, and reports whether it made an output row (false when done).
func (c *colBox) shrink() bool {
	if c.oi >= c.ri {
		return false
	}
	sums, sub := c.sums, c.slot(c.li)
	if n := len(sums) &^ 7; useSIMD && n > 0 {
		subAVX2(&sums[0], &sub[0], n)
		sums, sub = sums[n:], sub[n:]
	}
	for j, v := range sub {
		sums[j] -= v
	}
	c.li++
	c.cur--
	c.oi++
	return true
}
