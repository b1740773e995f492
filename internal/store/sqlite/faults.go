package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"modernc.org/sqlite"

	"github.com/safeguard-oss/safeguard/internal/derrors"
)

// SQLite's primary result codes that mean the database cannot be used now
// rather than that the request was wrong: the operator frees the disk or
// fixes the permissions, and the same request then succeeds.
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteNoMem    = 7
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
)

func init() { derrors.Classify(classify) }

// classify gives SQLite's faults (disk full, I/O error, read-only or
// missing file, locked past the busy timeout) the kind Unavailable, so
// they answer 503 with Retry-After instead of 500.
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteNoMem, sqliteReadOnly, sqliteIOErr, sqliteFull, sqliteCantOpen:
			return derrors.Unavailable
		}
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) || errors.Is(err, os.ErrPermission) {
		return derrors.Unavailable
	}
	return nil
}

// notWritable says so when err means the data directory cannot be written
// (read-only file system, permissions, SQLite's read-only or cannot-open),
// which SQLite's own words ("attempt to write a readonly database", "unable
// to open database file") leave the operator to guess.
func notWritable(dir string, err error) error {
	var se *sqlite.Error
	ro := errors.Is(err, syscall.EROFS) || errors.Is(err, os.ErrPermission) ||
		errors.As(err, &se) && (se.Code()&0xff == sqliteReadOnly || se.Code()&0xff == sqliteCantOpen)
	if !ro {
		return err
	}
	return fmt.Errorf("the data directory %s is read-only or not writable by this user (safeguard keeps its database there; use --data to choose another): %w", dir, err)
}
