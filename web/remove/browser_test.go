package remove_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/web/remove"
)

// chromium finds Debian's chromium (or another Chromium-based browser).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (Debian: apt-get install chromium): skipping the browser test of /remove")
	return ""
}

// photo draws a w x h picture with enough detail for a meaningful PDQ hash
// (quality 100): overlapping discs on a soft wave, with a little noise, as
// a photograph has.
func photo(w, h int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	type disc struct{ x, y, rad, v float64 }
	var discs []disc
	for range 60 {
		discs = append(discs, disc{r.Float64() * float64(w), r.Float64() * float64(h), (0.03 + 0.15*r.Float64()) * float64(min(w, h)), 120*r.Float64() - 60})
	}
	fx, fy := 2*math.Pi*(3+5*r.Float64())/float64(w), 2*math.Pi*(3+5*r.Float64())/float64(h)
	for y := range h {
		for x := range w {
			v := 128 + 40*math.Sin(float64(x)*fx)*math.Cos(float64(y)*fy)
			for _, d := range discs {
				dx, dy := float64(x)-d.x, float64(y)-d.y
				if dx*dx+dy*dy < d.rad*d.rad {
					v += d.v
				}
			}
			n := r.IntN(9) - 4
			o := img.PixOffset(x, y)
			img.Pix[o+0] = uint8(min(255, max(0, int(v)+n)))
			img.Pix[o+1] = uint8(min(255, max(0, int(v*0.8)+n)))
			img.Pix[o+2] = uint8(min(255, max(0, int(255-v/2)+n)))
			img.Pix[o+3] = 255
		}
	}
	return img
}

