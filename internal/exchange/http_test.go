package exchange

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// sleeps records the waits HTTP asks for instead of waiting.
type sleeps []time.Duration

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	*s = append(*s, d)
	return ctx.Err()
}

func TestHTTPRetriesHonouringRetryAfter(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	var s sleeps
	h := HTTP{Sleep: s.sleep, Backoff: time.Second}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	body, err := h.Do(context.Background(), req)
	if err != nil || string(body) != "ok" {
		t.Fatalf("Do = %q, %v; want ok", body, err)
	}
	if len(s) != 2 || s[0] != 7*time.Second || s[1] < 2*time.Second || s[1] > 3*time.Second {
		t.Errorf("waits %v: want 7s (Retry-After) then about 2s (the backoff, doubled once)", s)
	}
}

func TestHTTPGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var s sleeps
	h := HTTP{Sleep: s.sleep, Attempts: 3}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	_, err := h.Do(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") || Permanent(err) {
		t.Fatalf("err = %v; want a temporary error after 3 attempts", err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d calls, want 3", calls.Load())
	}
}

func TestHTTPAuthIsPermanent(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "bad password", http.StatusUnauthorized)
	}))
	defer srv.Close()
	h := HTTP{Sleep: new(sleeps).sleep}
	req, _ := http.NewRequest("GET", srv.URL+"/x?access_token=secret", nil)
	_, err := h.Do(context.Background(), req)
	if !errors.Is(err, ErrAuth) || !Permanent(err) {
		t.Fatalf("err = %v; want ErrAuth, permanent", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q shows the query string", err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls, want 1: refused credentials are not retried", calls.Load())
	}
}

func TestHTTPBodyLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 101)))
	}))
	defer srv.Close()
	h := HTTP{MaxBody: 100}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	if _, err := h.Do(context.Background(), req); err == nil || !strings.Contains(err.Error(), "longer than 100 bytes") {
		t.Fatalf("err = %v; want the body limit", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"-1":                            0,
		"10000000000":                   24 * time.Hour,
		"soon":                          0,
		"Tue, 01 Dec 2026 10:00:30 GMT": 30 * time.Second,
		"Tue, 01 Dec 2026 09:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://report.cybertip.org/hashsharing": true,
		"http://127.0.0.1:8080/x":                 true,
		"http://[::1]/x":                          true,
		"http://localhost/x":                      true,
		"http://example.org/x":                    false,
		"ftp://example.org/x":                     false,
		"/relative":                               false,
		"https://user:pw@example.org/":            false,
	} {
		if _, err := CheckURL(raw); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", raw, err, ok)
		}
	}
}
