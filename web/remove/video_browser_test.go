package remove_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
	"github.com/safeguard-oss/safeguard/web/remove"
)

// framePage hashes the video at /clip with the page's own sampler
// (/remove/video.js: Chromium decodes; each sampled frame is taken from
// the decoder's planes, else drawn to a canvas) and the WebAssembly PDQ
// (safeguardHashFrame), as Report Remove does; here in the page rather
// than its worker, which changes nothing in the hashes.
const framePage = `<!doctype html><meta charset="utf-8"><script src="/remove/wasm_exec.js"></script><script src="/remove/video.js"></script><script>
const loaded = (async () => {
  const go = new Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch("/remove/hasher.wasm"), go.importObject);
  go.run(instance);
})();
window.hashVideo = async function (src) {
  await loaded;
  const file = await (await fetch(src)).blob();
  const plan = await videoPlan(file, async (moov) => self.safeguardVideoSamples(moov));
  const out = await sampleVideo(src, async (px, w, h, format) => self.safeguardHashFrame(px, w, h, format), null, plan);
  return JSON.stringify(out);
};
</script>`

// TestBrowserFrameHashes measures how near the browser's frame hashes come
// to the server's (ffmpeg's decode and swscale's conversion) on the sample
// videos at one frame a second, and checks that the browser's hashes
// match the server's under the vPDQ rule, which is what a victim's report
// needs. The distances are logged; docs/video.md records them.
// Run with SAFEGUARD_TEST_VIDEO_BROWSER=1.
func TestBrowserFrameHashes(t *testing.T) {
	browser := chromium(t)
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
	// A measurement (~25 s: the hasher built again, Chromium seeking
	// through three videos), so not part of every go test ./...
	if os.Getenv("SAFEGUARD_TEST_VIDEO_BROWSER") == "" {
		t.Skip("set SAFEGUARD_TEST_VIDEO_BROWSER=1 to measure the browser's video frame hashes")
	}
	// The hasher the binary embeds (web/remove/dist), served as /remove
	// serves it.
	assets, missing := remove.Assets("")
	if missing != nil {
		t.Fatalf("this build lacks the browser hasher's %v", missing)
	}
	hasher := remove.Handler(assets, remove.Helplines{})
	dir := "../../testdata/threatexchange/tmk/sample-videos"
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(framePage)) })
	names := []string{"chair-19-sd-bar", "chair-20-sd-bar", "chair-22-sd-grey-bar", "chair-22-with-large-logo-bar",
		"chair-orig-22-sd-bar", "doorknob-hd-no-bar", "pattern-sd-grey-bar", "pattern-sd-with-large-logo-bar",
		"pattern-sd-with-small-logo-bar", "test-padded-dimensions"}
	paths := map[string]string{}
	for _, n := range names {
		paths[n] = filepath.Join(dir, n+".mp4")
	}
	// At 29.97 fps the server keeps every 29th frame, 0.968 s apart: the
	// page must take those frames, not whole seconds (40 s: whole seconds
	// would have drifted a second away by then).
	ntsc := filepath.Join(t.TempDir(), "ntsc-29.97.mp4")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30000/1001:duration=40",
		"-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-pix_fmt", "yuv420p", "-movflags", "+faststart", ntsc).CombinedOutput(); err != nil {
		t.Fatalf("making a 29.97 fps video: %v %s", err, out)
	}
	names, paths["ntsc-29.97"] = append(names, "ntsc-29.97"), ntsc
	mux.HandleFunc("/clip/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeFile(w, r, paths[r.PathValue("name")])
	})
	mux.Handle("/remove/", hasher)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	bctx, cancelT := context.WithTimeout(bctx, 180*time.Second)
	defer cancelT()
	if err := chromedp.Run(bctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	var all struct{ pairs, sum, worst, frames int }
	defer func() {
		t.Logf("all samples: %d pairs of quality >= 50, distance mean %.2f, worst %d", all.pairs, float64(all.sum)/float64(max(all.pairs, 1)), all.worst)
	}()
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			path := paths[name]
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
			}
			var out string
			if err := chromedp.Run(bctx, chromedp.Evaluate(`hashVideo("/clip/`+name+`")`, &out,
				func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
				t.Skipf("this Chromium cannot hash %s in the page: %v", name, err)
			}
			var got []struct {
				T       float64 `json:"t"`
				PDQ     string  `json:"pdq"`
				Quality int     `json:"quality"`
				Via     string  `json:"via"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			server, err := vpdq.HashFile(context.Background(), path, vpdq.HashOptions{SecondsPerHash: 1})
			if err != nil {
				t.Fatal(err)
			}
			// The same frames: as many, at the server's timestamps.
			if len(got) != len(server.Frames) {
				t.Errorf("%s: the page took %d frames, the server %d", name, len(got), len(server.Frames))
			}
			for i := range min(len(got), len(server.Frames)) {
				if math.Abs(got[i].T-server.Frames[i].Timestamp) > 0.0005 {
					t.Errorf("%s: frame %d at %.3f s in the page, %.3f s on the server", name, i, got[i].T, server.Frames[i].Timestamp)
					break
				}
			}
			var browserFrames []vpdq.Frame
			n, sum, worst, within, raw := 0, 0, 0, 0, 0
			for i, g := range got {
				h, err := pdq.ParseHex(g.PDQ)
				if err != nil {
					t.Fatal(err)
				}
				if g.Via != "canvas" {
					raw++
				}
				browserFrames = append(browserFrames, vpdq.Frame{Number: i, Quality: g.Quality, Hash: h, Timestamp: g.T})
				// Frames too flat to be matched (quality < 50) hash to noise.
				if i < len(server.Frames) && g.Quality >= 50 && server.Frames[i].Quality >= 50 {
					d := pdq.Distance(h, server.Frames[i].Hash)
					n, sum, worst = n+1, sum+d, max(worst, d)
					if d <= 31 {
						within++
					}
				}
			}
			// The bank holds the browser's hashes (the victim's report); an
			// upload of the video is the query, hashed by the server.
			all.pairs, all.sum, all.worst = all.pairs+n, all.sum+sum, max(all.worst, worst)
			r := vpdq.DefaultRule.Compare(server.Frames, browserFrames)
			t.Logf("%s: %d browser frames (%d from the decoder's planes), %d server frames; over %d pairs of quality >= 50: distance mean %.1f, worst %d, %d within 31; server's upload against the browser's hashes: %.2f%% / %.2f%%",
				name, len(got), raw, len(server.Frames), n, float64(sum)/float64(max(n, 1)), worst, within, r.QueryPercent, r.ComparedPercent)
			// From the decoder's own planes, converted as the server
			// converts, a frame is the server's: the same hash. (Both
			// decoders are H.264's exact integer decoding.)
			if raw == len(got) && worst != 0 {
				t.Errorf("%s: every frame from the decoder's planes, yet a frame %d bits off the server's", name, worst)
			}
			if !vpdq.DefaultRule.Matches(r) {
				t.Errorf("the server's hashes of %s do not match the browser's (%.2f%% of its frames)", name, r.QueryPercent)
			}
		})
	}
}
