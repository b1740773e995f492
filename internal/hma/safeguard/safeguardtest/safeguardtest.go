// Package safeguardtest gives tests the HMA backend over a fresh SQLite
// store, with the real matcher and hasher, so that HMA's routes are tested
// against what a server runs rather than a fake.
package safeguardtest

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/hma/safeguard"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// Open returns a backend over a new store in a temporary directory, closed
// when the test ends, with its matcher synced and a hasher that computes
// the dihedral variants, as the server's does.
func Open(t testing.TB) (*safeguard.Backend, *sqlite.Store, *match.Matcher) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := match.New(st)
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := New(st, m)
	if err != nil {
		t.Fatal(err)
	}
	return b, st, m
}

// New returns the backend over st and a matcher of it, writing through
// the bank use case as the server's does.
func New(st store.Store, m *match.Matcher) (*safeguard.Backend, error) {
	stores, tx := usecase.Over(st)
	return safeguard.New(&usecase.Banks{Stores: stores, Tx: tx, Log: audit.NewLog(st), Matcher: m}, &hasher.Hasher{Dihedral: true})
}
