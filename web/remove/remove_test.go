package remove

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	assets := fstest.MapFS{
		"hasher.wasm":    {Data: []byte("\x00asm plain")},
		"hasher.wasm.gz": {Data: []byte("gzipped")},
		"wasm_exec.js":   {Data: []byte("// go")},
	}
	h := Handler(assets, DefaultHelplines)
	for _, tc := range []struct {
		method, path, encoding string
		status                 int
		body, contentType      string
	}{
		{"GET", "/remove", "", 200, "Stop a nude or sexual photo", "text/html"},
		{"GET", "/remove/", "", 200, "Stop a nude or sexual photo", "text/html"},
		{"GET", "/remove/status", "", 200, "Check your case", "text/html"},
		{"GET", "/remove/remove.js", "", 200, "/v1/self-reports", "text/javascript"},
		{"GET", "/remove/hasher.js", "", 200, "safeguardHash", "text/javascript"},
		{"GET", "/remove/hasher.wasm", "", 200, "\x00asm plain", "application/wasm"},
		{"GET", "/remove/hasher.wasm", "gzip, br", 200, "gzipped", "application/wasm"},
		{"GET", "/remove/wasm_exec.js", "", 200, "// go", "text/javascript"},
		{"GET", "/remove/helplines.json", "", 200, `"phone":"0800 1111"`, "application/json"},
		{"GET", "/remove/nothing.js", "", 404, "", ""},
		{"GET", "/remove/../remove.go", "", 404, "", ""},
		{"POST", "/remove", "", 405, "", ""},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		if tc.encoding != "" {
			req.Header.Set("Accept-Encoding", tc.encoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		name := tc.method + " " + tc.path + " " + tc.encoding
		if rec.Code != tc.status {
			t.Errorf("%s: %d, want %d", name, rec.Code, tc.status)
			continue
		}
		if tc.status != 200 {
			continue
		}
		if !strings.Contains(rec.Body.String(), tc.body) || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.contentType) {
			t.Errorf("%s: %s %.40q, want %s with %q", name, rec.Header().Get("Content-Type"), rec.Body.String(), tc.contentType, tc.body)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q", name, csp)
		}
	}
}

// TestSelfContained checks that the page and its scripts name no other
// site: no third-party script, font, image or tracker.
func TestSelfContained(t *testing.T) {
	files, err := static.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, _ := static.ReadFile("static/" + f.Name())
		for _, s := range []string{"http://", "https://", "//cdn", "@import", "url("} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s contains %q: the page must load nothing from elsewhere", f.Name(), s)
			}
		}
	}
}

func TestAssets(t *testing.T) {
	dir := t.TempDir()
	if _, missing := Assets(dir); len(missing) != 2 {
		t.Errorf("an empty directory: missing %v, want both files", missing)
	}
}

// TestEmbedded checks that a plain build carries the committed hasher, and
// that a client taking no gzip gets it decompressed: a WebAssembly module.
func TestEmbedded(t *testing.T) {
	assets, missing := Assets("")
	if missing != nil {
		t.Fatalf("the embedded hasher lacks %v: run go generate ./web/remove and commit dist/", missing)
	}
	h := Handler(assets, DefaultHelplines)
	for _, encoding := range []string{"", "gzip"} {
		req := httptest.NewRequest("GET", "/remove/hasher.wasm", nil)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if encoding == "gzip" {
			if rec.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("gzip asked: Content-Encoding %q", rec.Header().Get("Content-Encoding"))
			}
			r, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(r); err != nil {
				t.Fatal(err)
			}
		} else if rec.Header().Get("Content-Encoding") != "" {
			t.Errorf("no gzip asked: Content-Encoding %q", rec.Header().Get("Content-Encoding"))
		}
		if rec.Code != 200 || !bytes.HasPrefix(body, []byte("\x00asm")) || len(body) < 1<<20 {
			t.Errorf("Accept-Encoding %q: %d, %d bytes starting %.8q; want a WebAssembly module", encoding, rec.Code, len(body), body)
		}
	}
	for _, name := range []string{"/remove/hasher.wasm.gz", "/remove/GOVERSION"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", name, nil))
		if rec.Code != 404 {
			t.Errorf("%s: %d, want 404", name, rec.Code)
		}
	}
}

func TestHelplines(t *testing.T) {
	if err := DefaultHelplines.Validate(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(DefaultHelplines)
	for _, want := range []string{"0800 1111", "Childline", "Report Remove", "Take It Down", "1-800-843-5678"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("default helplines lack %q", want)
		}
	}
	if strings.Contains(string(b), "988") {
		t.Errorf("default helplines name 988, a suicide line, not for this")
	}
	if h, err := ParseHelplines([]byte(`{"order":["DE"],"regions":{"DE":[{"name":"Nummer gegen Kummer","what":"Beratung","phone":"116 111"}]}}`)); err != nil || h.Regions["DE"][0].Phone != "116 111" {
		t.Errorf("a deployment's helplines: %+v, %v", h, err)
	}
	for _, bad := range []string{
		`{"regions":{}}`,
		`{"regions":{"uk":[{"name":"a","what":"b","phone":"1"}]}}`,
		`{"regions":{"GB":[{"name":"a","what":"b","url":"http://example.org/"}]}}`,
		`{"regions":{"GB":[{"name":"a","what":"b"}]}}`,
		`{"order":["US"],"regions":{"GB":[{"name":"a","what":"b","phone":"1"}]}}`,
		`{"regions":{"GB":[{"name":"a","what":"b","phone":"1","extra":1}]}}`,
		`not json`,
	} {
		if _, err := ParseHelplines([]byte(bad)); err == nil {
			t.Errorf("ParseHelplines(%s): no error", bad)
		}
	}
}

// TestWording checks the page's promises: "this device", not "your phone"
// (a laptop is not a phone), and no 988.
func TestWording(t *testing.T) {
	b, _ := static.ReadFile("static/index.html")
	js, _ := static.ReadFile("static/remove.js")
	for _, s := range []string{string(b), string(js)} {
		if strings.Contains(s, "your phone") || strings.Contains(s, "988") {
			t.Errorf("the page says \"your phone\" or names 988")
		}
	}
	if !strings.Contains(string(b), "never leaves this device") || !strings.Contains(string(b), "Nobody sees your photo") {
		t.Errorf("the page does not say the photo stays on this device and that nobody sees it")
	}
}
