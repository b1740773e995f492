package store

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one numbered step of a backend's schema.
type Migration struct {
	Version int    // 1, 2, 3, ... with no gaps
	Name    string // the file name, for messages
	SQL     string
}

// Migrations reads a backend's schema steps from the files dir/NNNN_what.sql
// of fsys (an embed.FS in practice). A later feature adds its tables by
// adding the next numbered file; steps already applied are never edited.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	files, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var ms []Migration
	for _, f := range files { // ReadDir sorts by name, so zero-padded numbers come in order
		if f.IsDir() || !strings.HasSuffix(f.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(f.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: want a name like 0001_what.sql", f.Name())
		}
		if v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: want version %d next", f.Name(), len(ms)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, f.Name()))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", f.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: f.Name(), SQL: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return ms, nil
}
