package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
)

// testServer runs the real server on loopback over a fresh SQLite store,
// with content limited to maxBody bytes, and returns its base URL and a
// key of each role by name.
func testServer(t *testing.T, maxBody int64) (string, map[auth.Role]string) {
	t.Helper()
	ctx := context.Background()
	cfg := server.Config{Listen: "127.0.0.1:0", Data: t.TempDir(), MaxBody: maxBody,
		EvidenceKeys: "test:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}
	st, err := server.OpenStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[auth.Role]string{}
	for _, r := range auth.Roles() {
		if keys[r], _, err = auth.Create(ctx, st, r, "test "+string(r), "test"); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.New(ctx, cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return "http://" + srv.Addr(), keys
}

// countingReader yields n bytes of filler and counts what was read.
type countingReader struct {
	n, read int64
	first   []byte // sent before the filler
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.read >= c.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), c.n-c.read)]
	k := copy(p, c.first[min(int64(len(c.first)), c.read):])
	for i := k; i < len(p); i++ {
		p[i] = 0xAA
	}
	atomic.AddInt64(&c.read, int64(len(p)))
	return len(p), nil
}

// pngHeader is a PNG whose header claims w x h pixels and which holds no
// pixel data: a decompression bomb's calling card.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ihdr)))
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

func smallJPEG(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBadInput sends every kind of bad request the issue lists and checks
// each is answered with its 4xx and a JSON error, and that the server is
// still up afterwards.
func TestBadInput(t *testing.T) {
	const limit = 1 << 20
	base, keys := testServer(t, limit)
	admin, integrator := keys[auth.Admin], keys[auth.Integrator]
	unknown, _, _, _ := auth.Generate(auth.Admin, "never stored")
	jpg := smallJPEG(t)

	// Set up a bank and a revoked key for the cases that need them.
	setup := func(method, path, body string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("setup %s %s: %v %v", method, path, err, resp.Status)
		}
		resp.Body.Close()
	}
	setup("POST", "/v1/banks", `{"name":"known"}`)
	revoked := keys[auth.Flagger]
	id, _ := auth.ParseID(revoked)
	setup("DELETE", "/v1/keys/"+id, "")

	huge := int64(64 << 20)
	tests := []struct {
		name         string
		method, path string
		key          string
		ctype        string
		body         io.Reader
		length       int64 // Content-Length; -1 to send chunked
		status       int
		code         string
	}{
		{"no key", "POST", "/v1/scan", "", "image/jpeg", bytes.NewReader(jpg), 0, 401, "unauthenticated"},
		{"malformed key", "POST", "/v1/scan", "sg_not_a_key", "image/jpeg", bytes.NewReader(jpg), 0, 401, "unauthenticated"},
		{"unknown key", "POST", "/v1/scan", unknown, "image/jpeg", bytes.NewReader(jpg), 0, 401, "unauthenticated"},
		{"revoked key", "POST", "/v1/scan", revoked, "image/jpeg", bytes.NewReader(jpg), 0, 401, "unauthenticated"},
		{"integrator reads banks", "GET", "/v1/banks", integrator, "", nil, 0, 403, "forbidden"},
		{"integrator exports a bank", "GET", "/v1/banks/known/export", integrator, "", nil, 0, 403, "forbidden"},
		{"auditor writes a bank", "POST", "/v1/banks", keys[auth.Auditor], "application/json", strings.NewReader(`{"name":"x"}`), 0, 403, "forbidden"},
		{"reviewer scans", "POST", "/v1/scan", keys[auth.Reviewer], "image/jpeg", bytes.NewReader(jpg), 0, 403, "forbidden"},
		{"le_liaison reads a scan record", "GET", "/v1/scans/scn_00", keys[auth.LELiaison], "", nil, 0, 403, "forbidden"},
		{"scan as text", "POST", "/v1/scan", integrator, "text/plain", bytes.NewReader(jpg), 0, 415, "unsupported_media_type"},
		{"scan without type", "POST", "/v1/scan", integrator, "", bytes.NewReader(jpg), 0, 415, "unsupported_media_type"},
		{"lookup as image", "POST", "/v1/lookup", integrator, "image/jpeg", bytes.NewReader(jpg), 0, 415, "unsupported_media_type"},
		{"rule as form", "POST", "/v1/rules", admin, "application/x-www-form-urlencoded", strings.NewReader("name=x"), 0, 415, "unsupported_media_type"},
		{"empty scan", "POST", "/v1/scan", integrator, "image/jpeg", strings.NewReader(""), 0, 400, "empty_body"},
		{"entry with a misspelt provenance", "POST", "/v1/banks/nosuch/entries?sorce=hotline", admin, "image/jpeg", bytes.NewReader(jpg), 0, 400, "bad_request"},
		{"JSON entries with an image's provenance", "POST", "/v1/banks/known/entries?source=hotline", admin, "application/json", strings.NewReader(`{"entries": [{"signal": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"}]}`), 0, 400, "bad_request"},
		{"a route without query parameters given one", "GET", "/v1/le-queue?state=zzz", keys[auth.LELiaison], "", nil, 0, 400, "bad_request"},
		{"notices given since", "GET", "/v1/notices?since=-1", admin, "", nil, 0, 400, "bad_request"},
		{"a misspelt limit", "GET", "/v1/audit?limt=5", keys[auth.Auditor], "", nil, 0, 400, "bad_request"},
		{"a limit out of range", "GET", "/v1/audit?limit=1001", keys[auth.Auditor], "", nil, 0, 400, "bad_request"},
		{"an unknown state", "GET", "/v1/le-reports?state=zzz", keys[auth.LELiaison], "", nil, 0, 400, "bad_request"},
		{"stats since a negative time", "GET", "/v1/stats?since=-1", keys[auth.Reviewer], "", nil, 0, 400, "bad_request"},
		{"empty lookup", "POST", "/v1/lookup", integrator, "application/json", strings.NewReader(""), 0, 400, "empty_body"},
		{"lookup of nothing", "POST", "/v1/lookup", integrator, "application/json", strings.NewReader(`{}`), 0, 400, "bad_request"},
		{"scan over the limit", "POST", "/v1/scan", integrator, "image/jpeg", &countingReader{n: huge, first: jpg}, huge, 413, "body_too_large"},
		{"scan over the limit, chunked", "POST", "/v1/scan", integrator, "image/jpeg", &countingReader{n: huge, first: jpg}, -1, 413, "body_too_large"},
		{"corrupt image", "POST", "/v1/scan", integrator, "image/jpeg", bytes.NewReader(append(jpg[:200:200], bytes.Repeat([]byte{0x55}, 500)...)), 0, 422, "corrupt_image"},
		{"not an image", "POST", "/v1/scan", integrator, "application/octet-stream", strings.NewReader("%PDF-1.7 hello"), 0, 422, "unsupported_image"},
		{"image bomb", "POST", "/v1/scan", integrator, "image/png", bytes.NewReader(pngHeader(100_000, 100_000)), 0, 422, "image_too_large"},
		{"unknown bank", "GET", "/v1/banks/nope", admin, "", nil, 0, 404, "not_found"},
		{"entries to unknown bank", "POST", "/v1/banks/nope/entries", admin, "application/json",
			strings.NewReader(`{"entries":[{"signal":"md5","value":"d41d8cd98f00b204e9800998ecf8427e"}]}`), 0, 404, "not_found"},
		{"lookup in unknown bank", "POST", "/v1/lookup", integrator, "application/json",
			strings.NewReader(`{"md5":"d41d8cd98f00b204e9800998ecf8427e","banks":["nope"]}`), 0, 404, "not_found"},
		{"malformed pdq", "POST", "/v1/lookup", integrator, "application/json", strings.NewReader(`{"pdq":"xyz"}`), 0, 400, "bad_request"},
		{"malformed md5", "POST", "/v1/lookup", integrator, "application/json", strings.NewReader(`{"md5":"d41d8cd98f00b204e9800998ecf8427"}`), 0, 400, "bad_request"},
		{"malformed hash in path", "DELETE", "/v1/banks/known/entries/pdq/zz", admin, "", nil, 0, 400, "bad_request"},
		{"malformed entry", "POST", "/v1/banks/known/entries", admin, "application/json",
			strings.NewReader(`{"entries":[{"signal":"sha256","value":"00"}]}`), 0, 400, "invalid_entries"},
		{"unknown surface", "POST", "/v1/scan?surface=billboard", integrator, "image/jpeg", bytes.NewReader(jpg), 0, 400, "bad_request"},
		{"malformed rule", "POST", "/v1/rules", admin, "application/json",
			strings.NewReader(`{"name":"x","actions":[{"kind":"nuke"}]}`), 0, 400, "invalid_rule"},
		{"rule with unknown field", "POST", "/v1/rules", admin, "application/json",
			strings.NewReader(`{"name":"x","actions":[{"kind":"block"}],"colour":"red"}`), 0, 400, "invalid_rule"},
		{"rule not JSON", "POST", "/v1/rules", admin, "application/json", strings.NewReader(`{"name":`), 0, 400, "invalid_rule"},
		{"rule on unknown bank", "POST", "/v1/rules", admin, "application/json",
			strings.NewReader(`{"name":"x","banks":["nope"],"actions":[{"kind":"block"}]}`), 0, 400, "invalid_rule"},
		{"rule notifying unknown webhook", "POST", "/v1/rules", admin, "application/json",
			strings.NewReader(`{"name":"x","actions":[{"kind":"notify","webhook":"nope"}]}`), 0, 400, "invalid_rule"},
		{"malformed JSON", "POST", "/v1/banks", admin, "application/json", strings.NewReader(`{"name": "a",}`), 0, 400, "bad_request"},
		{"unknown JSON field", "POST", "/v1/banks", admin, "application/json", strings.NewReader(`{"name":"a","owner":"me"}`), 0, 400, "bad_request"},
		{"bad bank name", "POST", "/v1/banks", admin, "application/json", strings.NewReader(`{"name":"../etc"}`), 0, 400, "bad_request"},
		{"existing bank", "POST", "/v1/banks", admin, "application/json", strings.NewReader(`{"name":"known"}`), 0, 409, "conflict"},
		{"bad rule id", "GET", "/v1/rules/x", admin, "", nil, 0, 400, "bad_request"},
		{"unknown rule", "GET", "/v1/rules/99", admin, "", nil, 0, 404, "not_found"},
		{"unknown scan", "GET", "/v1/scans/scn_00", admin, "", nil, 0, 404, "not_found"},
		{"unknown key id", "DELETE", "/v1/keys/aaaaaaaaaaaaaaaa", admin, "", nil, 0, 404, "not_found"},
		{"bad role", "POST", "/v1/keys", admin, "application/json", strings.NewReader(`{"role":"root","name":"x"}`), 0, 400, "bad_request"},
		{"bad webhook url", "POST", "/v1/webhooks", admin, "application/json", strings.NewReader(`{"name":"w","url":"ftp://x"}`), 0, 400, "bad_request"},
		{"unknown route", "GET", "/v1/nothing", admin, "", nil, 0, 404, "not_found"},
		{"wrong method", "PATCH", "/v1/banks", admin, "", nil, 0, 405, "method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.length != 0 {
				req.ContentLength = max(tc.length, 0)
				if tc.length < 0 {
					req.ContentLength = -1 // chunked
				}
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error struct{ Code, Message string }
			}
			raw, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("%d, body %q is not JSON: %v", resp.StatusCode, raw, err)
			}
			if resp.StatusCode != tc.status || body.Error.Code != tc.code || body.Error.Message == "" {
				t.Errorf("%d %s, want %d %s", resp.StatusCode, raw, tc.status, tc.code)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			// No message repeats itself ("pdq: pdq: hash ...").
			parts := strings.Split(body.Error.Message, ": ")
			for i := 1; i < len(parts); i++ {
				if parts[i] == parts[i-1] {
					t.Errorf("message %q repeats %q", body.Error.Message, parts[i])
				}
			}
			if c, ok := tc.body.(*countingReader); ok {
				// Refused without reading it all: the server stops at the
				// limit, so the client could not send everything.
				if n := atomic.LoadInt64(&c.read); n >= huge {
					t.Errorf("client sent all %d bytes of an over-limit body", n)
				}
			}
			if strings.Contains(string(raw), unknown) || strings.Contains(string(raw), revoked) {
				t.Errorf("answer echoes the key: %s", raw)
			}
		})
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("server not healthy after bad input: %v %v", err, resp)
	}
	resp.Body.Close()
}

