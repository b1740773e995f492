package server_test

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

const sampleVideos = "../../testdata/threatexchange/tmk/sample-videos"

// TestVideo drives video through the HTTP API on both backends: a bank of
// vPDQ signal strings and an MD5, a video scan (spooled to disk, hashed
// by ffmpeg) that matches them and is quarantined with its evidence, a
// lookup by vPDQ and by video MD5, and the hostile-video suite, each
// answered 422 (or 413) with its reason while the server keeps serving
// and leaves no spooled file behind.
func TestVideo(t *testing.T) {
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(sampleVideos); err != nil {
		t.Skip("no sample videos:", err)
	}
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp) // nothing is spooled here, the spool directory's default
			cfg, st := backend.open(t)
			cfg.MaxVideo = 4 << 20
			base, adminKey := start(t, cfg, st)
			videoAPI(t, client{t, base, adminKey})
			for _, dir := range []string{filepath.Join(cfg.Data, "spool"), tmp} {
				if left := names(t, dir); len(left) != 0 {
					t.Errorf("spooled files left behind in %s: %v", dir, left)
				}
			}
		})
	}
}

func videoAPI(t *testing.T, admin client) {
	chair20, err := os.ReadFile(filepath.Join(sampleVideos, "chair-20-sd-bar.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	ref := func(name string) string {
		f, err := os.Open(filepath.Join("../../testdata/threatexchange/vpdq/sample-hashes", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		frames, err := vpdq.ReadText(f)
		if err != nil {
			t.Fatal(err)
		}
		return vpdq.FormatSignal(frames)
	}
	admin.json("POST", "/v1/banks", map[string]any{"name": "videos"}, 201, nil)
	var added struct {
		Added int `json:"added"`
	}
	md5Hex := fmt.Sprintf("%x", md5Sum(chair20))
	admin.json("POST", "/v1/banks/videos/entries", map[string]any{"entries": []map[string]any{
		{"signal": "vpdq", "value": ref("chair-orig-22-sd-bar"), "note": "orig"},
		{"signal": "vpdq", "value": ref("pattern-sd-grey-bar"), "note": "pattern"},
		{"signal": "md5", "value": md5Hex},
	}}, 200, &added)
	if added.Added != 3 {
		t.Fatalf("added %d entries, want 3", added.Added)
	}
	admin.json("POST", "/v1/rules", map[string]any{
		"name": "known videos", "banks": []string{"videos"}, "signals": []string{"vpdq"},
		"actions": []map[string]any{{"kind": "quarantine"}, {"kind": "block"}},
	}, 201, nil)

	type answer struct {
		ID      string `json:"scan_id"`
		Blocked bool   `json:"blocked"`
		Matches []struct {
			Bank            string  `json:"bank"`
			Signal          string  `json:"signal"`
			QueryPercent    float64 `json:"query_match_percent"`
			ComparedPercent float64 `json:"compared_match_percent"`
		} `json:"matches"`
	}
	var a answer
	admin.do("POST", "/v1/scan?content_id=clip-1", "video/mp4", chair20, 200, &a)
	signals := map[string]int{}
	for _, m := range a.Matches {
		signals[m.Signal]++
		if m.Signal == "vpdq" && (m.QueryPercent < 80 || m.ComparedPercent <= 0) {
			t.Errorf("vpdq match at %.2f/%.2f", m.QueryPercent, m.ComparedPercent)
		}
	}
	if !a.Blocked || signals["vpdq"] != 1 || signals["md5"] != 1 || len(signals) != 2 {
		t.Fatalf("scan of chair-20: blocked %v, matches %+v: want chair-orig-22 by vPDQ and the file by MD5", a.Blocked, a.Matches)
	}
	var rec struct {
		Kind     string `json:"kind"`
		MD5      string `json:"md5"`
		Evidence string `json:"evidence"`
		EvErr    string `json:"evidence_error"`
	}
	admin.do("GET", "/v1/scans/"+a.ID, "", nil, 200, &rec)
	if rec.Kind != "scan" || rec.MD5 != md5Hex || rec.Evidence == "" {
		t.Errorf("scan record %+v: want the video's MD5 and its evidence kept", rec)
	}

	// Lookups: the platform's vPDQ (the signal string, or its array), and
	// the video's MD5 alone.
	admin.json("POST", "/v1/lookup", map[string]any{"vpdq": ref("chair-20-sd-bar")}, 200, &a)
	if len(a.Matches) != 1 || a.Matches[0].Signal != "vpdq" || a.Matches[0].QueryPercent != 100 {
		t.Errorf("vpdq lookup: %+v", a.Matches)
	}
	admin.do("POST", "/v1/lookup", "application/json", []byte(`{"vpdq":`+ref("chair-20-sd-bar")+`}`), 200, &a)
	if len(a.Matches) != 1 {
		t.Errorf("vpdq lookup as an array: %+v", a.Matches)
	}
	admin.json("POST", "/v1/lookup", map[string]any{"md5": md5Hex}, 200, &a)
	if len(a.Matches) != 1 || a.Matches[0].Signal != "md5" {
		t.Errorf("md5 lookup: %+v", a.Matches)
	}
	admin.json("POST", "/v1/lookup", map[string]any{"vpdq": `["nothex,100,0.0"]`}, 400, nil)

	// A video uploaded to a bank is hashed there: vPDQ, MD5, SHA-256.
	admin.json("POST", "/v1/banks", map[string]any{"name": "uploads"}, 201, nil)
	var up struct {
		Added  int `json:"added"`
		Hashes struct {
			MD5 string `json:"md5"`
		} `json:"hashes"`
		Frames int `json:"vpdq_frames"`
	}
	admin.do("POST", "/v1/banks/uploads/entries?source=hotline", "video/mp4", chair20, 200, &up)
	if up.Added != 3 || up.Hashes.MD5 != md5Hex || up.Frames != 21 {
		t.Errorf("video upload to a bank: %+v, want 3 entries, its MD5 and 21 frames", up)
	}

	// The hostile suite.
	var bomb bytes.Buffer
	bomb.Write([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")) // an MP4's first box
	zw := gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 32<<20))
	zw.Close()
	many := t.TempDir() + "/many.mkv"
	args := []string{"-v", "error", "-f", "lavfi", "-i", "testsrc=size=32x32:duration=0.2"}
	for i := 0; i < 40; i++ {
		args = append(args, "-map", "0:v")
	}
	if out, err := exec.Command("ffmpeg", append(args, "-c:v", "mpeg4", many)...).CombinedOutput(); err != nil {
		t.Fatalf("making a video of 40 streams: %v %s", err, out)
	}
	manyStreams, _ := os.ReadFile(many)
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		reason string
	}{
		{"truncated", chair20[:4096], 422, "unprocessable_video"},
		{"header only", chair20[:64], 422, "unprocessable_video"},
		{"huge declared dimensions", []byte("YUV4MPEG2 W16000 H16000 F30:1 C420jpeg\nFRAME\n\x00\x00\x00"), 422, "too large"},
		{"thousands of streams", manyStreams, 422, "streams"},
		{"zip bomb as .mp4", bomb.Bytes(), 422, "unprocessable_video"},
		{"gzip named .mp4", bomb.Bytes()[24:], 422, "unsupported_image"},
		{"over the video limit", append(append([]byte{}, chair20[:32]...), make([]byte, 5<<20)...), 413, "limit"},
	} {
		body := admin.do("POST", "/v1/scan", "video/mp4", c.body, c.status, nil)
		if !strings.Contains(string(body), c.reason) || strings.Contains(string(body), "safeguard-upload") {
			t.Errorf("%s: answer %s: want %q and no spool path", c.name, body, c.reason)
		}
	}
	// Still serving, and still matching.
	admin.do("POST", "/v1/scan", "video/mp4", chair20, 200, &a)
	if !a.Blocked {
		t.Errorf("after the hostile suite, chair-20 is no longer blocked")
	}
	admin.do("GET", "/healthz", "", nil, http.StatusOK, nil)
}

func md5Sum(b []byte) [16]byte { return md5.Sum(b) }
