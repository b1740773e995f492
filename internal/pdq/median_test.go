package pdq

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// nth gives what a sort puts at v[k], for every k, with runs of equal
// values, both zeros and sorted or reversed input (the cases that break
// a partition).
func TestNth(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	kinds := map[string]func(i, n int) float32{
		"random":   func(int, int) float32 { return rng.Float32()*2 - 1 },
		"few":      func(int, int) float32 { return float32(rng.IntN(3)) },
		"zeros":    func(i, _ int) float32 { return float32(math.Copysign(0, float64(i%2*2-1))) },
		"sorted":   func(i, _ int) float32 { return float32(i) },
		"reversed": func(i, n int) float32 { return float32(n - i) },
		"organ":    func(i, n int) float32 { return float32(min(i, n-i)) },
	}
	for name, gen := range kinds {
		for _, n := range []int{1, 2, 3, 7, 16, 255, 256} {
			v := make([]float32, n)
			for i := range v {
				v[i] = gen(i, n)
			}
			sorted := slices.Clone(v)
			slices.Sort(sorted)
			for k := range n {
				if got := nth(slices.Clone(v), k); got != sorted[k] {
					t.Fatalf("%s, n=%d, k=%d: %v, want %v", name, n, k, got, sorted[k])
				}
			}
		}
	}
}
