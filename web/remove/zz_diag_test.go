package remove_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const diagPage = `<!doctype html><meta charset="utf-8"><script>
window.grab = async function (src, t) {
  const v = document.createElement("video");
  v.muted = true; v.preload = "auto";
  await new Promise((ok, bad) => { v.onloadeddata = ok; v.onerror = bad; v.src = src; });
  const presented = new Promise((ok) => { v.requestVideoFrameCallback((now, md) => ok(md)); setTimeout(ok, 500); });
  const seeked = new Promise((ok) => { v.onseeked = ok; });
  v.currentTime = t;
  await seeked; const md = await presented;
  const w = v.videoWidth, h = v.videoHeight;
  const c = document.createElement("canvas"); c.width = w; c.height = h;
  const g = c.getContext("2d", { willReadFrequently: true });
  g.drawImage(v, 0, 0, w, h);
  const px = g.getImageData(0, 0, w, h).data;
  let s = ""; for (let i = 0; i < px.length; i += 8192) s += String.fromCharCode.apply(null, px.subarray(i, i + 8192));
  return JSON.stringify({w, h, md: md ? {mediaTime: md.mediaTime, presentedFrames: md.presentedFrames, width: md.width, height: md.height} : null, b64: btoa(s)});
};
</script>`

func TestDiag(t *testing.T) {
	browser := chromium(t)
	name := os.Getenv("DIAG_VIDEO")
	if name == "" {
		t.Skip()
	}
	dir := os.Getenv("DIAG_DIR")
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(diagPage)) })
	mux.HandleFunc("/clip/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeFile(w, r, filepath.Join(dir, filepath.Base(r.PathValue("name"))))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir())}
	actx, c1 := chromedp.NewExecAllocator(context.Background(), opts...)
	defer c1()
	bctx, c2 := chromedp.NewContext(actx)
	defer c2()
	bctx, c3 := context.WithTimeout(bctx, 120*time.Second)
	defer c3()
	if err := chromedp.Run(bctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	var out string
	if err := chromedp.Run(bctx, chromedp.Evaluate(`grab("/clip/`+name+`", `+os.Getenv("DIAG_T")+`)`, &out, func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
		t.Fatal(err)
	}
	os.WriteFile("/tmp/vdiag/"+name+".json", []byte(out), 0o644)
	_ = base64.StdEncoding
}
