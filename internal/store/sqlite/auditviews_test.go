package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/lereport"
)

// BenchmarkAuditViews asks who viewed one evidence item, as a report does
// per file before it becomes ready, in a log of SAFEGUARD_BENCH_AUDIT
// entries (default 1,000,000: scan decisions, with ten of an item's
// evidence reads among them; at 100,000 or fewer also by reading the whole
// log, as before the index). The rows are written straight into the table (a
// chain is not needed to look entries up):
//
//	go test -run - -bench AuditViews -benchtime 200x ./internal/store/sqlite
//	SAFEGUARD_BENCH_AUDIT=100000 go test -run - -bench AuditViews -benchtime 20x ./internal/store/sqlite
func BenchmarkAuditViews(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("SAFEGUARD_BENCH_AUDIT"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	s := openEmpty(b)
	ctx := context.Background()
	start := time.Now()
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		zero := make([]byte, 32)
		for i := 1; i <= n; i++ {
			actor, action, subject, detail := audit.System, audit.ScanDecision, fmt.Sprint("post-", i), `{"rules":[1]}`
			if i%100_000 == 0 { // ten views of the item, spread through the log
				actor, action, subject, detail = "k_reviewer", audit.EvidenceRead, "item-7", `{"purpose":"view"}`
			}
			if _, err := st.ExecContext(ctx, int64(i), int64(i), actor, action, subject, []byte(detail), zero, zero); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d audit entries written in %v", n, time.Since(start).Round(time.Millisecond))
	views := func(log audit.Store) func(b *testing.B) {
		return func(b *testing.B) {
			v := lereport.AuditViews{Log: log}
			for range b.N {
				vs, err := v.Views(ctx, "item-7")
				if err != nil || len(vs) != n/100_000 {
					b.Fatalf("Views = %d views, %v; want %d", len(vs), err, n/100_000)
				}
			}
		}
	}
	b.Run("index", views(s))
	if n <= 100_000 { // the whole log, as before the index: ~0.5 ms per 1,000 entries
		b.Run("whole-log", views(wholeLog{s}))
	}
}

// wholeLog hides the store's Finder, so AuditViews reads the whole log.
type wholeLog struct{ audit.Store }
