package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/postgres"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
)

// storeFlags are the flags of every command that reads or writes the
// store: SQLite in a data directory by default, PostgreSQL when a URL is given.
// They read serve's config file the way serve does (see settle).
type storeFlags struct {
	fs                *flag.FlagSet
	data, url, config *string
}

func addStoreFlags(fs *flag.FlagSet) *storeFlags {
	return &storeFlags{
		fs:     fs,
		data:   fs.String("data", envOr("SAFEGUARD_DATA", "./safeguard-data"), "`directory` of the embedded SQLite store (env SAFEGUARD_DATA)"),
		url:    fs.String("database-url", os.Getenv("SAFEGUARD_DATABASE_URL"), "PostgreSQL `URL` (postgres://...) to use instead of SQLite (env SAFEGUARD_DATABASE_URL)"),
		config: addConfigFlag(fs),
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (f *storeFlags) open(ctx context.Context) (store.Store, error) {
	if _, err := settle(f.fs, *f.config, map[string]*string{"data": f.data, "database-url": f.url}); err != nil {
		return nil, err
	}
	if u := *f.url; u != "" {
		if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
			return nil, fmt.Errorf("--database-url %q: want a postgres:// URL", u)
		}
		return postgres.Open(ctx, u)
	}
	return sqlite.Open(ctx, *f.data)
}
