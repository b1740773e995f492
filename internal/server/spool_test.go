package server_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/spool"
)

// A video upload is spooled in the configured spool directory (created
// 0700) while its request runs, nowhere else, and is gone once answered.
func TestSpoolDir(t *testing.T) {
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
	clip, err := os.ReadFile(filepath.Join(sampleVideos, "chair-20-sd-bar.mp4"))
	if err != nil {
		t.Skip("no sample video:", err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the old default: nothing may land there
	cfg, st := openSQLite(t)
	cfg.SpoolDir = filepath.Join(t.TempDir(), "private", "spool")
	base, key := start(t, cfg, st)
	if info, err := os.Stat(cfg.SpoolDir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("spool directory: %v, %v; want one made 0700", info, err)
	}

	body, send := io.Pipe()
	req, err := http.NewRequest("POST", base+"/v1/scan?content_id=clip-1", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "video/mp4")
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		answered <- resp
	}()
	half := len(clip) / 2
	if _, err := send.Write(clip[:half]); err != nil {
		t.Fatal(err)
	}
	var spooled []string
	for deadline := time.Now().Add(10 * time.Second); len(spooled) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no spooled file in the spool directory while the upload is under way")
		}
		spooled = names(t, cfg.SpoolDir)
	}
	if len(spooled) != 1 || !strings.HasPrefix(spooled[0], spool.Upload) {
		t.Errorf("spool directory mid-request: %v, want one %s* file", spooled, spool.Upload)
	}
	send.Write(clip[half:])
	send.Close()
	resp := <-answered
	if resp == nil {
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("scan: %d %s", resp.StatusCode, b)
	}
	if left := names(t, cfg.SpoolDir); len(left) != 0 {
		t.Errorf("spool directory after the answer: %v", left)
	}
	if left := names(t, tmp); len(left) != 0 {
		t.Errorf("$TMPDIR after the answer: %v", left)
	}
}

// At start the server removes what a process stopped mid-request left in
// the spool directory: files of its prefixes over an hour old, counted on
// /metrics. Young ones (another process's requests) and other names stay.
func TestSpoolSweep(t *testing.T) {
	cfg, st := openSQLite(t)
	dir := filepath.Join(cfg.Data, "spool") // the default
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	old, young := time.Now().Add(-3*time.Hour), time.Now().Add(-10*time.Minute)
	for name, mtime := range map[string]time.Time{
		spool.Upload + "1.video": old, spool.Package + "2.zip": old, spool.Keyframes + "3.video": old,
		spool.Upload + "4.video": young, "keep-me.video": old,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("content"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	base, _ := start(t, cfg, st)
	if left, want := names(t, dir), []string{"keep-me.video", spool.Upload + "4.video"}; !slices.Equal(left, want) {
		t.Errorf("spool directory after start: %v, want %v", left, want)
	}
	if _, _, body := get(t, base+"/metrics"); !strings.Contains(body, "safeguard_spool_swept_total 3") {
		t.Error("/metrics lacks safeguard_spool_swept_total 3")
	}
}

// A spool directory its group or other users may enter, or a path that
// is not a directory, stops the server before it serves, saying how to
// fix it.
func TestSpoolRefused(t *testing.T) {
	cfg, st := openSQLite(t)
	defer st.Close()
	loose := filepath.Join(t.TempDir(), "loose")
	if err := os.Mkdir(loose, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(loose, 0o750)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	for path, want := range map[string]string{loose: "chmod 700 " + loose, file: "not a directory"} {
		cfg.SpoolDir, cfg.Listen = path, "127.0.0.1:0"
		if srv, err := server.New(context.Background(), cfg, st, nil); err == nil || !strings.Contains(err.Error(), want) {
			if srv != nil {
				t.Fatalf("spool directory %s: the server started", path)
			}
			t.Errorf("spool directory %s: %v, want an error saying %q", path, err, want)
		}
	}
}

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