// TestScanForms sends the same content as a raw body and as a multipart
// form: both answer alike, with the context each way carries.
func TestScanForms(t *testing.T) {
	base, keys := testServer(t, 1<<20)
	jpg := smallJPEG(t)
	send := func(ctype string, body []byte, query string) map[string]any {
		req, _ := http.NewRequest("POST", base+"/v1/scan"+query, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+keys[auth.Integrator])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("%s: %d %s", ctype, resp.StatusCode, raw)
		}
		return out
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range map[string]string{"content_id": "c-7", "account_id": "a-1", "surface": "comment", "visibility": "private"} {
		mw.WriteField(k, v)
	}
	part, _ := mw.CreateFormFile("content", "upload.jpg")
	part.Write(jpg)
	mw.Close()
	a := send(mw.FormDataContentType(), form.Bytes(), "")
	b := send("application/octet-stream", jpg, "?content_id=c-7&account_id=a-1&surface=comment&visibility=private")
	for _, k := range []string{"content_id", "account_id", "surface", "visibility", "blocked"} {
		if a[k] != b[k] {
			t.Errorf("%s: form %v, raw %v", k, a[k], b[k])
		}
	}
	if a["content_id"] != "c-7" || a["surface"] != "comment" || fmt.Sprint(a["hashes"]) != fmt.Sprint(b["hashes"]) {
		t.Errorf("form answer %v, raw answer %v", a, b)
	}
}

