package readme

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// step is one documented command and the text its answer must contain.
type step struct{ command, answer string }

// walkThrough returns the curl commands of the README's "The first start"
// section, each with the "# answers:" line that follows it.
func walkThrough(t *testing.T, readme string) []step {
	_, section, ok := strings.Cut(readme, "\n## The first start\n")
	if !ok {
		t.Fatal(`README.md has no "## The first start" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var steps []step
	lines := strings.Split(section, "\n")
	for i, line := range lines {
		cmd, ok := strings.CutPrefix(line, "    curl ")
		if !ok {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "    # answers: ") {
			t.Fatalf("README.md: %q is not followed by its \"# answers:\" line", line)
		}
		steps = append(steps, step{"curl " + cmd, strings.TrimPrefix(lines[i+1], "    # answers: ")})
	}
	return steps
}

func TestFreshClone(t *testing.T) {
	// A whole build in a new directory: seconds once the build cache holds
	// the packages (go test ./... compiles them too), longer on a cold one.
	// It is part of the README's test command; -short skips it.
	if testing.Short() {
		t.Skip("-short: skipping the fresh-clone build and README walk-through")
	}
	for _, tool := range []string{"git", "curl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s on PATH: skipping the fresh-clone test", tool)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): skipping the fresh-clone test", err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(string(readme), "# Safeguard\n\n"), "\n")
	if !strings.HasPrefix(strings.TrimSpace(first), "go run ./cmd/safeguard serve") {
		t.Fatalf("README.md's first command is %q, not go run ./cmd/safeguard serve", first)
	}
	steps := walkThrough(t, string(readme))
	if len(steps) < 4 {
		t.Fatalf("README.md's walk-through has %d curl commands, want at least 4", len(steps))
	}

	// The clone: the tracked files (and new ones not ignored) alone, in a directory with nothing
	// beside it (no ../shared).
	clone := filepath.Join(t.TempDir(), "safeguard")
	for _, name := range strings.Split(strings.TrimSuffix(string(files), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		} else if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(clone, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(t.TempDir(), "safeguard")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/safeguard") // -trimpath: the clone's random directory does not defeat the build cache
	build.Dir = clone
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in a fresh clone: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	serve := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"))
	serve.Dir = clone
	serve.Env = append(os.Environ(), "SAFEGUARD_CONFIG=", "SAFEGUARD_DATA=", "SAFEGUARD_DATABASE_URL=")
	var logs bytes.Buffer
	serve.Stderr = &logs
	out, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
	}()
	var key, addr string
	sc := bufio.NewScanner(out)
	serving := regexp.MustCompile(`serving http://([^/ ]+)/v1`)
	for (key == "" || addr == "") && sc.Scan() {
		line := sc.Text()
		if k, ok := strings.CutPrefix(line, "safeguard: KEY="); ok {
			key = k
		}
		if m := serving.FindStringSubmatch(line); m != nil {
			addr = m[1]
		}
	}
	if key == "" || addr == "" {
		t.Fatalf("serve printed no key or address (key %t, address %q); its log:\n%s", key != "", addr, logs.String())
	}
	go io.Copy(io.Discard, out)
	base := "http://" + addr

	// /remove's hasher, as a browser fetches it (gzip) and as one that
	// takes no compression does; the landing page; the public API document.
	for _, gz := range []bool{true, false} {
		req, _ := http.NewRequest("GET", base+"/remove/hasher.wasm", nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		body := get(t, req)
		if gz {
			r, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("hasher.wasm, gzip: %v", err)
			}
			body, _ = io.ReadAll(r)
		}
		if !bytes.HasPrefix(body, []byte("\x00asm")) {
			t.Errorf("hasher.wasm (gzip %t): %d bytes starting %.8q, not WebAssembly", gz, len(body), body)
		}
	}
	for path, want := range map[string]string{
		"/":                 `href="/remove"`,
		"/remove":           "photo",
		"/v1/openapi.json":  `"openapi"`,
		"/remove/status":    "code",
		"/remove/hasher.js": "hasher.wasm",
	} {
		req, _ := http.NewRequest("GET", base+path, nil)
		if body := get(t, req); !strings.Contains(string(body), want) {
			t.Errorf("GET %s without a key: %.200q, want %q in it", path, body, want)
		}
	}

	// The README's commands, against this server, with the key it printed.
	for _, s := range steps {
		cmd := exec.CommandContext(ctx, "sh", "-c", strings.ReplaceAll(s.command, "http://127.0.0.1:8080", base))
		cmd.Dir = clone
		cmd.Env = append(os.Environ(), "KEY="+key)
		got, err := cmd.Output()
		if err != nil {
			t.Errorf("README command %s: %v", s.command, err)
			continue
		}
		if !strings.Contains(string(got), s.answer) {
			t.Errorf("README command %s\nanswered %s\nREADME says it answers %s", s.command, got, s.answer)
		}
	}
}

func get(t *testing.T, req *http.Request) []byte {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %d %v", req.URL.Path, resp.StatusCode, err)
	}
	return body
}
