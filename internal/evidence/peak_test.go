package evidence_test

import (
	"bytes"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/evidence/evidencetest"
)

// The memory sealing and opening an item of the largest size
// (evidence.DefaultMaxSize) holds beyond its content, which the caller
// holds anyway: peak-heap-MiB is the most heap in use above that, sampled.
func BenchmarkPutLarge(b *testing.B) {
	s, data := large(b)
	b.SetBytes(int64(len(data)))
	var peak uint64
	for b.Loop() {
		peak = max(peak, evidencetest.Peak(func() {
			if _, err := s.Put(data, evidence.Meta{ContentType: "video/mp4"}); err != nil {
				b.Fatal(err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

func BenchmarkGetLarge(b *testing.B) {
	s, data := large(b)
	item, err := s.Put(data, evidence.Meta{ContentType: "video/mp4"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	var peak uint64
	for b.Loop() {
		peak = max(peak, evidencetest.Peak(func() {
			if _, _, err := s.Get(item.ID); err != nil {
				b.Fatal(err)
			}
		}))
	}
	// What Get returns is the content itself: one copy of it is the least
	// it can hold.
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

func large(b *testing.B) (*evidence.Store, []byte) {
	kr, err := evidence.NewKeyring("k", map[string][]byte{"k": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		b.Fatal(err)
	}
	s, err := evidence.Open(b.TempDir(), kr)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, evidence.DefaultMaxSize)
	for i := range data {
		data[i] = byte(i ^ i>>9)
	}
	return s, data
}
