package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bodyrate"
)

// slowBody is a request whose client declares a body and sends only the
// first bytes of it.
type slowBody struct {
	t    *testing.T
	r    *bufio.Reader
	sent time.Time // when the last byte went
}

// sendSlowly sends method path with header, declaring size bytes of body,
// then head and nothing more. With Expect: 100-continue in header it waits
// for the server's 100, sent on the body's first read: the request has
// been admitted to the body budget.
func sendSlowly(t *testing.T, addr, method, path string, header http.Header, size int, head string) *slowBody {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", method, path, addr, size)
	header.Write(&b)
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	s := &slowBody{t: t, r: bufio.NewReader(c)}
	if header.Get("Expect") != "" {
		if resp, err := http.ReadResponse(s.r, nil); err != nil || resp.StatusCode != http.StatusContinue {
			t.Fatalf("%s %s: no 100 Continue: %v %v", method, path, resp, err)
		}
	}
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	s.sent = time.Now()
	return s
}

// answer waits for the answer and returns it, its body, and how long after
// the last byte sent it came.
func (s *slowBody) answer() (*http.Response, string, time.Duration) {
	s.t.Helper()
	resp, err := http.ReadResponse(s.r, nil)
	if err != nil {
		s.t.Fatalf("no answer to a slow body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b), time.Since(s.sent)
}

// noisePNG is a PNG of about 1.9 MB: noise, stored uncompressed.
func noisePNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 800, 800))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// paced sends its bytes chunk at a time with a pause before each.
type paced struct {
	b     []byte
	chunk int
	pause time.Duration
}

func (p *paced) Read(b []byte) (int, error) {
	if len(p.b) == 0 {
		return 0, io.EOF
	}
	time.Sleep(p.pause)
	n := copy(b[:min(len(b), p.chunk)], p.b)
	p.b = p.b[n:]
	return n, nil
}

// TestSlowBody: a scan whose body stalls is cut off 408 after the grace
// (not the 5-minute read timeout), and its key's share of the body budget,
// which refused the key's next upload while the body was held, is free at
// once: an upload of about 2 MB sent at a steady pace for longer than the
// grace is read whole and scanned.
func TestSlowBody(t *testing.T) {
	cfg, st := openSQLite(t)
	// One upload of 128 MiB declared is the key's whole share (half of
	// the 258 MiB body budget): its next upload is refused while it is
	// held.
	cfg.MaxBody = 128 << 20
	rate := bodyrate.Rate{Min: 256 << 10, Grace: 200 * time.Millisecond}
	cfg.BodyRate = rate
	srv, base, admin := startServer(t, cfg, st)
	picture := noisePNG(t)
	scan := func() (int, string) {
		t.Helper()
		body := &paced{b: picture, chunk: 32 << 10, pause: 5 * time.Millisecond} // ~6 MiB/s for ~300 ms
		req, _ := http.NewRequest("POST", base+"/v1/scan?content_id=steady", body)
		req.ContentLength = int64(len(picture))
		req.Header.Set("Content-Type", "image/png")
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	slow := sendSlowly(t, srv.Addr(), "POST", "/v1/scan?content_id=slow", http.Header{
		"Authorization": {"Bearer " + admin}, "Content-Type": {"image/jpeg"}, "Expect": {"100-continue"},
	}, 128<<20, "\xff\xd8\xff\xe0\x00\x10JFIF")
	if status, body := scan(); status != http.StatusTooManyRequests || !strings.Contains(body, "rate_limited") {
		t.Fatalf("an upload while the key's share is held: %d %.300s, want 429 rate_limited", status, body)
	}
	resp, body, took := slow.answer()
	want := `{"error":{"code":"body_too_slow","message":"request body too slow: 10 bytes arrived in 200ms, under the minimum of 256 KiB/s after the first 200ms"}}` + "\n"
	if resp.StatusCode != http.StatusRequestTimeout || body != want {
		t.Errorf("a stalled scan body: %d %s, want 408 %s", resp.StatusCode, body, want)
	}
	if !resp.Close {
		t.Errorf("a stalled body's connection is kept open")
	}
	if took > 5*time.Second {
		t.Errorf("a stalled body was cut off after %v, want about the grace (%v)", took, rate.Grace)
	}
	if status, body := scan(); status != http.StatusOK {
		t.Errorf("a steady 1.9 MB upload after the stalled one: %d %.300s, want 200", status, body)
	}
}

// TestSlowBodyEveryEntryPoint: wherever a body is read (a JSON body and a
// bank import on /v1, the HMA listener, a console form), one that stalls
// is answered 408 in that entry point's words, naming the rate and the
// bytes that came.
func TestSlowBodyEveryEntryPoint(t *testing.T) {
	cfg, st := openSQLite(t)
	cfg.HMAListen = "127.0.0.1:0"
	cfg.BodyRate = bodyrate.Rate{Min: 1 << 20, Grace: 100 * time.Millisecond}
	srv, base, admin := startServer(t, cfg, st)
	client{t, base, admin}.json("POST", "/v1/banks", map[string]any{"name": "imports"}, 201, nil)
	const says = "request body too slow: 10 bytes arrived in 100ms, under the minimum of 1024 KiB/s after the first 100ms"
	bearer := "Bearer " + admin
	for _, c := range []struct {
		name, addr, path string
		header           http.Header
		want             string
	}{
		{"/v1 JSON", srv.Addr(), "/v1/banks", http.Header{"Authorization": {bearer}, "Content-Type": {"application/json"}},
			`{"error":{"code":"body_too_slow","message":"` + says + `"}}`},
		{"/v1 import", srv.Addr(), "/v1/banks/imports/import?format=text", http.Header{"Authorization": {bearer}, "Content-Type": {"text/plain"}},
			`{"error":{"code":"body_too_slow","message":"` + says + `"}}`},
		{"HMA", srv.HMAAddr(), "/c/banks", http.Header{"Authorization": {bearer}, "Content-Type": {"application/json"}},
			`{"message":"` + says + `"}`},
		{"console", srv.Addr(), "/console/signin", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			"The form arrived too slowly (" + says + "); send it again."},
	} {
		resp, body, took := sendSlowly(t, c.addr, "POST", c.path, c.header, 1000, `{"name":"x`).answer()
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(body, c.want) || !resp.Close {
			t.Errorf("%s: %d (close %v) %.400s, want 408 with %s", c.name, resp.StatusCode, resp.Close, body, c.want)
		}
		if took > 5*time.Second {
			t.Errorf("%s: cut off after %v", c.name, took)
		}
	}
	// A form that keeps up is read as before: the sign-in page's CSRF
	// check, not the rate, answers this one.
	form := url.Values{"key": {admin}, "csrf": {"0"}}.Encode()
	resp, err := http.Post(base+"/console/signin", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a prompt sign-in form without its cookie: %d, want 403", resp.StatusCode)
	}
}
