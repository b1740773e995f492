package ncmec_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/exchangetest"
	"github.com/safeguard-oss/safeguard/internal/exchange/ncmec"
)

var benchEntries = flag.Int("ncmec.entries", 1_000_000, "entries the fake NCMEC server holds in BenchmarkFetch")

func benchFetcher(b *testing.B, f *fake, now time.Time) (exchange.Config, *ncmec.Fetcher) {
	cfg := exchange.Config{Name: "ncmec_bench", Kind: "ncmec", Settings: map[string]string{"url": f.srv.URL},
		Credentials: map[string]string{"username": f.user, "password": f.pass}}
	nf, err := ncmec.Config(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	nf.Now = func() time.Time { return now }
	return cfg, nf
}

// BenchmarkFetch fetches every entry of a fake NCMEC server (1,000 a page,
// an MD5 each and a PDQ for a third) into an in-memory sink: the cost of a
// first backfill on our side, XML parsing and paging included.
func BenchmarkFetch(b *testing.B) {
	f := newFake(b)
	fill(f, *benchEntries)
	now := time.Unix(t0, 0).Add(time.Duration(*benchEntries+1) * time.Minute)
	cfg, nf := benchFetcher(b, f, now)
	b.ResetTimer()
	for b.Loop() {
		mem := &exchangetest.Memory{}
		r := &exchange.Runner{Sink: mem, Checkpoints: mem}
		r.Add(cfg, nf)
		if err := r.Fetch(context.Background(), cfg.Name); err != nil {
			b.Fatal(err)
		}
		if mem.Len(cfg.Name) < *benchEntries {
			b.Fatalf("%d entries, want at least %d", mem.Len(cfg.Name), *benchEntries)
		}
	}
	b.ReportMetric(float64(*benchEntries)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkNewEntryLatency measures how long a new upstream entry takes to
// be applied while a Runner polls at an interval: about half the interval
// on average, the interval at worst, plus one fetch — plus up to a second,
// because the API's times are whole seconds and a window only reaches a
// second once it is over. (In production the window also lags 5 s behind,
// for entries NCMEC stamps before they are visible.)
func BenchmarkNewEntryLatency(b *testing.B) {
	for _, interval := range []time.Duration{100 * time.Millisecond, time.Second} {
		b.Run(interval.String(), func(b *testing.B) {
			f := newFake(b)
			fill(f, 1000)
			mem := &exchangetest.Memory{}
			cfg := exchange.Config{Name: "ncmec_bench", Kind: "ncmec", Interval: interval,
				Settings: map[string]string{"url": f.srv.URL}, Credentials: map[string]string{"username": f.user, "password": f.pass}}
			nf, err := ncmec.Config(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			nf.Lag = time.Millisecond // windows end now: upstream times are seconds
			r := &exchange.Runner{Sink: mem, Checkpoints: mem}
			r.Add(cfg, nf)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go r.Run(ctx)
			var lat []time.Duration
			i := 0
			for b.Loop() {
				i++
				v := md5Of(10_000_000 + i)
				// A random moment, so entries do not arrive in step with
				// the polls or the seconds.
				time.Sleep(rand.N(interval + time.Second))
				put := time.Now()
				f.put(fakeEntry{member: 9, id: fmt.Sprint("new", i), ts: put.Unix(), md5: v})
				for !mem.Has(cfg.Name, bank.MD5, v) {
					if time.Since(put) > time.Minute {
						b.Fatalf("entry %d not applied after a minute", i)
					}
					time.Sleep(time.Millisecond)
				}
				lat = append(lat, time.Since(put))
			}
			slices.Sort(lat)
			var sum time.Duration
			for _, d := range lat {
				sum += d
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(len(lat)), "mean-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
		})
	}
}
