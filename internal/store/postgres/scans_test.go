package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/scan/scantest"
	"github.com/safeguard-oss/safeguard/internal/store"
)

func TestScans(t *testing.T) {
	testURL(t)
	scantest.Run(t, func(t *testing.T) scan.Store { return openTest(t) })
}

// Scans recorded at once are committed in shared transactions, and each
// caller still gets its own answer: a duplicate id is refused alone, a
// record PostgreSQL refuses (a NUL byte) fails alone, and every other
// record is on file when its RecordScan returns.
func TestScanGroupCommit(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rec := func(i int) scan.Record {
		return scan.Record{ID: fmt.Sprintf("scn_%032x", i), Time: time.Now().UTC().Truncate(time.Microsecond), Kind: scan.KindScan,
			Actor: "key", ContentID: fmt.Sprint("c", i), Quality: -1, Matches: []match.Match{},
			Decision: rules.Decision{Actions: []rules.Decided{}, Fired: []rules.RuleRef{}}}
	}
	if err := s.RecordScan(ctx, rec(0)); err != nil {
		t.Fatal(err)
	}
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := rec(i)
			if i == 7 {
				r.ContentID = "bad\x00"
			}
			errs[i] = s.RecordScan(ctx, r) // i == 0: a duplicate
		})
	}
	wg.Wait()
	for i, err := range errs {
		switch i {
		case 0:
			if !errors.Is(err, store.ErrExists) {
				t.Errorf("duplicate: %v, want ErrExists", err)
			}
		case 7:
			if err == nil {
				t.Error("NUL in content_id: no error")
			}
			if _, err := s.ScanRecord(ctx, rec(i).ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("refused record: %v, want ErrNotFound", err)
			}
		default:
			if err != nil {
				t.Errorf("scan %d: %v", i, err)
				continue
			}
			got, err := s.ScanRecord(ctx, rec(i).ID)
			if err != nil || got.ContentID != rec(i).ContentID {
				t.Errorf("scan %d read back: %+v, %v", i, got, err)
			}
		}
	}
	var rows int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM scans`).Scan(&rows); err != nil || rows != n-1 {
		t.Errorf("%d rows (%v), want %d", rows, err, n-1) // the first, and 198 of the 200
	}
}
