package evidence_test

import (
	"bytes"
	"io"
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

// The memory of reading a 64 MiB item's description and streaming it
// (docs/benchmarks.md): Get is what every caller did before Describe,
// Verify and Open, and still what a caller needing the bytes whole does.
// Allocated bytes per op (b.ReportAllocs) and the peak heap above the
// start both count.
//
//	go test -run - -bench Read64 -benchtime 3x ./internal/evidence
func BenchmarkRead64(b *testing.B) {
	s, data := large(b)
	data = data[:64<<20]
	item, err := s.Put(data, evidence.Meta{ContentType: "video/mp4"})
	if err != nil {
		b.Fatal(err)
	}
	for _, read := range []struct {
		name string
		f    func() error
	}{
		{"Get", func() error { _, _, err := s.Get(item.ID); return err }},
		{"Describe", func() error { _, err := s.Describe(item.ID); return err }},
		{"Verify", func() error { _, err := s.Verify(item.ID); return err }},
		{"Open", func() error {
			rc, _, err := s.Open(item.ID)
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(io.Discard, rc)
			return err
		}},
	} {
		b.Run(read.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(item.Size)
			var peak uint64
			for b.Loop() {
				peak = max(peak, evidencetest.Peak(func() {
					if err := read.f(); err != nil {
						b.Fatal(err)
					}
				}))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
