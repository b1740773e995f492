package pdq

import (
	"math"
)

// The reference's constants (pdq/cpp/hashing/pdqhashing.cpp).
const (
	minHashableDim = 5 // smaller images hash to zero with quality 0
	jaroszPasses   = 2 // two box passes per axis make a tent filter
	// downsampleDims is the side the reference first resizes larger images
	// to (nearest neighbour, both sides, ignoring aspect), because its
	// Jarosz filter is too slow on full-size photographs.
	downsampleDims = 512
)

// dctMatrix is the 16x64 DCT-II basis of rows 1..16, as the reference builds
// it: a float32 scale factor times a float64 cosine, rounded to float32.
var dctMatrix = func() (d [16 * 64]float32) {
	scale := float64(float32(math.Sqrt(2.0 / 64.0)))
	for i := 0; i < 16; i++ {
		for j := 0; j < 64; j++ {
			d[i*64+j] = float32(scale * math.Cos(math.Pi/2/64*float64(i+1)*float64(2*j+1)))
		}
	}
	return d
}()

// Hasher hashes luminance planes. It keeps its scratch buffers between calls
// so that hashing a stream of images allocates nothing; a Hasher is not safe
// for concurrent use, but the zero value is ready and each goroutine may have
// its own.
type Hasher struct {
	buf1   []float32 // a luminance plane (Luma, HashRGB24)
	blur   blur
	b64    [64][64]float32 // the blurred, decimated image
	ident  []int32         // 0, 1, ...: where each position lands in the full rounds
	xs, ys []int           // the pixels sampled of each row and column
}

// Result is what hashing one image gives.
type Result struct {
	Hash    Hash
	Quality int // 0..100; below about 50 the hash is not worth matching
	// Dihedral holds the hashes of the image rotated and mirrored, indexed by
	// Dihedral (Dihedral[Original] == Hash), when they were asked for.
	Dihedral *[8]Hash
}

// HashLuma hashes a numRows x numCols row-major luminance plane (values
// 0..255), the reference's pdqHash256FromFloatLuma, or its dihedral
// counterpart when dihedral is set. It overwrites luma.
//
// The two differ in one corner the reference has: a plane of exactly 64x64
// skips the blur in the plain hash but not in the dihedral one.
func (h *Hasher) HashLuma(luma []float32, numRows, numCols int, dihedral bool) Result {
	if numRows < minHashableDim || numCols < minHashableDim {
		return h.hashRows(nil, numRows, numCols, dihedral)
	}
	return h.hashRows(func(i int, _ []float32) []float32 { return luma[i*numCols : (i+1)*numCols] }, numRows, numCols, dihedral)
}

// hashRows is HashLuma with the plane's rows taken from src, in order.
func (h *Hasher) hashRows(src rowSource, numRows, numCols int, dihedral bool) Result {
	if numRows < minHashableDim || numCols < minHashableDim {
		r := Result{}
		if dihedral {
			r.Dihedral = new([8]Hash)
		}
		return r
	}
	b64 := &h.b64
	if !dihedral && numRows == 64 && numCols == 64 {
		for i := range b64 { // a video frame ffmpeg already scaled
			copy(b64[i][:], src(i, b64[i][:]))
		}
	} else {
		h.blurDecimateRows(src, numRows, numCols, b64)
	}
	var r Result
	r.Quality = quality(b64)
	var dct [16][16]float32
	dct64To16(b64, &dct)
	if dihedral {
		r.Dihedral = dihedrals(&dct)
		r.Hash = r.Dihedral[Original]
	} else {
		r.Hash = toBits(&dct)
	}
	return r
}

// windowSize is the reference's computeJaroszFilterWindowSize: half the
// input pixels per output pixel, rounded up, since the filter runs twice.
func windowSize(oldDim, newDim int) int {
	return (oldDim + 2*newDim - 1) / (2 * newDim)
}

