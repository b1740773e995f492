package remove_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
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

// framePage hashes the video at /clip in the page: Chromium decodes it, each
// second's frame is drawn to a canvas at the video's own size and hashed by
// the WebAssembly PDQ (safeguardHashFrame), as Report Remove would.
const framePage = `<!doctype html><meta charset="utf-8"><script src="/wasm_exec.js"></script><script>
const loaded = (async () => {
  const go = new Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch("/hasher.wasm"), go.importObject);
  go.run(instance);
})();
window.hashVideo = async function (src) {
  await loaded;
  const v = document.createElement("video");
  v.muted = true; v.preload = "auto"; v.src = src;
  await new Promise((ok, bad) => { v.onloadeddata = ok; v.onerror = () => bad(new Error("cannot decode")); });
  const c = document.createElement("canvas");
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext("2d", { willReadFrequently: true });
  const out = [];
  for (let t = 0; t < v.duration; t += 1) {
    // Just past the frame's start, so the frame shown is the one at t.
    // "seeked" can come before the frame is ready to draw; wait for the
    // frame itself to be presented too (at most half a second).
    const presented = new Promise((ok) => { v.requestVideoFrameCallback(() => ok()); setTimeout(ok, 500); });
    v.currentTime = t + 0.005;
    await new Promise((ok) => { v.onseeked = ok; });
    await presented;
    g.drawImage(v, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    const h = self.safeguardHashFrame(px, c.width, c.height);
    if (h.error) throw new Error(h.error);
    out.push({ t, pdq: h.pdq, quality: h.quality });
  }
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
	mux.HandleFunc("/clip/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeFile(w, r, filepath.Join(dir, filepath.Base(r.PathValue("name"))+".mp4"))
	})
	mux.Handle("/wasm_exec.js", hasher)
	mux.Handle("/hasher.wasm", hasher)
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
	for _, name := range []string{"chair-20-sd-bar", "doorknob-hd-no-bar", "pattern-sd-grey-bar"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".mp4")
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
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			server, err := vpdq.HashFile(context.Background(), path, vpdq.HashOptions{SecondsPerHash: 1})
			if err != nil {
				t.Fatal(err)
			}
			var browserFrames []vpdq.Frame
			n, sum, worst, within := 0, 0, 0, 0
			for i, g := range got {
				h, err := pdq.ParseHex(g.PDQ)
				if err != nil {
					t.Fatal(err)
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
			r := vpdq.DefaultRule.Compare(server.Frames, browserFrames)
			t.Logf("%s: %d browser frames, %d server frames; over %d pairs of quality >= 50: distance mean %.1f, worst %d, %d within 31; server's upload against the browser's hashes: %.2f%% / %.2f%%",
				name, len(got), len(server.Frames), n, float64(sum)/float64(max(n, 1)), worst, within, r.QueryPercent, r.ComparedPercent)
			if !vpdq.DefaultRule.Matches(r) {
				t.Errorf("the server's hashes of %s do not match the browser's (%.2f%% of its frames)", name, r.QueryPercent)
			}
		})
	}
}