func writeImage(t *testing.T, path string, img image.Image) []byte {
	var buf bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".png") {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// recorded is one request the server received, with its whole body.
type recorded struct {
	method, path string
	body         []byte
}

// TestBrowser drives /remove in headless Chromium at phone width: pick
// photos, send, and check that only hashes left the page, that they are
// the hashes `safeguard hash` gives, that a re-encoded copy is then blocked,
// and that /remove/status shows the case. Its screenshot is kept in the
// directory it logs.
func TestBrowser(t *testing.T) {
	browser := chromium(t)
	if testing.Short() {
		t.Skip("-short: skipping the browser test")
	}
	ctx := context.Background()
	// The hasher the binary embeds: the committed web/remove/dist, which
	// .ci/run checks is what ./wasm builds, and which a plain build serves.
	if _, missing := remove.Assets(""); missing != nil {
		t.Fatalf("this build lacks the browser hasher's %v", missing)
	}
	cli := filepath.Join(t.TempDir(), "safeguard")
	if out, err := exec.Command("go", "build", "-o", cli, "github.com/safeguard-oss/safeguard/cmd/safeguard").CombinedOutput(); err != nil {
		t.Fatalf("building safeguard: %v\n%s", err, out)
	}

	// The photos: a 12-megapixel JPEG as a phone takes, a small JPEG and a
	// PNG; a video (the reference's 20-second sample, hashed at a frame a
	// second); and a "video" no browser can play, which the page must
	// refuse without sending.
	pics := t.TempDir()
	files := []string{filepath.Join(pics, "phone.jpg"), filepath.Join(pics, "small.jpg"), filepath.Join(pics, "drawing.png")}
	contents := [][]byte{
		writeImage(t, files[0], photo(4000, 3000, 1)),
		writeImage(t, files[1], photo(800, 600, 2)),
		writeImage(t, files[2], photo(640, 640, 3)),
	}
	clip, err := os.ReadFile("../../testdata/threatexchange/tmk/sample-videos/chair-20-sd-bar.mp4")
	if err != nil {
		t.Fatal(err)
	}
	clipFile := filepath.Join(pics, "clip.mp4")
	os.WriteFile(clipFile, clip, 0o644)
	contents = append(contents, clip)
	broken := filepath.Join(pics, "broken.mp4")
	os.WriteFile(broken, []byte("\x00\x00\x00\x18ftypmp42 not really a video"), 0o644)
	// An iPhone photo as a desktop browser hands it: HEIC bytes, no JPEG.
	heic := filepath.Join(pics, "IMG_0001.HEIC")
	os.WriteFile(heic, []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic not really a photo"), 0o644)

	// The server, behind a recorder of every request and its body.
	cfg := server.Config{Listen: "127.0.0.1:0", Data: t.TempDir()}
	st, err := server.OpenStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := auth.Create(ctx, st, auth.Admin, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	defer func() { stop(); <-done }()
	var mu sync.Mutex
	var reqs []recorded
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, recorded{r.Method, r.URL.Path, body})
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		srv.Handler().ServeHTTP(w, r)
	}))
	defer ts.Close()

	// Not t.TempDir: Chromium's helpers may still be writing to the profile
	// for a moment after the browser exits, which would fail the test.
	profile, err := os.MkdirTemp("", "safeguard-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun, chromedp.Flag("disable-sync", true), chromedp.UserDataDir(profile),
		chromedp.WindowSize(360, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	bctx, cancelT := context.WithTimeout(bctx, 90*time.Second)
	defer cancelT()

	// Every request the page makes, to anywhere, as the browser sees it.
	var seen, console []string
	chromedp.ListenTarget(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			seen = append(seen, e.Request.Method+" "+e.Request.URL)
		case *cdpruntime.EventConsoleAPICalled:
			for _, a := range e.Args {
				console = append(console, string(a.Value))
			}
		case *cdpruntime.EventExceptionThrown:
			console = append(console, e.ExceptionDetails.Error())
		}
	})

	var timings []string
	var payload, code, pin string
	step := func(name string, actions ...chromedp.Action) {
		t.Helper()
		start := time.Now()
		defer func() { t.Logf("%s: %s", name, time.Since(start).Round(time.Millisecond)) }()
		if err := chromedp.Run(bctx, actions...); err != nil {
			var sending string
			chromedp.Run(bctx, chromedp.Text(`body`, &sending, chromedp.ByQuery))
			t.Logf("page: %s", sending)
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("%s: %v\nconsole: %s", name, err, strings.Join(console, "\n"))
		}
	}
	step("loading /remove", network.Enable(), chromedp.EmulateViewport(360, 800), chromedp.Navigate(ts.URL+"/remove"),
		chromedp.Poll(`document.getElementById("loading").textContent === "Ready."`, nil, chromedp.WithPollingTimeout(30*time.Second)))
	// Keyboard and labels: the first Tab reaches the photo picker, every
	// control has a label, and nothing is wider than the phone.
	var focused string
	var unlabelled, overflow int
	step("keyboard", chromedp.KeyEvent("\t"),
		chromedp.Evaluate(`document.activeElement.id`, &focused),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("input")).filter(i => i.labels.length === 0).length`, &unlabelled),
		chromedp.Evaluate(`document.documentElement.scrollWidth - window.innerWidth`, &overflow))
	if focused != "files" || unlabelled != 0 || overflow > 0 {
		t.Errorf("first Tab focuses %q (want files); %d inputs without a label; %d px wider than the screen", focused, unlabelled, overflow)
	}
	step("picking the photos and videos", chromedp.SetUploadFiles(`#files`, append(append([]string(nil), files...), clipFile, broken, heic), chromedp.ByID),
		chromedp.Poll(`document.querySelectorAll("#picked li span.ok, #picked li span.bad").length === 6`, nil, chromedp.WithPollingTimeout(60*time.Second)),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#picked li")).map(li => (li.dataset.ms || "-") + " ms: " + li.textContent)`, &timings),
		chromedp.Evaluate(`document.getElementById("payload").textContent`, &payload))
	for i, tm := range timings {
		t.Logf("picked %d: %s", i+1, tm)
	}
	var sentPNG []byte
	var pinInView bool
	var helplines string
	step("sending", chromedp.Click(`#send`, chromedp.ByID), chromedp.WaitVisible(`#done`, chromedp.ByID),
		chromedp.Text(`#code`, &code, chromedp.ByID), chromedp.Text(`#pin`, &pin, chromedp.ByID),
		chromedp.Sleep(300*time.Millisecond),
		// On the phone-width page the code, PIN and copy button are
		// brought into view after sending.
		chromedp.Evaluate(`(() => { const r = document.getElementById("copy").getBoundingClientRect();
			const p = document.getElementById("pin").getBoundingClientRect();
			return p.top >= 0 && r.bottom <= window.innerHeight; })()`, &pinInView),
		chromedp.Text(`#helplines`, &helplines, chromedp.ByID),
		chromedp.FullScreenshot(&sentPNG, 100))
	if !pinInView {
		t.Errorf("after sending, the PIN and the copy button are not in view")
	}
	if !strings.Contains(helplines, "0800 1111") && !strings.Contains(helplines, "1-800-843-5678") || strings.Contains(helplines, "988") {
		t.Errorf("helplines shown: %q, want the UK's or the US's defaults and never 988", helplines)
	}
	if !strings.Contains(timings[3], "Video ready to send (21 frames)") {
		t.Errorf("the video: %q, want it hashed at one frame a second, 21 frames", timings[3])
	}
	if !strings.Contains(timings[4], "can't play this video") {
		t.Errorf("the unplayable video: %q, want the page to say this browser can't play it", timings[4])
	}
	if !strings.Contains(timings[5], "HEIC") || !strings.Contains(timings[5], "JPEG") {
		t.Errorf("the HEIC photo: %q, want the page to say what to do (JPEG)", timings[5])
	}

	// What was sent is what the page showed, and the hashes are the CLI's.
	var sent struct {
		Images []struct {
			PDQ     string `json:"pdq"`
			Quality int    `json:"quality"`
			MD5     string `json:"md5"`
			SHA256  string `json:"sha256"`
		} `json:"images"`
		Videos []struct {
			VPDQ   []string `json:"vpdq"`
			MD5    string   `json:"md5"`
			SHA256 string   `json:"sha256"`
		} `json:"videos"`
	}
	mu.Lock()
	var posted []byte
	for _, r := range reqs {
		if r.method == "POST" && r.path == "/v1/self-reports" {
			posted = r.body
		}
	}
	mu.Unlock()
	if err := json.Unmarshal(posted, &sent); err != nil {
		t.Fatalf("the submission %q: %v", posted, err)
	}
	var shown any
	if json.Unmarshal([]byte(payload), &shown) != nil {
		t.Errorf("the page's 'exactly what will be sent' is not the JSON sent: %q", payload)
	}
	out, err := exec.Command(cli, "hash", "--format", "json", files[0], files[1], files[2]).Output()
	if err != nil {
		t.Fatalf("safeguard hash: %v", err)
	}
	want := map[string]string{} // sha256 -> "pdq quality md5"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var h struct {
			PDQ, MD5, SHA256 string
			Quality          int
		}
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatal(err)
		}
		want[h.SHA256] = fmt.Sprint(h.PDQ, " ", h.Quality, " ", h.MD5)
	}
	if len(sent.Images) != 3 || len(sent.Videos) != 1 {
		t.Fatalf("sent %d images' and %d videos' hashes, want 3 and 1 (the unplayable video is not sent)", len(sent.Images), len(sent.Videos))
	}
	if v := sent.Videos[0]; v.MD5 != fmt.Sprintf("%x", md5.Sum(clip)) || v.SHA256 != fmt.Sprintf("%x", sha256.Sum256(clip)) || len(v.VPDQ) != 21 {
		t.Errorf("sent for the video md5 %s, sha256 %s, %d frames; want the file's digests and 21 frames", v.MD5, v.SHA256, len(v.VPDQ))
	} else {
		t.Logf("video frames sent: %s … %s", v.VPDQ[0], v.VPDQ[20])
	}
	for _, im := range sent.Images {
		if got := fmt.Sprint(im.PDQ, " ", im.Quality, " ", im.MD5); got != want[im.SHA256] {
			t.Errorf("sent %s for sha256 %s; safeguard hash says %q", got, im.SHA256, want[im.SHA256])
		}
	}

	// A re-encoded copy of the small photo is blocked by the bank. (The
	// scans go to the server directly, not through the recorder, which
	// holds only what the page sent.)
	img, err := jpeg.Decode(bytes.NewReader(contents[1]))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	jpeg.Encode(&again, img, &jpeg.Options{Quality: 60})
	type scanAnswer struct {
		Blocked    bool `json:"blocked"`
		Restricted bool `json:"restricted"`
		Matches    []struct {
			Bank     string `json:"bank"`
			Signal   string `json:"signal"`
			Distance int    `json:"distance"`
		} `json:"matches"`
	}
	scan := func(contentID, contentType string, body []byte) scanAnswer {
		req := httptest.NewRequest("POST", "/v1/scan?content_id="+contentID, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		var a scanAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || rec.Code != 200 {
			t.Fatalf("scan of %s: %d %s", contentID, rec.Code, rec.Body)
		}
		return a
	}
	scanCopy := func() scanAnswer { return scan("upload-1", "image/jpeg", again.Bytes()) }
	// Restricted (hidden pending a person's review), not blocked: anyone
	// can send a hash (issue 12).
	if a := scanCopy(); a.Blocked || !a.Restricted || len(a.Matches) == 0 || a.Matches[0].Bank != "self-reported" || a.Matches[0].Signal != "pdq" {
		t.Errorf("scan of a re-encoded copy: %+v, want restricted by a PDQ match in self-reported", a)
	} else {
		t.Logf("re-encoded copy: restricted, PDQ distance %d", a.Matches[0].Distance)
	}
	// An upload of a re-encoded copy of the video (another file, so no MD5
	// match: the browser's frame hashes must do it) is restricted by a
	// vPDQ match, hashed by the server's ffmpeg.
	haveFFmpeg := video.Available() == nil
	var reencoded []byte
	if haveFFmpeg {
		out := filepath.Join(pics, "reencoded.mp4")
		if b, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-i", clipFile, "-c:v", "libx264", "-crf", "30", "-an", out).CombinedOutput(); err != nil {
			t.Fatalf("re-encoding the video: %v %s", err, b)
		}
		reencoded, _ = os.ReadFile(out)
	}
	scanVideo := func() scanAnswer { return scan("upload-2", "video/mp4", reencoded) }
	if !haveFFmpeg {
		t.Logf("no ffmpeg (%v): not scanning the video", video.Available())
	} else if a := scanVideo(); a.Blocked || !a.Restricted || len(a.Matches) != 1 || a.Matches[0].Bank != "self-reported" || a.Matches[0].Signal != "vpdq" {
		t.Errorf("scan of a re-encoded copy of the video: %+v, want restricted by a vPDQ match in self-reported", a)
	}

	// The status page shows the case.
	var state string
	var shotPNG []byte
	step("checking the case",
		chromedp.Navigate(ts.URL+"/remove/status"),
		chromedp.SendKeys(`#code`, strings.ToLower(code), chromedp.ByID),
		chromedp.SendKeys(`#pin`, pin, chromedp.ByID),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`#case`, chromedp.ByID),
		chromedp.Text(`#state`, &state, chromedp.ByID),
		chromedp.FullScreenshot(&shotPNG, 100),
	)
	if !strings.Contains(state, code) || !strings.Contains(state, "active") || !strings.Contains(state, "3 photos and 1 video") {
		t.Errorf("status page says %q, want case %s active with 3 photos and 1 video", state, code)
	}
	// Withdrawing on the status page (confirming its dialog) stops the
	// copy being blocked.
	chromedp.ListenTarget(bctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go chromedp.Run(bctx, page.HandleJavaScriptDialog(true))
		}
	})
	step("withdrawing", chromedp.Click(`#withdraw`, chromedp.ByID),
		chromedp.Poll(`document.getElementById("case").dataset.state === "withdrawn"`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Text(`#state`, &state, chromedp.ByID))
	if !strings.Contains(state, "taken back") {
		t.Errorf("after withdrawing the page says %q", state)
	}
	if a := scanCopy(); a.Blocked || a.Restricted || len(a.Matches) != 0 {
		t.Errorf("scan after withdrawal: %+v, want no match", a)
	}
	if haveFFmpeg {
		if a := scanVideo(); a.Restricted || len(a.Matches) != 0 {
			t.Errorf("video scan after withdrawal: %+v, want no match", a)
		}
	}

	// With the server gone, the page still opens and its hasher still
	// loads, from the service worker's cache. (Chromium's network
	// emulation does not reach service workers, so the server really goes.)
	var swReady bool
	step("going offline", chromedp.Navigate(ts.URL+"/remove"),
		chromedp.Evaluate(`navigator.serviceWorker.ready.then(() => true)`, &swReady, func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams {
			return p.WithAwaitPromise(true)
		}),
		chromedp.ActionFunc(func(context.Context) error {
			ts.CloseClientConnections()
			ts.Close()
			return nil
		}),
		chromedp.Navigate(ts.URL+"/remove"),
		chromedp.Poll(`document.getElementById("loading").textContent === "Ready."`, nil, chromedp.WithPollingTimeout(20*time.Second)))
	if _, err := http.Get(ts.URL + "/remove"); err == nil {
		t.Errorf("the server still answers: the offline check proves nothing")
	}

	// Nothing the page sent carries image bytes, raw or in base64, and
	// nothing went anywhere but this server.
	mu.Lock()
	for _, r := range reqs {
		for i, c := range contents {
			for _, at := range []int{0, len(c) / 2, len(c) - 64} {
				chunk := c[at : at+64]
				if bytes.Contains(r.body, chunk) || bytes.Contains(r.body, []byte(base64.StdEncoding.EncodeToString(chunk)[8:72])) {
					t.Errorf("%s %s carries bytes of file %d", r.method, r.path, i+1)
				}
			}
		}
		if len(r.body) > 4096 {
			t.Errorf("%s %s: a %d-byte body, more than hashes need", r.method, r.path, len(r.body))
		}
	}
	for _, s := range seen {
		// blob: URLs are the thumbnails, read from the page's own memory.
		if _, url, _ := strings.Cut(s, " "); !strings.HasPrefix(url, ts.URL+"/") && !strings.HasPrefix(url, "blob:"+ts.URL+"/") {
			t.Errorf("the page requested %s, which is not this server", s)
		}
	}
	mu.Unlock()

	dir := filepath.Join(os.TempDir(), "safeguard-remove-test")
	os.MkdirAll(dir, 0o755)
	for name, b := range map[string][]byte{"remove-360px.png": sentPNG, "status-360px.png": shotPNG} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots: %s/{remove,status}-360px.png", dir)
}
