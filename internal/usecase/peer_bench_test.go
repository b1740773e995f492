package usecase_test

import (
	"context"
	"crypto/ed25519"
	"flag"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/signal"
)

var peerEntries = flag.Int("peer.entries", 1_000_000, "entries of the bank BenchmarkPeerFeed publishes")

// BenchmarkPeerFeed is Safeguard to Safeguard at scale, on SQLite at both
// ends: A publishes a bank of -peer.entries PDQ entries (A's store's
// per-bank change feed, signed pages of 1,000 over loopback HTTP), B's
// peer exchange pulls it through the server's sink (store, audit,
// checkpoint, stored status, index sync per page), and the last entry must
// match in B's index. Then one entry is added on A and the fetch that
// makes it match on B is timed.
func BenchmarkPeerFeed(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		stA := backends[0].open(b)
		if _, err := stA.CreateBank(ctx, bank.Bank{Name: "shared"}); err != nil {
			b.Fatal(err)
		}
		add := func(from, to int) {
			_, err := stA.AddEntries(ctx, "shared", func(yield func(bank.Entry, error) bool) {
				for i := from; i < to; i++ {
					if !yield(bank.Entry{Signal: bank.PDQ, Value: pdqOf(i), Source: "IWF", Category: "A1"}, nil) {
						return
					}
				}
			}, nil)
			if err != nil {
				b.Fatal(err)
			}
		}
		add(0, *peerEntries)
		pub, priv, _ := ed25519.GenerateKey(nil)
		srv := httptest.NewServer(http.StripPrefix("/v1/peer", &peer.Publisher{Key: priv, Source: stA, Banks: []string{"shared"}}))
		defer srv.Close()

		stB := backends[0].open(b)
		u, m := sink(b, stB, "from_a")
		f, err := peer.Config(exchange.Config{Name: "from_a", Kind: "peer", Settings: map[string]string{
			"url": srv.URL + "/v1/peer", "bank": "shared", "public_key": peer.EncodeKey(pub)}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		r := &exchange.Runner{Sink: u, Checkpoints: u, Lock: u, StatusStore: stB}
		r.Add(exchange.Config{Name: "from_a", Kind: "peer"}, f)
		live := func(i int) bool {
			h, _ := pdq.ParseHex(pdqOf(i))
			res, err := m.Match(ctx, match.Query{Set: signal.Set{PDQ: &h, Quality: -1}, Radius: 0})
			if err != nil {
				b.Fatal(err)
			}
			return len(res.Matches) == 1
		}
		start := time.Now()
		if err := r.Fetch(ctx, "from_a"); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		if !live(*peerEntries - 1) {
			b.Fatal("the last published entry does not match on B")
		}
		add(*peerEntries, *peerEntries+1)
		start = time.Now()
		if err := r.Fetch(ctx, "from_a"); err != nil {
			b.Fatal(err)
		}
		if !live(*peerEntries) {
			b.Fatal("the new entry does not match on B")
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "new-entry-ms")
		b.ReportMetric(took.Seconds(), "pull-s")
		b.ReportMetric(float64(*peerEntries)/took.Seconds(), "entries/s")
		b.ReportMetric(float64(m.Stats().PDQ), "indexed")
	}
}
