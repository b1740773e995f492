// Package remove serves Report Remove's public page at /remove: a young
// person picks photos of themselves, the page hashes them on their device
// with the server's own hasher compiled to WebAssembly, and sends only the
// hashes to POST /v1/self-reports. /remove/status checks or withdraws a
// case by its code and PIN.
//
// The page, its style and scripts are in static/ and embedded. The
// WebAssembly hasher and Go's wasm_exec.js support file are build outputs,
// never committed: `go generate ./web/remove` builds hasher.wasm from ./wasm
// and copies wasm_exec.js from the Go installation into dist/, which is
// embedded too; a binary built without that step serves the page with a
// note that the hasher is missing. See docs/remove.md.
package remove

//go:generate env GOOS=js GOARCH=wasm go build -trimpath "-ldflags=-s -w" -o dist/hasher.wasm ./wasm
//go:generate sh -c "cp \"$(go env GOROOT)/lib/wasm/wasm_exec.js\" dist/ && gzip -9 -k -f dist/hasher.wasm"

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

//go:embed all:dist
var dist embed.FS

// The page loads nothing from anywhere else, and nothing else may frame
// it or read its address. 'wasm-unsafe-eval' lets it compile the hasher
// (and nothing else: no eval of scripts).
const csp = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob:; " +
	"connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Assets returns the hasher's files to serve: those in dir if it is not
// empty, else the embedded ones; and the names of any missing, so that the
// server can say at start that the page will not work.
func Assets(dir string) (fs.FS, []string) {
	var assets fs.FS
	if dir != "" {
		assets = os.DirFS(dir)
	} else {
		assets, _ = fs.Sub(dist, "dist")
	}
	var missing []string
	for _, name := range []string{"hasher.wasm", "wasm_exec.js"} {
		if _, err := fs.Stat(assets, name); err != nil {
			missing = append(missing, name)
		}
	}
	return assets, missing
}

// Handler serves /remove and everything under it, with the hasher's files
// from assets (see Assets).
func Handler(assets fs.FS) http.Handler {
	pages, _ := fs.Sub(static, "static")
	start := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/remove")
		switch name {
		case "", "/":
			name = "index.html"
		case "/status":
			name = "status.html"
		default:
			name = strings.TrimPrefix(name, "/")
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		// Revalidated every time, so a fixed page reaches people at once;
		// the service worker keeps a copy for offline use.
		h.Set("Cache-Control", "no-cache")
		if name == "sw.js" {
			// Its scope is /remove itself, not only what is under /remove/.
			h.Set("Service-Worker-Allowed", "/remove")
		}
		fsys := pages
		if name == "hasher.wasm" || name == "wasm_exec.js" {
			fsys = assets
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil || strings.HasPrefix(name, ".") {
			http.NotFound(w, r)
			return
		}
		if name == "hasher.wasm" {
			h.Set("Vary", "Accept-Encoding")
			if gz, err := fs.ReadFile(fsys, name+".gz"); err == nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				h.Set("Content-Encoding", "gzip")
				h.Set("Content-Type", "application/wasm")
				b = gz
			}
		}
		http.ServeContent(w, r, name, start, bytes.NewReader(b))
	})
}
