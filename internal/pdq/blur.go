package pdq

// blurDecimate is the reference's jaroszFilterFloat (box filters along rows
// then columns, twice) followed by decimateFloat to 64x64, computing
// exactly the same float32 values with less work:
//
//   - the last round divides only where decimation will read (64 columns of
//     each row, then 64 rows of those columns) — the running sums still see
//     every input in the reference's order, so the values are identical;
//   - a division by a power of two becomes a multiplication by its
//     reciprocal, which is exact;
//   - rows are filtered four at a time and columns all at once, so that
//     independent running sums overlap in the CPU instead of waiting on
//     each other.
//
// It overwrites buf.
func (h *Hasher) blurDecimate(buf []float32, rows, cols int, out *[64][64]float32) {
	winR, winC := windowSize(cols, 64), windowSize(rows, 64)
	n := rows * cols
	h.buf2 = grow(h.buf2, n)
	h.buf3 = grow(h.buf3, rows*64)
	h.colSums = grow(h.colSums, max(cols, 64))
	tmp, narrow := h.buf2[:n], h.buf3[:rows*64]

	// Where each input position lands: everywhere (identity) for the full
	// rounds, at the decimation centres for the last.
	all := func(dst []int32, n int) []int32 {
		dst = grow(dst, n)[:n]
		for i := range dst {
			dst[i] = int32(i)
		}
		return dst
	}
	centres := func(dst []int32, n int) []int32 {
		dst = grow(dst, n)[:n]
		for i := range dst {
			dst[i] = -1
		}
		for k := 63; k >= 0; k-- { // lowest k wins where centres coincide
			dst[int((float64(k)+0.5)*float64(n)/64)] = int32(k)
		}
		return dst
	}

	for pass := 0; pass < jaroszPasses-1; pass++ {
		h.rowDst = all(h.rowDst, cols)
		boxRows(buf, tmp, rows, cols, winR, h.rowDst, cols)
		h.colDst = all(h.colDst, rows)
		boxCols(tmp, buf, rows, cols, winC, h.colDst, h.colSums[:cols])
	}
	h.rowDst = centres(h.rowDst, cols)
	boxRows(buf, narrow, rows, cols, winR, h.rowDst, 64)
	h.colDst = centres(h.colDst, rows)
	var b [64 * 64]float32
	boxCols(narrow, b[:], rows, 64, winC, h.colDst, h.colSums[:64])

	// Fill in centres that coincide (images narrower than 64 pixels).
	for k := 0; k < 64; k++ {
		src := int(h.colDst[int((float64(k)+0.5)*float64(rows)/64)])
		srcCol := func(j int) int {
			return int(h.rowDst[int((float64(j)+0.5)*float64(cols)/64)])
		}
		for j := 0; j < 64; j++ {
			out[k][j] = b[src*64+srcCol(j)]
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// divider divides by a window's count the way the reference does, but by
// multiplying where the count is a power of two (exact in binary floating
// point).
func divide(sum float32, count int) float32 {
	if count&(count-1) == 0 {
		return sum * (1 / float32(count))
	}
	return sum / float32(count)
}

// boxRows runs the reference's box1DFloat along every row of in (rows x
// cols). Output position oi of row r goes to out[r*outCols+dst[oi]] when
// dst[oi] >= 0 and is skipped (not even divided) otherwise.
//
// The reference's four phases per line: accumulate half a window, emit
// while the window grows, slide, emit while it shrinks. Every row has the
// same window positions, so four rows slide in lockstep.
func boxRows(in, out []float32, rows, cols, window int, dst []int32, outCols int) {
	half := (window + 2) / 2
	slide := cols - window
	pow2 := window&(window-1) == 0
	inv := 1 / float32(window)
	r := 0
	for ; r+4 <= rows; r += 4 {
		l0, l1, l2, l3 := in[r*cols:(r+1)*cols], in[(r+1)*cols:(r+2)*cols], in[(r+2)*cols:(r+3)*cols], in[(r+3)*cols:(r+4)*cols]
		o0, o1, o2, o3 := out[r*outCols:(r+1)*outCols], out[(r+1)*outCols:(r+2)*outCols], out[(r+2)*outCols:(r+3)*outCols], out[(r+3)*outCols:(r+4)*outCols]
		var s0, s1, s2, s3 float32
		ri, li, oi, cur := 0, 0, 0, 0
		for ; ri < half-1; ri++ {
			s0 += l0[ri]
			s1 += l1[ri]
			s2 += l2[ri]
			s3 += l3[ri]
			cur++
		}
		for k := 0; k < window-half+1; k++ {
			s0 += l0[ri]
			s1 += l1[ri]
			s2 += l2[ri]
			s3 += l3[ri]
			ri++
			cur++
			if d := dst[oi]; d >= 0 {
				o0[d], o1[d], o2[d], o3[d] = divide(s0, cur), divide(s1, cur), divide(s2, cur), divide(s3, cur)
			}
			oi++
		}
		for k := 0; k < slide; k++ {
			s0 += l0[ri]
			s1 += l1[ri]
			s2 += l2[ri]
			s3 += l3[ri]
			s0 -= l0[li]
			s1 -= l1[li]
			s2 -= l2[li]
			s3 -= l3[li]
			ri++
			li++
			if d := dst[oi]; d >= 0 {
				if pow2 {
					o0[d], o1[d], o2[d], o3[d] = s0*inv, s1*inv, s2*inv, s3*inv
				} else {
					c := float32(window)
					o0[d], o1[d], o2[d], o3[d] = s0/c, s1/c, s2/c, s3/c
				}
			}
			oi++
		}
		for k := 0; k < half-1; k++ {
			s0 -= l0[li]
			s1 -= l1[li]
			s2 -= l2[li]
			s3 -= l3[li]
			li++
			cur--
			if d := dst[oi]; d >= 0 {
				o0[d], o1[d], o2[d], o3[d] = divide(s0, cur), divide(s1, cur), divide(s2, cur), divide(s3, cur)
			}
			oi++
		}
	}
	for ; r < rows; r++ {
		boxLine(in[r*cols:(r+1)*cols], out[r*outCols:(r+1)*outCols], window, dst)
	}
}

// boxLine is boxRows for a single row.
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

// boxCols runs box1DFloat down every column of in (rows x cols) at once,
// walking rows in memory order: each column's running sum sees the same
// operations in the same order as the reference's strided loop. Output row
// oi goes to row dst[oi] of out (rows of cols values) when dst[oi] >= 0.
func boxCols(in, out []float32, rows, cols, window int, dst []int32, sums []float32) {
	half := (window + 2) / 2
	clear(sums)
	row := func(i int) []float32 { return in[i*cols : (i+1)*cols] }
	cur := 0
	ri, li, oi := 0, 0, 0
	emit := func() {
		if d := int(dst[oi]); d >= 0 {
			o := out[d*cols : (d+1)*cols]
			if cur&(cur-1) == 0 {
				inv := 1 / float32(cur)
				for j, s := range sums {
					o[j] = s * inv
				}
			} else {
				c := float32(cur)
				for j, s := range sums {
					o[j] = s / c
				}
			}
		}
		oi++
	}
	for ; ri < half-1; ri++ {
		for j, v := range row(ri) {
			sums[j] += v
		}
		cur++
	}
	for k := 0; k < window-half+1; k++ {
		for j, v := range row(ri) {
			sums[j] += v
		}
		ri++
		cur++
		emit()
	}
	for k := 0; k < rows-window; k++ {
		add, sub := row(ri), row(li)
		add, sub = add[:len(sums)], sub[:len(sums)]
		for j := range sums {
			s := sums[j] + add[j]
			sums[j] = s - sub[j]
		}
		ri++
		li++
		emit()
	}
	for k := 0; k < half-1; k++ {
		for j, v := range row(li) {
			sums[j] -= v
		}
		li++
		cur--
		emit()
	}
}
