package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

// BenchmarkRecordScan is the store's part of a scan that matched nothing:
//
//	go test -run - -bench RecordScan ./internal/store/sqlite
func BenchmarkRecordScan(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		rec := scan.Record{ID: fmt.Sprintf("scn_%032x", i), Time: time.Now().UTC(), Kind: scan.KindScan, Actor: "key",
			ContentID: "c", PDQ: fmt.Sprintf("%064x", i), Quality: 100, MD5: fmt.Sprintf("%032x", i), SHA256: fmt.Sprintf("%064x", i),
			Decision: rules.Decision{Actions: []rules.Decided{}, Fired: []rules.RuleRef{}}}
		if err := s.RecordScan(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
}
