package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lerequest/lerequesttest"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

func TestLERequest(t *testing.T) {
	lerequesttest.Run(t, func(t *testing.T) lerequesttest.Backend { return openEmpty(t) })
}

// BenchmarkAccountScans: the scan records of 5 accounts over a month, out
// of 20,000 records of 200 accounts (scans_account serves it).
func BenchmarkAccountScans(b *testing.B) {
	ctx := context.Background()
	s := openEmpty(b)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 20000 {
		err := s.RecordScan(ctx, scan.Record{ID: fmt.Sprintf("scn_%032x", i), Time: t0.Add(time.Duration(i) * 5 * time.Minute),
			Kind: scan.KindScan, AccountID: fmt.Sprintf("acct-%d", i%200), Quality: -1})
		if err != nil {
			b.Fatal(err)
		}
	}
	accounts := []string{"acct-1", "acct-2", "acct-3", "acct-4", "acct-5"}
	var n int
	for b.Loop() {
		recs, err := s.AccountScans(ctx, accounts, t0, t0.AddDate(0, 1, 0))
		if err != nil {
			b.Fatal(err)
		}
		n = len(recs)
	}
	b.ReportMetric(float64(n), "records")
}
