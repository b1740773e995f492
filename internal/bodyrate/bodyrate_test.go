package bodyrate_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bodyrate"
)

// echo answers how a body's read ended: the byte count, or the *Error.
func echo(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	var slow *bodyrate.Error
	switch {
	case errors.As(err, &slow):
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestTimeout)
		fmt.Fprintf(w, "%d %v %s", slow.Read, slow.Whole, slow)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		fmt.Fprintf(w, "%d", n)
	}
}

// sendSlowly sends a request declaring size bytes, then head, then
// nothing more, and returns the answer and how long it took to come.
func sendSlowly(t *testing.T, addr string, size int, head []byte) (*http.Response, string, time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	begin := time.Now()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", size, head)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), time.Since(begin)
}

func TestSlowBodyCutOff(t *testing.T) {
	rate := bodyrate.Rate{Min: 64 << 10, Grace: 200 * time.Millisecond, Whole: time.Minute}
	srv := httptest.NewServer(rate.Handler(http.HandlerFunc(echo)))
	defer srv.Close()
	resp, body, took := sendSlowly(t, srv.Listener.Addr().String(), 1<<20, []byte("0123456789"))
	want := "10 false request body too slow: 10 bytes arrived in 200ms, under the minimum of 64 KiB/s after the first 200ms"
	if resp.StatusCode != http.StatusRequestTimeout || body != want {
		t.Errorf("a stalled body: %d %q, want 408 %q", resp.StatusCode, body, want)
	}
	if !resp.Close {
		t.Errorf("the connection is kept after a failed read")
	}
	// The grace, not the 1-minute bound nor the 10 s the client waits.
	if took < rate.Grace || took > 5*time.Second {
		t.Errorf("cut off after %v, want about the grace (%v)", took, rate.Grace)
	}
}

func TestWholeBound(t *testing.T) {
	rate := bodyrate.Rate{Grace: time.Minute, Whole: 200 * time.Millisecond}
	srv := httptest.NewServer(rate.Handler(http.HandlerFunc(echo)))
	defer srv.Close()
	resp, body, _ := sendSlowly(t, srv.Listener.Addr().String(), 100, []byte("01234"))
	want := "5 true request body not complete within 200ms: 5 bytes arrived"
	if resp.StatusCode != http.StatusRequestTimeout || body != want {
		t.Errorf("a body past the whole bound: %d %q, want 408 %q", resp.StatusCode, body, want)
	}
}

// A handler that answers without reading the body: net/http reads what it
// can of the rest before answering on a connection it keeps, and that read
// keeps the rate too, not the whole bound.
func TestUnreadBodyKeepsTheRate(t *testing.T) {
	rate := bodyrate.Rate{Min: 64 << 10, Grace: 200 * time.Millisecond, Whole: time.Minute}
	srv := httptest.NewServer(rate.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused unread", http.StatusForbidden)
	})))
	defer srv.Close()
	resp, body, took := sendSlowly(t, srv.Listener.Addr().String(), 100<<10, []byte("0123456789"))
	if resp.StatusCode != http.StatusForbidden || !resp.Close || took > 5*time.Second {
		t.Errorf("a refusal of a stalled body: %d %q (close %v) after %v, want 403, closed, after about the grace", resp.StatusCode, body, resp.Close, took)
	}
}

// paced is a body of left bytes sent at most chunk at a time, with a
// pause before each.
type paced struct {
	left, chunk int
	pause       time.Duration
}

func (p *paced) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(p.pause)
	n := min(len(b), p.chunk, p.left)
	p.left -= n
	clear(b[:n])
	return n, nil
}

// A body that keeps ahead of the rate is read whole although it takes
// many times the grace: the deadline moves as bytes come.
func TestSteadyBodyRead(t *testing.T) {
	rate := bodyrate.Rate{Min: 256 << 10, Grace: 50 * time.Millisecond, Whole: time.Minute}
	srv := httptest.NewServer(rate.Handler(http.HandlerFunc(echo)))
	defer srv.Close()
	// 2 MiB, 32 KiB each 5 ms: about 6 MiB/s for about 320 ms.
	body := &paced{left: 2 << 20, chunk: 32 << 10, pause: 5 * time.Millisecond}
	resp, err := http.Post(srv.URL, "application/octet-stream", body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != fmt.Sprint(2<<20) {
		t.Errorf("a steady 2 MiB body: %d %s, want 200 and all of it", resp.StatusCode, b)
	}
}

// A handler that works long after reading its body keeps its context:
// net/http's read that watches for the client leaving must not inherit a
// rate's deadline.
func TestContextOutlivesTheRate(t *testing.T) {
	rate := bodyrate.Rate{Min: 1 << 20, Grace: 50 * time.Millisecond, Whole: time.Minute}
	srv := httptest.NewServer(rate.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
			http.Error(w, "context ended after the body was read", http.StatusInternalServerError)
		case <-time.After(300 * time.Millisecond):
			fmt.Fprint(w, "ok")
		}
	})))
	defer srv.Close()
	for _, body := range []io.Reader{strings.NewReader("a small body"), nil} {
		resp, err := http.Post(srv.URL, "text/plain", body)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("body %v: %d %s", body != nil, resp.StatusCode, b)
		}
	}
}

// Where deadlines cannot be set (a recorder in tests), bodies read as they
// come.
func TestNoDeadlines(t *testing.T) {
	rate := bodyrate.Rate{Min: 1, Grace: time.Nanosecond, Whole: time.Nanosecond}
	w := httptest.NewRecorder()
	rate.Handler(http.HandlerFunc(echo)).ServeHTTP(w, httptest.NewRequest("POST", "/", bytes.NewReader(make([]byte, 1000))))
	if w.Code != http.StatusOK || w.Body.String() != "1000" {
		t.Errorf("through a recorder: %d %s", w.Code, w.Body)
	}
}