// TestScanQueryParameters: the scan's fields as query parameters count with
// a multipart form too (the README's first scan sends ?content_id= with
// -F content=@..., and its content_id was silently dropped), and a field
// given twice, in both places with two values, or a parameter the scan
// does not take is refused naming it, instead of one of them silently
// winning or a typo (contentid=) silently losing the id.
func TestScanQueryParameters(t *testing.T) {
	base, keys := testServer(t, 1<<20)
	jpg := smallJPEG(t)
	form := func(fields map[string]string) (string, []byte) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		part, _ := mw.CreateFormFile("content", "upload.jpg")
		part.Write(jpg)
		mw.Close()
		return mw.FormDataContentType(), b.Bytes()
	}
	send := func(ctype string, body []byte, query string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/v1/scan"+query, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+keys[auth.Integrator])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if resp.StatusCode != want || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("%s %s: %d %s, want %d", ctype, query, resp.StatusCode, raw, want)
		}
		return out
	}
	ct, body := form(nil)
	if a := send(ct, body, "?content_id=first-scan&surface=comment", 200); a["content_id"] != "first-scan" || a["surface"] != "comment" {
		t.Errorf("form with the fields in the query: %v", a)
	}
	var twice bytes.Buffer
	mw := multipart.NewWriter(&twice)
	mw.WriteField("content_id", "a")
	mw.WriteField("content_id", "b")
	part, _ := mw.CreateFormFile("content", "upload.jpg")
	part.Write(jpg)
	mw.Close()
	if e := send(mw.FormDataContentType(), twice.Bytes(), "", 400); !strings.Contains(fmt.Sprint(e["error"]), "content_id is given twice") {
		t.Errorf("a form field given twice: %v", e)
	}
	ct, body = form(map[string]string{"content_id": "same"})
	if a := send(ct, body, "?content_id=same", 200); a["content_id"] != "same" {
		t.Errorf("form and query agreeing: %v", a)
	}
	for _, c := range []struct {
		fields      map[string]string
		query, want string
	}{
		{map[string]string{"content_id": "form-id"}, "?content_id=query-id", "content_id is given both"},
		{nil, "?content_id=a&content_id=b", "query parameter content_id is given twice"},
		{nil, "?contentid=a", `unknown query parameter "contentid": want account_id, content_id, file_name`},
	} {
		ct, body := form(c.fields)
		for _, raw := range []bool{false, true} {
			if raw {
				if c.fields != nil {
					continue
				}
				ct, body = "image/jpeg", jpg
			}
			e := send(ct, body, c.query, 400)
			if msg := fmt.Sprint(e["error"]); !strings.Contains(msg, c.want) {
				t.Errorf("%s %s: %s, want it to say %q", ct, c.query, msg, c.want)
			}
		}
	}
}

