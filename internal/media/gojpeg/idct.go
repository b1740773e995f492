package gojpeg

// The inverse DCTs are libjpeg's (jidctint.c and jidctred.c, which
// libjpeg-turbo keeps, and whose SIMD versions give the same results):
// fixed point with 13 fractional bits for the constants and 2 extra bits
// kept between the column and row passes. Blocks arrive dequantised, in
// natural order; each writes scale x scale pixels at out, rows stride
// apart.

const (
	constBits = 13
	pass1Bits = 2
)

// The constants are round(x * 2^13), as libjpeg's FIX macro makes them.
const (
	fix0_211164243 = 1730  // 0.211164243
	fix0_298631336 = 2446  // 0.298631336
	fix0_390180644 = 3196  // 0.390180644
	fix0_509795579 = 4176  // 0.509795579
	fix0_541196100 = 4433  // 0.541196100
	fix0_601344887 = 4926  // 0.601344887
	fix0_720959822 = 5906  // 0.720959822
	fix0_765366865 = 6270  // 0.765366865
	fix0_850430095 = 6967  // 0.850430095
	fix0_899976223 = 7373  // 0.899976223
	fix1_061594337 = 8697  // 1.061594337
	fix1_175875602 = 9633  // 1.175875602
	fix1_272758580 = 10426 // 1.272758580
	fix1_451774981 = 11893 // 1.451774981
	fix1_501321110 = 12299 // 1.501321110
	fix1_847759065 = 15137 // 1.847759065
	fix1_961570560 = 16069 // 1.961570560
	fix2_053119869 = 16819 // 2.053119869
	fix2_172734803 = 17799 // 2.172734803
	fix2_562915447 = 20995 // 2.562915447
	fix3_072711026 = 25172 // 3.072711026
	fix3_624509785 = 29692 // 3.624509785
)

func descale(x int64, n uint) int64 { return (x + 1<<(n-1)) >> n }

// sample adds the centre back and clamps, as libjpeg-turbo's SIMD code
// does (its C code wraps values far out of range; valid data has none).
func sample(x int64) uint8 {
	x += 128
	if x < 0 {
		return 0
	}
	if x > 255 {
		return 255
	}
	return uint8(x)
}

func idctFor(scale int) func(*[64]int32, []uint8, int) {
	switch scale {
	case 8:
		return idct8x8
	case 4:
		return idct4x4
	case 2:
		return idct2x2
	}
	return idct1x1
}

// idct8x8 is jpeg_idct_islow. Both passes are written out in full rather
// than share a function: at full size this is half of a decode's time.
func idct8x8(in *[64]int32, out []uint8, stride int) {
	var ws [64]int32
	for c := 0; c < 8; c++ {
		if in[8+c]|in[16+c]|in[24+c]|in[32+c]|in[40+c]|in[48+c]|in[56+c] == 0 {
			dc := in[c] << pass1Bits
			for r := 0; r < 64; r += 8 {
				ws[r+c] = dc
			}
			continue
		}
		const shift = constBits - pass1Bits
		const round = 1 << (shift - 1)
		x0, x1, x2, x3 := int64(in[c]), int64(in[8+c]), int64(in[16+c]), int64(in[24+c])
		x4, x5, x6, x7 := int64(in[32+c]), int64(in[40+c]), int64(in[48+c]), int64(in[56+c])
		z1 := (x2 + x6) * fix0_541196100
		e2 := z1 + x6*-fix1_847759065
		e3 := z1 + x2*fix0_765366865
		e0 := (x0 + x4) << constBits
		e1 := (x0 - x4) << constBits
		t10, t13 := e0+e3, e0-e3
		t11, t12 := e1+e2, e1-e2
		o0, o1, o2, o3 := oddIslow(x7, x5, x3, x1)
		ws[c] = int32((t10 + o3 + round) >> shift)
		ws[56+c] = int32((t10 - o3 + round) >> shift)
		ws[8+c] = int32((t11 + o2 + round) >> shift)
		ws[48+c] = int32((t11 - o2 + round) >> shift)
		ws[16+c] = int32((t12 + o1 + round) >> shift)
		ws[40+c] = int32((t12 - o1 + round) >> shift)
		ws[24+c] = int32((t13 + o0 + round) >> shift)
		ws[32+c] = int32((t13 - o0 + round) >> shift)
	}
	for r := 0; r < 8; r++ {
		w := (*[8]int32)(ws[8*r:])
		row := (*[8]uint8)(out[r*stride:])
		if w[1]|w[2]|w[3]|w[4]|w[5]|w[6]|w[7] == 0 {
			v := sample(descale(int64(w[0]), pass1Bits+3))
			*row = [8]uint8{v, v, v, v, v, v, v, v}
			continue
		}
		const shift = constBits + pass1Bits + 3
		const round = 1 << (shift - 1)
		x0, x2, x4, x6 := int64(w[0]), int64(w[2]), int64(w[4]), int64(w[6])
		z1 := (x2 + x6) * fix0_541196100
		e2 := z1 + x6*-fix1_847759065
		e3 := z1 + x2*fix0_765366865
		e0 := (x0 + x4) << constBits
		e1 := (x0 - x4) << constBits
		t10, t13 := e0+e3, e0-e3
		t11, t12 := e1+e2, e1-e2
		o0, o1, o2, o3 := oddIslow(int64(w[7]), int64(w[5]), int64(w[3]), int64(w[1]))
		row[0] = sample((t10 + o3 + round) >> shift)
		row[7] = sample((t10 - o3 + round) >> shift)
		row[1] = sample((t11 + o2 + round) >> shift)
		row[6] = sample((t11 - o2 + round) >> shift)
		row[2] = sample((t12 + o1 + round) >> shift)
		row[5] = sample((t12 - o1 + round) >> shift)
		row[3] = sample((t13 + o0 + round) >> shift)
		row[4] = sample((t13 - o0 + round) >> shift)
	}
}

