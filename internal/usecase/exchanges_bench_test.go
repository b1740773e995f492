package usecase_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/signal"
)

var benchRecords = flag.Int("exchange.entries", 1_000_000, "upstream records (a PDQ each) BenchmarkExchangeBackfill fetches")

// upstream is a Fetcher of n records with a PDQ each, 1,000 a page, read
// from memory: what is measured is our side (sink, store, index), not a
// wire format's parsing (see the formats' own benchmarks).
type upstream struct{ n int }

func pdqOf(i int) string {
	s := sha256.Sum256(fmt.Appendf(nil, "%d", i))
	return hex.EncodeToString(s[:])
}

func (u *upstream) Fetch(ctx context.Context, from exchange.Checkpoint, page func(exchange.Page) error) error {
	var at int
	if err := exchange.ReadPosition(from, &at); err != nil {
		return err
	}
	for at < u.n {
		end := min(at+1000, u.n)
		pg := exchange.Page{Records: make([]exchange.Record, 0, end-at), Checkpoint: exchange.PositionOf(end)}
		for i := at; i < end; i++ {
			pg.Records = append(pg.Records, exchange.Record{ID: fmt.Sprint(i), Classification: "A1",
				Fingerprints: []exchange.Fingerprint{{Kind: exchange.PDQ, Value: pdqOf(i)}}})
		}
		if err := page(pg); err != nil {
			return err
		}
		at = end
	}
	return nil
}

// BenchmarkExchangeBackfill fetches -exchange.entries records through the
// SQL sink (store writes, audit, checkpoint, index sync after every page)
// on each backend, checks the last is live in the index, then puts one new
// record upstream and measures the fetch that makes it match (the poll
// interval, at least exchange.MinInterval, comes on top unless a fetch is
// asked for).
func BenchmarkExchangeBackfill(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for b.Loop() {
				st := be.open(b)
				u, m := sink(b, st, "bench")
				up := &upstream{n: *benchRecords}
				r := &exchange.Runner{Sink: u, Checkpoints: u, Lock: u}
				r.Add(exchange.Config{Name: "bench", Kind: "bench"}, up)
				ctx := context.Background()
				start := time.Now()
				if err := r.Fetch(ctx, "bench"); err != nil {
					b.Fatal(err)
				}
				took := time.Since(start)
				live := func(i int) bool {
					h, err := pdq.ParseHex(pdqOf(i))
					if err != nil {
						b.Fatal(err)
					}
					res, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &h, Quality: -1}, Radius: 0})
					if err != nil {
						b.Fatal(err)
					}
					return len(res.Matches) == 1
				}
				if !live(up.n - 1) {
					b.Fatal("the last record fetched is not in the index")
				}
				up.n++
				start = time.Now()
				if err := r.Fetch(ctx, "bench"); err != nil {
					b.Fatal(err)
				}
				if !live(up.n - 1) {
					b.Fatal("the new record is not in the index")
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "new-entry-ms")
				b.ReportMetric(took.Seconds(), "backfill-s")
				b.ReportMetric(float64(*benchRecords)/took.Seconds(), "records/s")
				b.ReportMetric(float64(m.Stats().PDQ), "indexed")
			}
		})
	}
}
