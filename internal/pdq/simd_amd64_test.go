//go:build amd64 && !purego

package pdq

import (
	"image"
	"math/rand/v2"
	"testing"
)

// bothWays runs f with the AVX2 kernels and with the pure-Go code.
func bothWays(t testing.TB, f func() any) (simd, pure any) {
	t.Helper()
	if !useSIMD {
		t.Skip("this CPU has no AVX2: only the pure-Go code runs")
	}
	defer func() { useSIMD = true }()
	simd = f()
	useSIMD = false
	pure = f()
	return simd, pure
}

// checkSame compares the blurred, decimated 64x64 of a random plane, the
// luminance and the hash of a random RGBA image (every pixel of a row,
// and sampled), with the kernels and without: bit for bit.
func checkSame(t testing.TB, rows, cols int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	plane := make([]float32, rows*cols)
	for i := range plane {
		switch rng.IntN(3) {
		case 0:
			plane[i] = float32(rng.IntN(256))
		case 1:
			plane[i] = rng.Float32() * 255
		default:
			plane[i] = rgbLuma(uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)))
		}
	}
	var h Hasher
	simd, pure := bothWays(t, func() any {
		var out [64][64]float32
		h.blurDecimate(append([]float32(nil), plane...), rows, cols, &out)
		return out
	})
	if simd != pure {
		a, b := simd.([64][64]float32), pure.([64][64]float32)
		for i := range a {
			for j := range a[i] {
				if a[i][j] != b[i][j] {
					t.Fatalf("%dx%d seed %d: blur [%d][%d] = %v with AVX2, %v in Go", rows, cols, seed, i, j, a[i][j], b[i][j])
				}
			}
		}
	}
	blurred := simd.([64][64]float32)
	simd, pure = bothWays(t, func() any {
		var out [16][16]float32
		dct64To16(&blurred, &out)
		return out
	})
	if simd != pure {
		t.Fatalf("%dx%d seed %d: DCT %v with AVX2, %v in Go", rows, cols, seed, simd, pure)
	}
	img := image.NewRGBA(image.Rect(3, 1, 3+cols, 1+rows))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	simd, pure = bothWays(t, func() any {
		l, _, _ := h.Luma(img)
		return append([]float32(nil), l...)
	})
	a, b := simd.([]float32), pure.([]float32)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%dx%d seed %d: luma[%d] = %v with AVX2, %v in Go", rows, cols, seed, i, a[i], b[i])
		}
	}
	simd, pure = bothWays(t, func() any { return *h.HashImage(img, true).Dihedral })
	if simd != pure {
		t.Fatalf("%dx%d seed %d: hashes %v with AVX2, %v in Go", rows, cols, seed, simd, pure)
	}
}

func TestSIMDMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sizes := [][2]int{{5, 5}, {8, 8}, {64, 64}, {512, 512}, {480, 640}, {7, 300}, {300, 7}, {63, 65}, {129, 257}, {512, 333}, {1000, 17}, {17, 1000}, {600, 513}}
	for i := 0; i < 30; i++ {
		sizes = append(sizes, [2]int{5 + rng.IntN(700), 5 + rng.IntN(700)})
	}
	for i, sz := range sizes {
		checkSame(t, sz[0], sz[1], uint64(i))
	}
}

func FuzzSIMDMatchesGo(f *testing.F) {
	f.Add(uint16(512), uint16(512), uint64(1))
	f.Add(uint16(5), uint16(13), uint64(2))
	f.Add(uint16(480), uint16(640), uint64(3))
	f.Fuzz(func(t *testing.T, rows, cols uint16, seed uint64) {
		checkSame(t, 5+int(rows)%1200, 5+int(cols)%1200, seed)
	})
}
