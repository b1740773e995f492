package sqlite

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkStore measures imports of 1M entries and reading them back:
//
//	go test -run - -bench Store -benchtime 1x ./internal/store/sqlite
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, 1_000_000, func(b *testing.B) store.Store {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
