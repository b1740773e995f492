package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
)

// FuzzRequests sends arbitrary bodies, content types and query strings to
// the routes that read outside input, with a key allowed to call them: no
// answer may be a 5xx, and every error must be the JSON error form.
func FuzzRequests(f *testing.F) {
	ctx := context.Background()
	cfg := server.Config{Listen: "127.0.0.1:0", Data: f.TempDir(), MaxBody: 1 << 20}
	st, err := server.OpenStores(ctx, cfg)
	if err != nil {
		f.Fatal(err)
	}
	key, _, err := auth.Create(ctx, st, auth.Admin, "fuzz", "test")
	if err != nil {
		f.Fatal(err)
	}
	srv, err := server.New(ctx, cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	h := srv.Handler()
	setup := httptest.NewRequest("POST", "/v1/banks", strings.NewReader(`{"name":"known"}`))
	setup.Header.Set("Authorization", "Bearer "+key)
	setup.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), setup)

	routes := []string{"POST /v1/scan", "POST /v1/lookup", "POST /v1/banks", "POST /v1/banks/known/entries",
		"POST /v1/banks/known/import", "POST /v1/rules", "PUT /v1/rules/1", "POST /v1/webhooks", "POST /v1/keys", "POST /v1/events",
		"POST /v1/text", "POST /v1/text/batch"}
	types := []string{"image/jpeg", "application/json", "multipart/form-data; boundary=xyz", "text/plain", "application/octet-stream", "", "application/x-ndjson"}
	f.Add(uint8(0), uint8(0), "content_id=a&surface=post", []byte("\xff\xd8\xff\xe0garbage"))
	f.Add(uint8(1), uint8(1), "", []byte(`{"pdq":"`+strings.Repeat("0f", 32)+`","quality":90,"banks":["known"]}`))
	f.Add(uint8(0), uint8(2), "", []byte("--xyz\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nGIF89a\r\n--xyz--\r\n"))
	f.Add(uint8(3), uint8(1), "", []byte(`{"entries":[{"signal":"md5","value":"d41d8cd98f00b204e9800998ecf8427e"}]}`))
	f.Add(uint8(4), uint8(3), "format=csv", []byte("signal,value\npdq,"+strings.Repeat("a", 64)+"\n"))
	f.Add(uint8(5), uint8(1), "", []byte(`{"name":"r","banks":["known"],"actions":[{"kind":"enqueue","priority":5}]}`))
	f.Add(uint8(8), uint8(1), "", []byte(`{"role":"auditor","name":"n"}`))
	f.Add(uint8(9), uint8(6), "", []byte(`{"type":"account","id":"a","at":"2026-01-01T00:00:00Z","declared_age":9}`+"\n"+`{"type":"post","id":"p","account":"a","content_id":"c","at":"2026-01-01T00:00:00Z"}`))
	f.Add(uint8(9), uint8(1), "", []byte(`{"events":[{"type":"follow","account":"a","target":"b","at":"2026-01-01T00:00:00Z"},7,null]}`))
	f.Add(uint8(10), uint8(1), "", []byte(`{"text":"s3nd p1cs 🥵 dont tell","surface":"dm","conversation_id":"c","author":"a","target_age":13}`))
	f.Add(uint8(11), uint8(1), "", []byte(`{"messages":[{"text":"hi","surface":"comment","child_content":true},{"text":"\u0000","surface":"dm"}]}`))
	f.Fuzz(func(t *testing.T, route, ctype uint8, query string, body []byte) {
		method, path, _ := strings.Cut(routes[int(route)%len(routes)], " ")
		req := httptest.NewRequest(method, path, strings.NewReader(string(body)))
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+key)
		if ct := types[int(ctype)%len(types)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s (%s): %d %s", method, path, query, req.Header.Get("Content-Type"), rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s: %d with body %q", method, path, rec.Code, rec.Body)
			}
		}
		if rec.Code == http.StatusOK && method == "POST" && strings.HasSuffix(path, "/scan") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("scan answer is not JSON: %q", rec.Body)
		}
	})
}
