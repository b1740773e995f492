package storetest

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/store"
)

// Synthetic returns n random PDQ entries with a little provenance, made as
// they are read.
func Synthetic(n int, seed uint64) iter.Seq2[bank.Entry, error] {
	return func(yield func(bank.Entry, error) bool) {
		rng := rand.New(rand.NewPCG(seed, 0x5afe))
		b := make([]byte, 32)
		for i := range n {
			for j := range b {
				b[j] = byte(rng.UintN(256))
			}
			e := bank.Entry{Signal: bank.PDQ, Value: bank.EncodeValue(b), Source: "synthetic", ExternalID: fmt.Sprint(i), Category: "A"}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// Bench measures, on the store open returns, an import of n entries into an
// empty bank, a re-import of the same entries (all existing), reading them
// back through Entries, Changes and ChangeKeys. Besides wall-clock time it
// reports CPU time per entry: this process's, plus what serverCPU (if not
// nil) says a database server used — on a shared machine wall-clock time
// mostly measures the neighbours.
func Bench(b *testing.B, n int, open func(b *testing.B) store.Store, serverCPU func() time.Duration) {
	ctx := context.Background()
	server := func() time.Duration {
		if serverCPU == nil {
			return 0
		}
		return serverCPU()
	}
	var cpuStart, serverStart time.Duration
	start := func() { cpuStart, serverStart = processCPU(), server() }
	per := func(b *testing.B, wall time.Duration) {
		perEntry := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) / float64(b.N) }
		b.ReportMetric(perEntry(wall), "ns/entry")
		if cpuStart > 0 {
			srv := server() - serverStart
			b.ReportMetric(perEntry(processCPU()-cpuStart+srv), "cpu-ns/entry")
			if serverCPU != nil {
				b.ReportMetric(perEntry(srv), "server-cpu-ns/entry")
			}
		}
	}
	s := open(b)
	b.Run(fmt.Sprintf("Import/%d", n), func(b *testing.B) {
		var total time.Duration
		start()
		for i := range b.N {
			name := fmt.Sprintf("bench-%d", i)
			if _, err := s.CreateBank(ctx, bank.Bank{Name: name}); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			r, err := s.AddEntries(ctx, name, Synthetic(n, uint64(i)), nil)
			total += time.Since(start)
			if err != nil || r.Added != int64(n) {
				b.Fatalf("import: %+v, %v", r, err)
			}
		}
		per(b, total)
	})
	b.Run(fmt.Sprintf("Reimport/%d", n), func(b *testing.B) {
		start()
		for range b.N {
			r, err := s.AddEntries(ctx, "bench-0", Synthetic(n, 0), nil)
			if err != nil || r.Existing != int64(n) {
				b.Fatalf("re-import: %+v, %v", r, err)
			}
		}
		per(b, b.Elapsed())
	})
	b.Run(fmt.Sprintf("Entries/%d", n), func(b *testing.B) {
		start()
		for range b.N {
			count := 0
			for _, err := range s.Entries(ctx, "bench-0") {
				if err != nil {
					b.Fatal(err)
				}
				count++
			}
			if count != n {
				b.Fatalf("Entries gave %d, want %d", count, n)
			}
		}
		per(b, b.Elapsed())
	})
	for _, feed := range []struct {
		name string
		read func(ctx context.Context, since int64, limit int) ([]bank.Change, error)
	}{{"Changes", s.Changes}, {"ChangeKeys", s.ChangeKeys}} {
		b.Run(fmt.Sprintf("%s/%d", feed.name, n), func(b *testing.B) {
			start()
			for range b.N {
				var since int64
				count := 0
				for {
					cs, err := feed.read(ctx, since, 10_000)
					if err != nil {
						b.Fatal(err)
					}
					count += len(cs)
					if len(cs) < 10_000 {
						break
					}
					since = cs[len(cs)-1].Seq
				}
				if count < n {
					b.Fatalf("%s gave %d, want at least %d", feed.name, count, n)
				}
			}
			per(b, b.Elapsed())
		})
	}
}
