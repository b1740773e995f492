package hamming

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/hamming/hammingtest"
)

// The benchmarks share corpora of a million codes, each made once: the
// mixed list (a tenth in small clusters) and lists whose queries each have
// about 1,000 and 10,000 true matches.
var (
	bench1M = sync.OnceValues(func() (*Index, []Code) {
		ids, codes, queries := corpus(1, 1_000_000, 1000)
		return Build(ids, codes), queries
	})
	benchClustered = map[int]func() (*Index, []Code){
		1000:  clusteredOnce(1000),
		10000: clusteredOnce(10000),
	}
)

func clusteredOnce(size int) func() (*Index, []Code) {
	return sync.OnceValues(func() (*Index, []Code) {
		codes, queries := hammingtest.Clustered[Code](1_000_000, size, 1000, 1)
		return Build(idsFor(codes), codes), queries
	})
}

func BenchmarkSearch1M(b *testing.B) {
	for _, data := range []string{"mixed", "clustered1000"} {
		x, queries := bench1M()
		if data != "mixed" {
			x, queries = benchClustered[1000]()
		}
		for _, r := range []int{0, 16, 31, 40} {
			b.Run(fmt.Sprintf("%s/r%d", data, r), func(b *testing.B) {
				var dst []Result
				i := 0
				for b.Loop() {
					dst = x.Search(queries[i%len(queries)], r, dst[:0])
					i++
				}
			})
		}
	}
}

// BenchmarkClustered1M times radius-31 queries with about 1,000 and
// 10,000 true matches each, searched and scanned: the search must never
// be the slower.
func BenchmarkClustered1M(b *testing.B) {
	for _, size := range []int{1000, 10000} {
		x, queries := benchClustered[size]()
		for _, how := range []string{"search", "scan"} {
			b.Run(fmt.Sprintf("%d/%s", size, how), func(b *testing.B) {
				var dst []Result
				i, found := 0, 0
				for b.Loop() {
					q := queries[i%len(queries)]
					if how == "scan" {
						dst = x.segs[0].scan(q, 31, dst[:0])
					} else {
						dst = x.Search(q, 31, dst[:0])
					}
					found += len(dst)
					i++
				}
				b.ReportMetric(float64(found)/float64(i), "matches/op")
			})
		}
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

// BenchmarkWidth traces memory against time: substrings of about
// log2(n)+bias bits, on the mixed list and on one of 1,000 matches a query.
func BenchmarkWidth(b *testing.B) {
	for _, data := range []string{"mixed", "clustered1000"} {
		var codes, queries []Code
		if data == "mixed" {
			_, codes, queries = corpus(1, 1_000_000, 1000)
		} else {
			codes, queries = hammingtest.Clustered[Code](1_000_000, 1000, 1000, 1)
		}
		ids := idsFor(codes)
		for bias := -1; bias <= 3; bias++ {
			b.Run(fmt.Sprintf("%s/bias%d", data, bias), func(b *testing.B) {
				x := &Index{segs: []*segment{buildSegmentWidths(ids, codes, func(n int) []int { return geometry(n, bias, maxWidth) }, false)}}
				var dst []Result
				i := 0
				for b.Loop() {
					dst = x.Search(queries[i%len(queries)], 31, dst[:0])
					i++
				}
				b.ReportMetric(float64(x.Bytes())/float64(len(codes)), "bytes/code")
			})
		}
	}
}

func BenchmarkBuild1M(b *testing.B) {
	ids, codes, _ := corpus(1, 1_000_000, 0)
	clustered, _ := hammingtest.Clustered[Code](1_000_000, 1000, 0, 1)
	b.Run("mixed", func(b *testing.B) {
		for b.Loop() {
			Build(ids, codes)
		}
	})
	b.Run("clustered1000", func(b *testing.B) {
		for b.Loop() {
			Build(ids, clustered)
		}
	})
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
