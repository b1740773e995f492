package evidence

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files is where a Store keeps its files: an item's sealed bytes
// ("<id>.sgev") and its hold ("<id>.hold"). The Store does all the
// encryption and checking, so a Files only keeps bytes: a directory (Open)
// for one server, a database every server shares (the PostgreSQL store's
// EvidenceFiles) when several serve one installation.
type Files interface {
	// Write stores file name with the bytes r yields, replacing any file
	// of that name, atomically (a crash or error leaves the old file or
	// the new, never part) and durably (kept once Write returns).
	Write(name string, r io.Reader) error
	// Open returns file name's content and description; an error wrapping
	// fs.ErrNotExist if there is none. The caller closes it.
	Open(name string) (io.ReadCloser, FileInfo, error)
	// Remove removes file name, durably; nil if there was none.
	Remove(name string) error
	// Names yields every file's name, in no set order.
	Names() iter.Seq2[string, error]
}

// FileInfo describes a file of Files.
type FileInfo struct {
	Size    int64
	Written time.Time
}

// Dir is Files in a directory.
type Dir string

// Write implements Files: a temporary file, synced, renamed over the
// old one, then the directory synced so the rename survives a crash.
func (d Dir) Write(name string, r io.Reader) (err error) {
	f, err := os.CreateTemp(string(d), tmpPrefix+strings.TrimSuffix(name, filepath.Ext(name))+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = io.Copy(f, r); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), filepath.Join(string(d), name)); err != nil {
		return err
	}
	return d.sync()
}

func (d Dir) sync() error {
	f, err := os.Open(string(d))
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Open implements Files.
func (d Dir) Open(name string) (io.ReadCloser, FileInfo, error) {
	f, err := os.Open(filepath.Join(string(d), name))
	if err != nil {
		return nil, FileInfo{}, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, FileInfo{}, err
	}
	return f, FileInfo{Size: info.Size(), Written: info.ModTime().UTC()}, nil
}

// Remove implements Files.
func (d Dir) Remove(name string) error {
	if err := os.Remove(filepath.Join(string(d), name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return d.sync()
}

// Names implements Files; temporary files are not named.
func (d Dir) Names() iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		entries, err := os.ReadDir(string(d))
		if err != nil {
			yield("", err)
			return
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tmpPrefix) || e.IsDir() {
				continue
			}
			if !yield(e.Name(), nil) {
				return
			}
		}
	}
}

// readAll reads file name whole, refusing one over limit bytes.
func readAll(files Files, name string, limit int64) ([]byte, FileInfo, error) {
	rc, info, err := files.Open(name)
	if err != nil {
		return nil, info, err
	}
	defer rc.Close()
	if info.Size > limit {
		return nil, info, fmt.Errorf("file is %d bytes, more than an item can be (%d): %w", info.Size, limit, ErrTooLarge)
	}
	buf := make([]byte, info.Size)
	if _, err := io.ReadFull(rc, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, info, fmt.Errorf("file cut short while read: %w", ErrCorrupt)
		}
		return nil, info, err
	}
	return buf, info, nil
}

var _ Files = Dir("")

// Copy copies every file of src into dst as it is (sealed: no key is
// needed, and none is learnt), returning how many it copied. A file
// already in dst is replaced, so a copy interrupted may be run again.
func Copy(dst, src Files) (n int, err error) {
	for name, err := range src.Names() {
		if err != nil {
			return n, fmt.Errorf("evidence: copy: %w", err)
		}
		rc, _, err := src.Open(name)
		if err != nil {
			return n, fmt.Errorf("evidence: copy %s: %w", name, err)
		}
		err = dst.Write(name, rc)
		rc.Close()
		if err != nil {
			return n, fmt.Errorf("evidence: copy %s: %w", name, err)
		}
		n++
	}
	return n, nil
}
