package cli

import (
	"encoding/json"
	"os"

	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/video"
)

// needFFmpeg skips tests that run ffmpeg where it is not installed; CI
// installs it (.ci/run), so there they always run.
func needFFmpeg(t *testing.T) {
	t.Helper()
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
}

// --format vpdq prints the reference vpdq-hash-video's lines: every frame
// with --seconds-per-hash 0, byte for byte the reference's sample output.
func TestHashVPDQMatchesReference(t *testing.T) {
	needTestdata(t)
	needFFmpeg(t)
	video := filepath.Join(testdata, "tmk/sample-videos/chair-20-sd-bar.mp4")
	want, err := os.ReadFile(filepath.Join(testdata, "vpdq/sample-hashes/chair-20-sd-bar.txt"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "", "hash", "--format", "vpdq", "--seconds-per-hash", "0", video)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != string(want) {
		t.Errorf("output differs from the reference's every-frame hashes")
	}
	// The default is one frame a second: frames 0, 30, ..., 600, each the
	// reference's line for that frame but for the timestamp's rounding.
	code, out, errs = run(t, "", "hash", "--format", "vpdq", video)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	ref := strings.Split(strings.TrimSpace(string(want)), "\n")
	if len(lines) != 21 {
		t.Fatalf("%d lines at the default 1 s, want 21", len(lines))
	}
	for i, l := range lines {
		if l != ref[30*i] {
			t.Errorf("line %d = %s, reference frame %d is %s", i, l, 30*i, ref[30*i])
		}
	}
}

// --format json gives a video's signals; the MD5 is the one the reference's
// WebAssembly tests expect (pdq/wasm/test/TestData/PDQMD5TestData.csv).
// Videos and images are told apart by content, not by name.
func TestHashJSONVideoAndSniffing(t *testing.T) {
	needTestdata(t)
	needFFmpeg(t)
	dir := t.TempDir()
	mp4, err := os.ReadFile(filepath.Join(testdata, "tmk/sample-videos/chair-19-sd-bar.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	jpg, err := os.ReadFile(filepath.Join(testdata, "pdq/data/bridge-mods/aaa-orig.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a-video.jpg"), mp4, 0o644)
	os.WriteFile(filepath.Join(dir, "b-image.mp4"), jpg, 0o644)
	code, out, errs := run(t, "", "hash", "--format", "json", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), out)
	}
	var v videoJSON
	if err := json.Unmarshal([]byte(lines[0]), &v); err != nil {
		t.Fatal(err)
	}
	if v.Format != "video" || v.MD5 != "0a21c8f85a55a9e276ffc2c53f6887c4" || len(v.SHA256) != 64 ||
		v.Width != 480 || v.Height != 720 || v.FrameRate != 30 {
		t.Errorf("video record %+v", v)
	}
	// chair-19-sd-bar has 564 frames: 19 hashed at one a second.
	if len(v.VPDQ) != 19 || v.VPDQ[18].Frame != 540 || v.VPDQ[18].Timestamp != 18 {
		t.Errorf("%d frames, last %+v; want 19 ending at frame 540, 18 s", len(v.VPDQ), v.VPDQ[len(v.VPDQ)-1])
	}
	var img hashJSON
	if err := json.Unmarshal([]byte(lines[1]), &img); err != nil {
		t.Fatal(err)
	}
	if img.Format != "jpeg" || img.Quality != 100 {
		t.Errorf("image record %+v", img)
	}
}

func TestHashVideoFormatErrors(t *testing.T) {
	needTestdata(t)
	needFFmpeg(t)
	video := filepath.Join(testdata, "tmk/sample-videos/chair-19-sd-bar.mp4")
	image := filepath.Join(testdata, "pdq/data/bridge-mods/aaa-orig.jpg")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"hash", video}, 1, "is a video"},
		{[]string{"hash", "--format", "vpdq", image}, 1, "is not a video"},
		{[]string{"hash", "--format", "vpdq", "--seconds-per-hash", "-1", video}, 2, "seconds-per-hash"},
	} {
		code, _, errs := run(t, "", c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.msg)
		}
	}
}

// --format tmk writes the reference tmk-hash-video's .tmk, byte for byte,
// to standard output or, for several videos, to --out-dir.
func TestHashTMKMatchesReference(t *testing.T) {
	needTestdata(t)
	needFFmpeg(t)
	video := filepath.Join(testdata, "tmk/sample-videos/chair-20-sd-bar.mp4")
	want, err := os.ReadFile("../tmk/testdata/reference/chair-20-sd-bar.tmk")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "", "hash", "--format", "tmk", video)
	if code != 0 || out != string(want) {
		t.Fatalf("exit %d, %d bytes differing from the reference's %d: %s", code, len(out), len(want), errs)
	}
	other := filepath.Join(testdata, "tmk/sample-videos/chair-19-sd-bar.mp4")
	if code, _, errs := run(t, "", "hash", "--format", "tmk", video, other); code == 0 || !strings.Contains(errs, "--out-dir") {
		t.Errorf("two videos to standard output: exit %d, %s", code, errs)
	}
	dir := t.TempDir()
	if code, _, errs := run(t, "", "hash", "--format", "tmk", "--out-dir", dir, video, other); code != 0 {
		t.Fatalf("--out-dir: exit %d: %s", code, errs)
	}
	got, err := os.ReadFile(filepath.Join(dir, "chair-20-sd-bar.tmk"))
	if err != nil || string(got) != string(want) {
		t.Errorf("--out-dir chair-20-sd-bar.tmk: %v, equal %t", err, string(got) == string(want))
	}
	if _, err := os.Stat(filepath.Join(dir, "chair-19-sd-bar.tmk")); err != nil {
		t.Error(err)
	}
	notVideo := filepath.Join(testdata, "pdq/data/reg-test-input/pen-and-coaster.png")
	if code, _, errs := run(t, "", "hash", "--format", "tmk", notVideo); code != 1 || errs == "" {
		t.Errorf("an image: exit %d, %q", code, errs)
	}
}
