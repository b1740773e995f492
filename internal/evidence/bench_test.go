package evidence

import (
	"testing"
)

// The cost of preserving and reading back a 1 MiB image, fsyncs included.
func BenchmarkPut(b *testing.B) {
	s := open(b, b.TempDir(), ring(b, "k"))
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := s.Put(data, meta); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	s := open(b, b.TempDir(), ring(b, "k"))
	data := make([]byte, 1<<20)
	item, err := s.Put(data, meta)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := s.Get(item.ID); err != nil {
			b.Fatal(err)
		}
	}
}