// oddIslow is the odd part of jpeg_idct_islow from coefficients 7, 5, 3
// and 1, giving its tmp0..tmp3.
func oddIslow(t0, t1, t2, t3 int64) (int64, int64, int64, int64) {
	z1, z2, z3, z4 := t0+t3, t1+t2, t0+t2, t1+t3
	z5 := (z3 + z4) * fix1_175875602
	z1 *= -fix0_899976223
	z2 *= -fix2_562915447
	z3 = z3*-fix1_961570560 + z5
	z4 = z4*-fix0_390180644 + z5
	return t0*fix0_298631336 + z1 + z3, t1*fix2_053119869 + z2 + z4,
		t2*fix3_072711026 + z2 + z3, t3*fix1_501321110 + z1 + z4
}

// idct4x4 is jpeg_idct_4x4: half size, from rows and columns 0-3 and 5-7.
func idct4x4(in *[64]int32, out []uint8, stride int) {
	var ws [32]int64 // 4 rows of 8
	for c := 0; c < 8; c++ {
		if c == 4 {
			continue // the second pass does not use it
		}
		even0 := int64(in[c]) << (constBits + 1)
		even2 := int64(in[16+c])*fix1_847759065 + int64(in[48+c])*-fix0_765366865
		odd0, odd2 := odd4(int64(in[56+c]), int64(in[40+c]), int64(in[24+c]), int64(in[8+c]))
		const shift = constBits - pass1Bits + 1
		ws[c] = int64(int32(descale(even0+even2+odd2, shift)))
		ws[24+c] = int64(int32(descale(even0+even2-odd2, shift)))
		ws[8+c] = int64(int32(descale(even0-even2+odd0, shift)))
		ws[16+c] = int64(int32(descale(even0-even2-odd0, shift)))
	}
	for r := 0; r < 4; r++ {
		w := ws[8*r : 8*r+8]
		even0 := w[0] << (constBits + 1)
		even2 := w[2]*fix1_847759065 + w[6]*-fix0_765366865
		odd0, odd2 := odd4(w[7], w[5], w[3], w[1])
		const shift = constBits + pass1Bits + 3 + 1
		row := out[r*stride : r*stride+4]
		row[0] = sample(descale(even0+even2+odd2, shift))
		row[3] = sample(descale(even0+even2-odd2, shift))
		row[1] = sample(descale(even0-even2+odd0, shift))
		row[2] = sample(descale(even0-even2-odd0, shift))
	}
}

// odd4 is the odd part of jpeg_idct_4x4 from coefficients 7, 5, 3, 1.
func odd4(z1, z2, z3, z4 int64) (tmp0, tmp2 int64) {
	tmp0 = z1*-fix0_211164243 + z2*fix1_451774981 + z3*-fix2_172734803 + z4*fix1_061594337
	tmp2 = z1*-fix0_509795579 + z2*-fix0_601344887 + z3*fix0_899976223 + z4*fix2_562915447
	return tmp0, tmp2
}

// idct2x2 is jpeg_idct_2x2: quarter size, from rows and columns 0, 1, 3, 5
// and 7.
func idct2x2(in *[64]int32, out []uint8, stride int) {
	var ws [16]int64 // 2 rows of 8
	for _, c := range [...]int{0, 1, 3, 5, 7} {
		even := int64(in[c]) << (constBits + 2)
		odd := odd2(int64(in[56+c]), int64(in[40+c]), int64(in[24+c]), int64(in[8+c]))
		const shift = constBits - pass1Bits + 2
		ws[c] = int64(int32(descale(even+odd, shift)))
		ws[8+c] = int64(int32(descale(even-odd, shift)))
	}
	for r := 0; r < 2; r++ {
		w := ws[8*r : 8*r+8]
		even := w[0] << (constBits + 2)
		odd := odd2(w[7], w[5], w[3], w[1])
		const shift = constBits + pass1Bits + 3 + 2
		out[r*stride] = sample(descale(even+odd, shift))
		out[r*stride+1] = sample(descale(even-odd, shift))
	}
}

func odd2(z7, z5, z3, z1 int64) int64 {
	return z7*-fix0_720959822 + z5*fix0_850430095 + z3*-fix1_272758580 + z1*fix3_624509785
}

// idct1x1 is jpeg_idct_1x1: the block's mean.
func idct1x1(in *[64]int32, out []uint8, _ int) {
	out[0] = sample(descale(int64(in[0]), 3))
}
