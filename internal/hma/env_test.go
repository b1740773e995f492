package hma_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/hma"
	"github.com/safeguard-oss/safeguard/internal/hma/safeguard"
	"github.com/safeguard-oss/safeguard/internal/hma/safeguard/safeguardtest"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
)

// env is one HMA listener over a fresh SQLite store and the real matcher,
// plus a loopback server of test images (HMA's tests serve the same two
// checkerboards from a local server).
type env struct {
	t       testing.TB
	url     string
	images  string
	keys    map[auth.Role]string
	st      *sqlite.Store
	matcher *match.Matcher
	backend *safeguard.Backend
	// pdq is IMAGE_URL_TO_PDQ of HMA's tests: each image's PDQ, as
	// Safeguard's hasher computes it from the bytes served.
	pdq     map[string]string
	files   map[string][]byte
	handler http.Handler
}

// checkerboard is HMA's test image: 128x128, black and white cells.
func checkerboard(t testing.TB, cell int) []byte {
	img := image.NewGray(image.Rect(0, 0, 128, 128))
	for x := range 128 {
		for y := range 128 {
			if (x/cell+y/cell)%2 == 1 {
				img.SetGray(x, y, color.Gray{255})
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type option func(*hma.Config, *env)

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, keys: map[auth.Role]string{}, pdq: map[string]string{}, files: map[string][]byte{}}
	e.backend, e.st, e.matcher = safeguardtest.Open(t)
	var err error
	for _, r := range auth.Roles() {
		if e.keys[r], _, err = auth.Create(ctx, e.st, r, "test "+string(r), "test"); err != nil {
			t.Fatal(err)
		}
	}
	h := &hasher.Hasher{}

	e.files["image1.jpg"], e.files["image2.jpg"] = checkerboard(t, 8), checkerboard(t, 16)
	e.files["video.mp4"] = []byte("not really a video, but MD5 does not mind")
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		switch name {
		case "redirect-in": // to an allowed host
			http.Redirect(w, r, "/image1.jpg", http.StatusFound)
			return
		case "redirect-out": // to the same server by a name not on the allow-list
			http.Redirect(w, r, "http://localhost:"+r.URL.Port()+"/image1.jpg", http.StatusFound)
			return
		case "stream": // no Content-Length: the bound applies while reading
			w.Header().Set("Content-Type", "image/jpeg")
			for range 64 {
				w.Write(make([]byte, 1024))
				w.(http.Flusher).Flush()
			}
			return
		}
		b, ok := e.files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		ct := "image/jpeg"
		if strings.HasSuffix(name, ".mp4") {
			ct = "video/mp4"
		}
		w.Header().Set("Content-Type", ct)
		w.Write(b)
	}))
	t.Cleanup(img.Close)
	e.images = img.URL
	for _, name := range []string{"image1.jpg", "image2.jpg"} {
		s, err := h.Hash(name, e.files[name])
		if err != nil {
			t.Fatal(err)
		}
		e.pdq[img.URL+"/"+name] = s.PDQ.String()
	}

	cfg := hma.Config{
		Backend:      e.backend,
		Authenticate: func(ctx context.Context, k string) (auth.Key, error) { return auth.Authenticate(ctx, e.st, k) },
		FetchAllow:   []string{"127.0.0.1"},
	}
	for _, o := range opts {
		o(&cfg, e)
	}
	if e.handler, err = hma.New(cfg); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// reply is an answer: its status, its body, and the body decoded as JSON
// (nil if it is not JSON).
type reply struct {
	status int
	body   []byte
	json   any
}

// req is a request; key "" sends no Authorization header.
type req struct {
	method, path string
	key          string
	ctype        string
	body         io.Reader
}

func (e *env) send(r req) reply {
	e.t.Helper()
	hr, err := http.NewRequest(r.method, e.url+r.path, r.body)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.key != "" {
		hr.Header.Set("Authorization", "Bearer "+r.key)
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	rep := reply{status: resp.StatusCode, body: b}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &rep.json); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %v: %s", r.method, r.path, err, b)
		}
	}
	return rep
}

// call sends a request as the admin, with a JSON body unless body is nil.
func (e *env) call(method, path string, body any) reply {
	e.t.Helper()
	return e.as(auth.Admin, method, path, body)
}

func (e *env) as(role auth.Role, method, path string, body any) reply {
	e.t.Helper()
	r := req{method: method, path: path, key: e.keys[role]}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		r.ctype, r.body = "application/json", bytes.NewReader(b)
	}
	return e.send(r)
}

// upload posts a multipart form with one file in field and the fields
// given, as the role.
func (e *env) upload(role auth.Role, path, field string, data []byte, fields map[string]string) reply {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if field != "" {
		fw, err := mw.CreateFormFile(field, "upload.bin")
		if err != nil {
			e.t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	return e.send(req{method: "POST", path: path, key: e.keys[role], ctype: mw.FormDataContentType(), body: &buf})
}

// want checks an answer's status and, unless body is "", that its JSON
// equals body's.
func (rep reply) want(t testing.TB, status int, body string) {
	t.Helper()
	if rep.status != status {
		t.Fatalf("status %d, want %d: %s", rep.status, status, rep.body)
	}
	if body == "" {
		return
	}
	var w any
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		t.Fatalf("bad expectation %s: %v", body, err)
	}
	if !reflect.DeepEqual(rep.json, w) {
		t.Fatalf("answer %s\nwant   %s", rep.body, body)
	}
}

// obj returns the answer as a JSON object.
func (rep reply) obj(t testing.TB) map[string]any {
	t.Helper()
	m, ok := rep.json.(map[string]any)
	if !ok {
		t.Fatalf("answer is not a JSON object: %s", rep.body)
	}
	return m
}

// createBank is HMA's tests' create_bank helper.
func (e *env) createBank(name string) {
	e.t.Helper()
	e.call("POST", "/c/banks", map[string]any{"name": name}).want(e.t, 201, `{"matching_enabled_ratio": 1, "name": "`+name+`"}`)
}

// addHashToBank is HMA's tests' add_hash_to_bank helper.
func (e *env) addHashToBank(bankName, imageURL string, contentID int) {
	e.t.Helper()
	rep := e.call("POST", "/c/bank/"+bankName+"/content?url="+imageURL+"&content_type=photo", nil)
	want, _ := json.Marshal(map[string]any{"id": contentID, "signals": map[string]string{"pdq": e.pdq[imageURL]}})
	rep.want(e.t, 200, string(want))
}

// id returns the "id" of an answer.
func (rep reply) id(t testing.TB) int64 {
	t.Helper()
	v, ok := rep.obj(t)["id"].(float64)
	if !ok {
		t.Fatalf("no id in %s", rep.body)
	}
	return int64(v)
}
