// Package spool is the private directory where a server writes content
// for the length of one request: uploaded videos, which ffmpeg reads from
// a file; evidence packages, which are built whole before they are sent;
// videos copied out of the evidence store for their keyframes. That
// content is possibly child sexual abuse material, or reports about it,
// in plaintext, so the directory is the server's alone (Open refuses one
// that others may enter) and nothing in it outlives its request: the
// writers remove their files on every way out, and Sweep removes what a
// crash left.
package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The prefixes of the files the server spools; Sweep removes only these.
const (
	Upload    = "safeguard-upload-"    // a video upload (api)
	Package   = "safeguard-package-"   // an evidence package (api)
	Keyframes = "safeguard-keyframes-" // a kept video, for its keyframes (console)
)

var prefixes = []string{Upload, Package, Keyframes}

// Dir is a spool directory. The zero value spools to os.TempDir(), for
// tests and tools; a server spools to one Open checked.
type Dir string

// Open returns the spool directory at path, creating it (and its missing
// parents) 0700. It refuses a path that is not a directory, or a directory
// that its group or other users may read, write or enter: what is spooled
// there would be theirs to read.
func Open(path string) (Dir, error) {
	if path == "" {
		return "", errors.New("spool directory: no path given")
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return "", fmt.Errorf("spool directory: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("spool directory: %w", err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("spool directory %s is not a directory (%s): give a directory (--spool-dir)", path, info.Mode().Type())
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("spool directory %s is open to its group or other users (mode %04o): uploaded content spooled there "+
			"would be theirs to read; make it the server's alone with: chmod 700 %s", path, perm, path)
	}
	return Dir(path), nil
}

// Create creates a new file for one request's content, mode 0600, named
// prefix (one of this package's), random characters and suffix. The
// caller removes it on every way out of the request, a panic's included
// (a defer made before anything else can fail).
func (d Dir) Create(prefix, suffix string) (*os.File, error) {
	return os.CreateTemp(string(d), prefix+"*"+suffix)
}

// Sweep removes the files of this package's prefixes last written before
// cutoff: left by a process that stopped mid-request (a crash, kill -9).
// Files of other names, and younger ones, which a process sharing the
// directory may be writing or reading, are left alone. It returns how many
// it removed, and the first error (it goes on past one).
func (d Dir) Sweep(cutoff time.Time) (int, error) {
	dir := string(d)
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("spool directory: %w", err)
	}
	n, first := 0, error(nil)
	for _, e := range entries {
		if !e.Type().IsRegular() || !ours(e.Name()) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // its request removed it meanwhile
		}
		if err == nil && !info.ModTime().Before(cutoff) {
			continue
		}
		if err == nil {
			err = os.Remove(filepath.Join(dir, e.Name()))
		}
		switch {
		case err == nil:
			n++
		case errors.Is(err, fs.ErrNotExist):
		case first == nil:
			first = fmt.Errorf("spool directory: %w", err)
		}
	}
	return n, first
}

func ours(name string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
