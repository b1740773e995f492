package hammingtest

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

type code [4]uint64

func distance(a, b code) int {
	n := 0
	for i := range a {
		n += bits.OnesCount64(a[i] ^ b[i])
	}
	return n
}

// within returns how many of qs are within d bits of some code.
func within(codes, qs []code, d int) int {
	k := 0
	for _, q := range qs {
		for _, c := range codes {
			if distance(q, c) <= d {
				k++
				break
			}
		}
	}
	return k
}

func TestMixed(t *testing.T) {
	codes, queries := Mixed[code](10000, 1000, 3)
	if len(codes) != 10000 || len(queries) != 1000 {
		t.Fatalf("got %d codes and %d queries", len(codes), len(queries))
	}
	// About a tenth of the codes are in clusters, so about a tenth have a
	// neighbour within 80 bits (two members of a cluster, each within 40
	// of its centre); random codes are about 128 bits apart.
	near := 0
	for i, c := range codes[:2000] {
		for j, d := range codes {
			if i != j && distance(c, d) <= 80 {
				near++
				break
			}
		}
	}
	if near < 100 || near > 400 {
		t.Errorf("%d of 2000 codes have a neighbour within 80 bits, want about 200", near)
	}
	// Half the queries are planted within 40 bits of a code.
	if k := within(codes, queries[:200], 40); k < 70 || k > 130 {
		t.Errorf("%d of 200 queries are within 40 bits of a code, want about 100", k)
	}
}

func TestUniform(t *testing.T) {
	codes, queries := Uniform[code](5000, 200, 4)
	close := 0
	for i := 1; i < len(codes); i++ {
		if distance(codes[i-1], codes[i]) < 80 {
			close++
		}
	}
	if close > 0 {
		t.Errorf("%d neighbouring random codes within 80 bits", close)
	}
	if k := within(codes, queries, 40); k < 70 || k > 130 {
		t.Errorf("%d of 200 queries are within 40 bits of a code, want about 100", k)
	}
}

// TestClustered checks the promise the benchmarks rely on: every query has
// at least size codes within 30 bits.
func TestClustered(t *testing.T) {
	const n, size = 20000, 500
	codes, queries := Clustered[code](n, size, 50, 5)
	if len(codes) != n || len(queries) != 50 {
		t.Fatalf("got %d codes and %d queries", len(codes), len(queries))
	}
	for i, q := range queries {
		k := 0
		for _, c := range codes {
			if distance(q, c) <= 30 {
				k++
			}
		}
		if k < size || k > 2*size {
			t.Errorf("query %d: %d codes within 30 bits, want %d to %d", i, k, size, 2*size)
		}
	}
}

func TestFlip(t *testing.T) {
	var c code
	for _, d := range []int{0, 1, 31, 256, 300} {
		if got := distance(c, Flip(rand.New(rand.NewPCG(1, 1)), c, d)); d <= 256 && got != d || d > 256 && got != 256 {
			t.Errorf("Flip(%d) flipped %d bits", d, got)
		}
	}
}
