package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
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

// openPostgres opens a fresh schema of SAFEGUARD_TEST_POSTGRES, dropped
// when the test ends.
func openPostgres(t *testing.T) (server.Config, store.Store) {
	base := os.Getenv("SAFEGUARD_TEST_POSTGRES")
	if base == "" {
		t.Skip("SAFEGUARD_TEST_POSTGRES not set (postgres://...): skipping the PostgreSQL end-to-end test")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to SAFEGUARD_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("sg_e2e_%016x", rand.Uint64())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	cfg := server.Config{Data: t.TempDir(), DatabaseURL: u.String()}
	st, err := server.OpenStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, st
}
