package hma_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/hma"
)

// FuzzRequest sends arbitrary requests — method, path, query, content type
// and body — through the handler over a real store and matcher, as the
// admin, and checks that no input is answered 5xx, every answer but the
// health checks' is JSON, and nothing panics.
func FuzzRequest(f *testing.F) {
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("photo", "blob")
	fw.Write(checkerboard(f, 8))
	mw.WriteField("content_id", "x")
	mw.Close()
	methods := []string{"GET", "POST", "PUT", "DELETE"}
	seeds := []struct {
		method      uint8
		path, query string
		ctype       string
		body        []byte
	}{
		{1, "/c/banks", "", "application/json", []byte(`{"name":"FUZZ_BANK","enabled_ratio":"1"}`)},
		{2, "/c/bank/FUZZ_BANK", "", "application/json", []byte(`{"name":"FUZZ_2","enabled":"false"}`)},
		{1, "/c/bank/FUZZ_BANK/signal", "", "application/json", []byte(`{"pdq":"` + pdqExamples[0] + `","video_md5":"` + md5Examples[0] + `","note":"n"}`)},
		{1, "/c/bank/FUZZ_BANK/content", "content_id=1", mw.FormDataContentType(), form.Bytes()},
		{0, "/c/bank/FUZZ_BANK/content/1", "include_signals=true", "", nil},
		{2, "/c/bank/FUZZ_BANK/content/1", "", "application/json", []byte(`{"disable_until_ts":"1","note":null}`)},
		{3, "/c/bank/FUZZ_BANK/content/1", "", "", nil},
		{0, "/m/lookup", "signal_type=pdq&signal=" + pdqExamples[1] + "&seed=a&banks=FUZZ_BANK,X", "", nil},
		{0, "/m/raw_lookup", "signal_type=video_md5&signal=" + md5Examples[0] + "&include_distance=1", "", nil},
		{1, "/m/lookup", "types=pdq", mw.FormDataContentType(), form.Bytes()},
		{1, "/m/compare", "", "application/json", []byte(`{"pdq":["` + pdqExamples[0] + `","` + pdqExamples[1] + `"]}`)},
		{1, "/h/hash", "", "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a\"\r\n\r\n\xff\xd8\r\n--x--")},
		{0, "/h/hash", "url=http://127.0.0.1:1/x", "", nil},
		{0, "/c/signal_type/index", "signal_type=pdq", "", nil},
		{0, "/c/exchange/X/status", "", "", nil},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.ctype, s.body)
	}
	e := newEnv(f, func(c *hma.Config, _ *env) {
		c.MaxContent, c.Anonymous = 1<<20, auth.Admin
		c.Client = &http.Client{Timeout: time.Second}
	})
	f.Fuzz(func(t *testing.T, method uint8, path, query, ctype string, body []byte) {
		u, err := url.Parse("http://hma.test" + path)
		if err != nil || !strings.HasPrefix(path, "/") {
			return
		}
		u.RawQuery = query
		r := httptest.NewRequest(methods[int(method)%len(methods)], "/", bytes.NewReader(body))
		r.URL, r.RequestURI = u, ""
		r.Host = "hma.test"
		r.RemoteAddr = "127.0.0.1:1234"
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", r.Method, path, query, w.Code, w.Body)
		}
		// The mux itself answers unclean paths with a redirect and a wrong
		// method with 405, in plain text; everything else is HMA's JSON.
		plain := strings.HasPrefix(u.Path, "/status") || w.Code/100 == 3 || w.Code == http.StatusMethodNotAllowed
		if !plain && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%s %s: answer is not JSON: %d %q", r.Method, path, w.Code, w.Body)
		}
		io.Copy(io.Discard, w.Body)
	})
}
