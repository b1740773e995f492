package audit_test

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
)

// detail is the size of a typical scan decision.
var detail = map[string]any{
	"content_id": "post-8812731", "account_id": "acct-99123", "signal": "pdq",
	"matches": []map[string]any{{"bank": "ncmec", "entry": 1234567, "distance": 12}},
	"rule":    "block-known", "actions": []string{"block", "quarantine", "report"},
}

func BenchmarkRecord(b *testing.B) {
	l := audit.NewLog(new(audittest.Memory))
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.Record(ctx, audit.System, audit.ScanDecision, "post-8812731", detail); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	const n = 10000
	_, m := newLog(b, 0)
	l := audit.NewLog(m)
	for range n {
		l.Record(context.Background(), audit.System, audit.ScanDecision, "post-8812731", detail)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := audit.Verify(all(m)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}
