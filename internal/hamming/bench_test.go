package hamming

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// The benchmarks share one corpus of a million codes, made once.
var bench1M = sync.OnceValues(func() (*Index, []Code) {
	ids, codes, queries := corpus(1, 1_000_000, 1000)
	return Build(ids, codes), queries
})

func BenchmarkSearch1M(b *testing.B) {
	x, queries := bench1M()
	for _, r := range []int{0, 16, 31, 40} {
		b.Run(fmt.Sprintf("r%d", r), func(b *testing.B) {
			var dst []Result
			i := 0
			for b.Loop() {
				dst = x.Search(queries[i%len(queries)], r, dst[:0])
				i++
			}
		})
	}
}

func BenchmarkScan1M(b *testing.B) {
	x, queries := bench1M()
	s := x.segs[0]
	var dst []Result
	i := 0
	for b.Loop() {
		dst = s.scan(queries[i%len(queries)], 31, dst[:0])
		i++
	}
}

func BenchmarkBuild1M(b *testing.B) {
	ids, codes, _ := corpus(1, 1_000_000, 0)
	for b.Loop() {
		Build(ids, codes)
	}
}

func BenchmarkRead1M(b *testing.B) {
	x, _ := bench1M()
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := Read(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddRemove is the amortised cost of a change to a million-code
// index: an add (with its share of flushes and merges) and a remove.
func BenchmarkAddRemove(b *testing.B) {
	ids, codes, queries := corpus(1, 1_000_000, 1000)
	x := Build(ids, codes)
	i := 0
	for b.Loop() {
		x.Add(uint64(1<<40+i), queries[i%len(queries)])
		x.Remove(ids[i%len(ids)])
		i++
	}
}
