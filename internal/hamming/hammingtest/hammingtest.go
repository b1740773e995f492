// Package hammingtest makes synthetic hash lists for the tests and
// benchmarks of package hamming and its callers.
//
// Uniform random codes flatter an index: each is about 128 bits from every
// other, so a query's buckets hold one code or none. Real hash lists hold
// clusters of near-duplicates (re-encodings, crops, frames of one video),
// and a query near a cluster finds every member again in most of the
// index's tables. So every index test and benchmark runs on clustered data
// as well as on random data.
//
// The functions are generic over the code type so that package hamming's
// own tests can use them without an import cycle: any ~[4]uint64 will do.
package hammingtest

import "math/rand/v2"

// Uniform returns n random codes, and queries of which half are within
// 0-40 bits of a code (so most have a true match at the PDQ radius 31) and
// half are random.
func Uniform[C ~[4]uint64](n, queries int, seed uint64) (codes, qs []C) {
	rng := rand.New(rand.NewPCG(seed, 0x5afe))
	codes = make([]C, n)
	for i := range codes {
		codes[i] = random[C](rng)
	}
	return codes, planted(rng, codes, queries, 40)
}

// Mixed returns n codes as hash lists of distinct images have them: nine
// tenths random, a tenth in clusters of 2-20 near-duplicates within 0-40
// bits of a centre, in random order; its queries are Uniform's.
func Mixed[C ~[4]uint64](n, queries int, seed uint64) (codes, qs []C) {
	rng := rand.New(rand.NewPCG(seed, 0x5afe))
	codes = make([]C, 0, n)
	for len(codes) < n-n/10 {
		codes = append(codes, random[C](rng))
	}
	for len(codes) < n {
		centre := random[C](rng)
		for k := 2 + rng.IntN(19); k > 0 && len(codes) < n; k-- {
			codes = append(codes, Flip(rng, centre, rng.IntN(41)))
		}
	}
	rng.Shuffle(len(codes), func(i, j int) { codes[i], codes[j] = codes[j], codes[i] })
	return codes, planted(rng, codes, queries, 40)
}

// Clustered returns n codes of which half are random and half in clusters
// of size members, each within 12 bits of its cluster's centre, in random
// order. Every query is within 6 bits of a clustered code, so within 30 of
// all size members of its cluster: a query has about size true matches at
// radius 30 or more, the load a list of many near-duplicates puts on an
// index.
func Clustered[C ~[4]uint64](n, size, queries int, seed uint64) (codes, qs []C) {
	rng := rand.New(rand.NewPCG(seed, 0xc105))
	size = max(1, size)
	codes = make([]C, 0, n)
	for len(codes) < n-n/2 {
		codes = append(codes, random[C](rng))
	}
	for len(codes) < n {
		centre := random[C](rng)
		for k := size; k > 0 && len(codes) < n; k-- {
			codes = append(codes, Flip(rng, centre, rng.IntN(13)))
		}
	}
	clustered := codes[n-n/2:]
	for len(qs) < queries && len(clustered) > 0 {
		qs = append(qs, Flip(rng, clustered[rng.IntN(len(clustered))], rng.IntN(7)))
	}
	rng.Shuffle(len(codes), func(i, j int) { codes[i], codes[j] = codes[j], codes[i] })
	return codes, qs
}

// planted returns queries of which half are within 0-maxd bits of one of
// the codes and half are random.
func planted[C ~[4]uint64](rng *rand.Rand, codes []C, queries, maxd int) []C {
	qs := make([]C, 0, queries)
	for len(qs) < queries {
		if len(codes) == 0 || rng.IntN(2) == 0 {
			qs = append(qs, random[C](rng))
		} else {
			qs = append(qs, Flip(rng, codes[rng.IntN(len(codes))], rng.IntN(maxd+1)))
		}
	}
	return qs
}

func random[C ~[4]uint64](rng *rand.Rand) C {
	return C{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
}

// Flip returns c with d distinct bits flipped (all 256 when d is more).
func Flip[C ~[4]uint64](rng *rand.Rand, c C, d int) C {
	var mask C
	for k := 0; k < min(d, 256); {
		b := rng.IntN(256)
		if mask[b>>6]&(1<<(b&63)) == 0 {
			mask[b>>6] |= 1 << (b & 63)
			k++
		}
	}
	for i := range c {
		c[i] ^= mask[i]
	}
	return c
}
