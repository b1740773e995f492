package spool_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/spool"
)

func TestOpen(t *testing.T) {
	base := t.TempDir()
	path := filepath.Join(base, "data", "spool")
	d, err := spool.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("created %04o, want 0700", perm)
	}
	if _, err := spool.Open(path); err != nil {
		t.Errorf("opening it again: %v", err)
	}
	f, err := d.Create(spool.Upload, ".video")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if dir, name := filepath.Split(f.Name()); filepath.Clean(dir) != path || !strings.HasPrefix(name, spool.Upload) || !strings.HasSuffix(name, ".video") {
		t.Errorf("created %s, want %s/%s*.video", f.Name(), path, spool.Upload)
	}
	if info, err := os.Stat(f.Name()); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("file: %v, %v; want mode 0600", info.Mode(), err)
	}
}

// A directory its group or other users may enter is refused, saying how
// to make it private; so is a path that is not a directory.
func TestOpenRefuses(t *testing.T) {
	base := t.TempDir()
	for _, mode := range []os.FileMode{0o755, 0o750, 0o701, 0o770, 0o707} {
		path := filepath.Join(base, mode.String())
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		_, err := spool.Open(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 700 "+path) || !strings.Contains(err.Error(), "group or other users") {
			t.Errorf("mode %04o: %v, want a refusal saying chmod 700 %s", mode, err, path)
		}
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := spool.Open(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v, want not a directory", err)
	}
	if _, err := spool.Open(""); err == nil {
		t.Error("no path: no error")
	}
}

// Sweep removes the spooled files last written before the cutoff, and
// nothing else: not younger ones (another process's request in flight),
// not other names, not directories or links that bear a spool prefix.
func TestSweep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool") // t.TempDir's are 0755
	d, err := spool.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old, young := now.Add(-2*time.Hour), now.Add(-time.Minute)
	write := func(name string, mtime time.Time) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("content"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write(spool.Upload+"1.video", old)
	write(spool.Package+"2.zip", old)
	write(spool.Keyframes+"3.video", old)
	write(spool.Upload+"4.video", young)
	write(spool.Keyframes+"5.video", young)
	write("safeguard-index-6.snap", old) // not a spool prefix
	write("notes.txt", old)
	write(".ready-7", old)
	if err := os.Mkdir(filepath.Join(dir, spool.Upload+"dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, spool.Package+"link.zip")); err != nil {
		t.Fatal(err)
	}

	n, err := d.Sweep(now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("removed %d, want 3", n)
	}
	var left []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{".ready-7", "notes.txt", spool.Keyframes + "5.video", spool.Package + "link.zip", spool.Upload + "4.video", spool.Upload + "dir", "safeguard-index-6.snap"}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	if _, err := os.Stat(target); err != nil {
		t.Errorf("the link's target: %v", err)
	}
	if n, err := d.Sweep(now.Add(-time.Hour)); n != 0 || err != nil {
		t.Errorf("second sweep: %d, %v; want 0, nil", n, err)
	}
}
