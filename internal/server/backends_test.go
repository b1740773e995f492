package server_test

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// backends are the databases the end-to-end tests run on.
var backends = []struct {
	name string
	open func(t *testing.T) (server.Config, store.Store)
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func openSQLite(t *testing.T) (server.Config, store.Store) {
	cfg := server.Config{Data: t.TempDir()}
	st, err := server.OpenStores(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, st
}

// openPostgres opens a fresh schema of SAFEGUARD_TEST_POSTGRES (skipping
// where it is unset).
func openPostgres(t *testing.T) (server.Config, store.Store) {
	ctx := context.Background()
	cfg := server.Config{Data: t.TempDir(), DatabaseURL: testkit.PostgresURL(t)}
	st, err := server.OpenStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, st
}