// TestRuleVersions updates a rule twice from the same version: the second
// is refused, and every version is kept.
func TestRuleVersions(t *testing.T) {
	base, keys := testServer(t, 1<<20)
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+keys[auth.Admin])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, want)
		}
		var out map[string]any
		json.Unmarshal(raw, &out)
		return out
	}
	r := call("POST", "/v1/rules", `{"name":"r","actions":[{"kind":"block"}]}`, 201)
	if r["id"] != 1.0 || r["version"] != 1.0 || r["updated_by"] != "test admin" {
		t.Fatalf("created %v", r)
	}
	call("PUT", "/v1/rules/1", `{"version":1,"name":"r","actions":[{"kind":"enqueue","priority":50}]}`, 200)
	call("PUT", "/v1/rules/1", `{"version":1,"name":"r2","actions":[{"kind":"block"}]}`, 409)
	call("PUT", "/v1/rules/1", `{"name":"r","actions":[{"kind":"block"}]}`, 400) // no version
	if r := call("POST", "/v1/rules/1/disable", "", 200); r["version"] != 3.0 || r["enabled"] != false {
		t.Errorf("disabled %v", r)
	}
	h := call("GET", "/v1/rules/1/history", "", 200)
	if vs, _ := h["versions"].([]any); len(vs) != 3 {
		t.Errorf("history %v", h)
	}
	// Reviewers read rules; they do not write them.
	req, _ := http.NewRequest("GET", base+"/v1/rules", nil)
	req.Header.Set("Authorization", "Bearer "+keys[auth.Reviewer])
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("reviewer listing rules: %v %v", err, resp.Status)
	}
}