// quality is the reference's gradient-sum heuristic: how much significant
// detail the 64x64 image has, scaled so that 100 is plenty.
func quality(b *[64][64]float32) int {
	sum := 0
	for i := 0; i < 63; i++ {
		for j := 0; j < 64; j++ {
			sum += absInt(int(float32(float32(b[i][j]-b[i+1][j])*100) / 255))
		}
	}
	for i := 0; i < 64; i++ {
		for j := 0; j < 63; j++ {
			sum += absInt(int(float32(float32(b[i][j]-b[i][j+1])*100) / 255))
		}
	}
	return min(sum/90, 100)
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// dct64To16 computes the 16x16 low-frequency corner (skipping the DC row and
// column) of the 2-D DCT, as D·A·Dᵀ with float32 sums in the reference's
// order. Each product is converted to float32 before it is added so that no
// compiler fuses it into a multiply-add, which would round differently.
func dct64To16(a *[64][64]float32, out *[16][16]float32) {
	var t [16][64]float32
	if useSIMD {
		for i := range 16 {
			mulAccAVX2(&t[i][0], &dctMatrix[i*64], &a[0][0], 64, 64)
		}
		for i := range 16 {
			mulAccAVX2(&out[i][0], &t[i][0], &dctMatrixT[0], 64, 16)
		}
		return
	}
	for i := 0; i < 16; i++ {
		d := dctMatrix[i*64 : i*64+64]
		for j := 0; j < 64; j++ {
			var s float32
			for k := 0; k < 64; k++ {
				s += float32(d[k] * a[k][j])
			}
			t[i][j] = s
		}
	}
	for i := 0; i < 16; i++ {
		for j := 0; j < 16; j++ {
			d := dctMatrix[j*64 : j*64+64]
			var s float32
			for k := 0; k < 64; k++ {
				s += float32(t[i][k] * d[k])
			}
			out[i][j] = s
		}
	}
}

// dctMatrixT is dctMatrix transposed (64x16), for the SIMD second product.
var dctMatrixT = func() (d [64 * 16]float32) {
	for i := range 16 {
		for k := range 64 {
			d[k*16+i] = dctMatrix[i*64+k]
		}
	}
	return d
}()

// toBits sets each bit whose DCT coefficient is above the median. The
// reference's Torben median of 256 values is the 128th smallest.
func toBits(dct *[16][16]float32) Hash {
	return bitsAbove(dct, median(dct))
}

func median(dct *[16][16]float32) float32 {
	var v [256]float32
	for i := range dct {
		copy(v[i*16:], dct[i][:])
	}
	return nth(v[:], 127)
}

// nth returns the k-th smallest (from 0) of v, which it reorders: the
// value a sort would put at v[k], found by selection (Hoare's partition
// around a median of three) in about a fifth of a sort's work; the sort
// was 3 % of a scan's CPU.
func nth(v []float32, k int) float32 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		p := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for p < v[j] {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		// Now v[lo..j] <= p <= v[i..hi], and everything between is p.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

func bitsAbove(dct *[16][16]float32, median float32) Hash {
	var h Hash
	for i := 0; i < 16; i++ {
		for j := 0; j < 16; j++ {
			if dct[i][j] > median {
				h.setBit(i*16 + j)
			}
		}
	}
	return h
}

// dihedrals derives the hashes of the seven rotations and reflections from
// the original's DCT: flipping an axis negates its odd frequencies
// (1-based), and a quarter turn transposes. A transpose moves values but
// keeps their multiset, so a transposed variant has the median of the
// untransposed one with the same signs: four medians serve all eight.
func dihedrals(a *[16][16]float32) *[8]Hash {
	var out [8]Hash
	var b [16][16]float32
	type rule struct {
		transpose bool
		signs     int // which of the four sign patterns below
	}
	negate := [4]func(i, j int) bool{
		func(i, j int) bool { return false },
		func(i, j int) bool { return j&1 == 0 },
		func(i, j int) bool { return (i+j)&1 == 1 },
		func(i, j int) bool { return i&1 == 0 },
	}
	rules := [8]rule{
		Original:   {false, 0},
		Rotate90:   {true, 1},
		Rotate180:  {false, 2},
		Rotate270:  {true, 3},
		FlipX:      {false, 3},
		FlipY:      {false, 1},
		FlipPlus1:  {true, 0},
		FlipMinus1: {true, 2},
	}
	var medians [4]float32
	var known [4]bool
	for d, r := range rules {
		neg := negate[r.signs]
		for i := 0; i < 16; i++ {
			for j := 0; j < 16; j++ {
				v := a[i][j]
				if neg(i, j) {
					v = -v
				}
				if r.transpose {
					b[j][i] = v
				} else {
					b[i][j] = v
				}
			}
		}
		if !known[r.signs] {
			medians[r.signs], known[r.signs] = median(&b), true
		}
		out[d] = bitsAbove(&b, medians[r.signs])
	}
	return &out
}
