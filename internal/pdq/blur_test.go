package pdq

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveBlurDecimate transliterates the reference's jaroszFilterFloat and
// decimateFloat, strided loops and all: the optimised blurDecimate must
// give exactly its values.
func naiveBlurDecimate(buf []float32, rows, cols int, out *[64][64]float32) {
	box := func(in, out []float32, n, stride, window int) {
		half := (window + 2) / 2
		var sum float32
		cur, li, ri, oi := 0, 0, 0, 0
		for i := 0; i < half-1; i++ {
			sum += in[ri]
			cur++
			ri += stride
		}
		for i := 0; i < window-half+1; i++ {
			sum += in[ri]
			cur++
			out[oi] = sum / float32(cur)
			ri += stride
			oi += stride
		}
		for i := 0; i < n-window; i++ {
			sum += in[ri]
			sum -= in[li]
			out[oi] = sum / float32(cur)
			li += stride
			ri += stride
			oi += stride
		}
		for i := 0; i < half-1; i++ {
			sum -= in[li]
			cur--
			out[oi] = sum / float32(cur)
			li += stride
			oi += stride
		}
	}
	tmp := make([]float32, rows*cols)
	winR, winC := windowSize(cols, 64), windowSize(rows, 64)
	for pass := 0; pass < jaroszPasses; pass++ {
		for i := 0; i < rows; i++ {
			box(buf[i*cols:], tmp[i*cols:], cols, 1, winR)
		}
		for j := 0; j < cols; j++ {
			box(tmp[j:], buf[j:], rows, cols, winC)
		}
	}
	for i := 0; i < 64; i++ {
		ini := int((float64(i) + 0.5) * float64(rows) / 64)
		for j := 0; j < 64; j++ {
			inj := int((float64(j) + 0.5) * float64(cols) / 64)
			out[i][j] = buf[ini*cols+inj]
		}
	}
}

func TestBlurDecimateIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][2]int{{5, 5}, {64, 64}, {512, 512}, {7, 300}, {300, 7}, {63, 65}, {129, 257}, {512, 333}, {1000, 17}}
	for i := 0; i < 20; i++ {
		sizes = append(sizes, [2]int{5 + rng.IntN(700), 5 + rng.IntN(700)})
	}
	var h Hasher
	for _, sz := range sizes {
		rows, cols := sz[0], sz[1]
		a := make([]float32, rows*cols)
		for i := range a {
			a[i] = float32(rng.IntN(256)) * 0.299 // luma-like, not integers
		}
		b := append([]float32(nil), a...)
		var want, got [64][64]float32
		naiveBlurDecimate(a, rows, cols, &want)
		h.blurDecimate(b, rows, cols, &got)
		if got != want {
			for i := range got {
				for j := range got[i] {
					if got[i][j] != want[i][j] {
						t.Fatalf("%dx%d: [%d][%d] = %v, want %v", rows, cols, i, j, got[i][j], want[i][j])
					}
				}
			}
		}
	}
}

// quotient must be the correctly rounded float32 division for every window
// count: random float32 sums of every magnitude (and luminance-like ones),
// every count up to 1024 and some larger.
func TestQuotient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	counts := []int{1 << 20, 1<<20 + 1, 1<<20 - 1, 999_999}
	for c := 1; c <= 1024; c++ {
		counts = append(counts, c)
	}
	for _, c := range counts {
		inv := 1 / float64(c)
		for i := 0; i < 2000; i++ {
			var s float32
			switch i % 3 {
			case 0: // any bit pattern of a finite float32
				s = math.Float32frombits(rng.Uint32())
				if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
					continue
				}
			case 1: // a window's sum of luminance values
				s = float32(rng.IntN(c*255*1000+1)) * 0.001
			default: // subnormal and tiny
				s = math.Float32frombits(rng.Uint32() & 0x0fffffff)
			}
			if got, want := quotient(s, c, inv), s/float32(c); got != want {
				t.Fatalf("quotient(%g, %d) = %g, want %g", s, c, got, want)
			}
			if got, want := divide(s, c), s/float32(c); got != want {
				t.Fatalf("divide(%g, %d) = %g, want %g", s, c, got, want)
			}
		}
	}
}