// TestImportExport imports a hash list twice (the second changes nothing),
// refuses one with a bad line whole, and exports the bank.
func TestImportExport(t *testing.T) {
	base, keys := testServer(t, 1<<20)
	call := func(method, path, ctype, body string, want int) string {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+keys[auth.Admin])
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, want)
		}
		return string(raw)
	}
	call("POST", "/v1/banks", "application/json", `{"name":"hotline"}`, 201)
	pdqA, pdqB := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	list := "# a hotline list\n" + pdqA + ",first seen 2024\n" + pdqB + "\nd41d8cd98f00b204e9800998ecf8427e\n"
	if got := call("POST", "/v1/banks/hotline/import?source=IWF", "text/plain", list, 200); !strings.Contains(got, `"added":3`) {
		t.Errorf("import: %s", got)
	}
	if got := call("POST", "/v1/banks/hotline/import?source=IWF", "text/plain", list, 200); !strings.Contains(got, `"added":0,"existing":3`) {
		t.Errorf("import again: %s", got)
	}
	bad := call("POST", "/v1/banks/hotline/import", "text/plain", strings.Repeat("ef", 32)+"\nnot-a-hash\n", 400)
	if !strings.Contains(bad, "invalid_entries") || !strings.Contains(bad, "2") {
		t.Errorf("bad line: %s", bad)
	}
	if got := call("GET", "/v1/banks/hotline", "", "", 200); !strings.Contains(got, `"entries":3`) {
		t.Errorf("a refused import added entries: %s", got)
	}
	csv := call("GET", "/v1/banks/hotline/export", "", "", 200)
	for _, want := range []string{pdqA, pdqB, "IWF", "first seen 2024"} {
		if !strings.Contains(csv, want) {
			t.Errorf("export lacks %q:\n%s", want, csv)
		}
	}
	if got := call("GET", "/v1/audit", "", "", 200); !strings.Contains(got, `"action":"bank.export"`) {
		t.Errorf("export not in the audit log: %s", got)
	}
}
