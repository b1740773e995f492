package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/media"
)

// readCounter counts the bytes read from it.
type readCounter struct {
	r    io.Reader
	read atomic.Int64
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// Issue 12, finding 1: a body is admitted against the body budget before a
// byte of it is read; while the budget is taken, an upload waits unread.
func TestBodyAdmittedBeforeRead(t *testing.T) {
	budget := media.NewBudget(1 << 20)
	a := &API{cfg: Config{BodyBudget: budget, MaxBody: 900 << 10}}
	held, err := budget.Acquire(context.Background(), "others", 600<<10)
	if err != nil {
		t.Fatal(err)
	}
	body := &readCounter{r: strings.NewReader(strings.Repeat("x", 500<<10))}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := httptest.NewRequest("POST", "/v1/scan", body).WithContext(ctx)
	r.Header.Set("Content-Type", "image/jpeg")
	r.ContentLength = 500 << 10
	err = a.scan(httptest.NewRecorder(), r, auth.Key{})
	if !errors.Is(err, context.DeadlineExceeded) || body.read.Load() != 0 {
		t.Errorf("scan while the body budget is taken: %v after reading %d bytes, want it waiting unread until its deadline", err, body.read.Load())
	}
	held()
	release, err := a.admitBody(r.WithContext(context.Background()), auth.Key{}, a.cfg.MaxBody)
	if err != nil {
		t.Fatalf("once the budget is free: %v", err)
	}
	release()
}

// readContent gives every byte of a body up to its limit, whatever the
// reads' sizes and however the buffer it reads into grows, refuses one
// byte more, and a recycled buffer's old bytes never show through.
func TestReadContentPooled(t *testing.T) {
	body := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + n)
		}
		return b
	}
	for _, limit := range []int{1, 511, 512, firstBody, firstBody + 1, 3*firstBody + 5, pooledBody + 100} {
		for _, n := range []int{0, 1, limit - 1, limit, limit + 1} {
			if n < 0 {
				continue
			}
			for _, oneByte := range []bool{false, true} {
				want := body(n)
				var r io.Reader = bytes.NewReader(want)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				got, err := readContent(r, int64(limit))
				if n > limit {
					var e *Error
					if !errors.As(err, &e) || e.Code != CodeTooLarge {
						t.Errorf("limit %d, %d bytes: err %v, want %s", limit, n, err, CodeTooLarge)
					}
					continue
				}
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("limit %d, %d bytes (one at a time %v): %d bytes, err %v", limit, n, oneByte, len(got), err)
				}
				recycleBody(got)
			}
		}
	}
	if _, err := readContent(iotest.ErrReader(io.ErrUnexpectedEOF), 10); err == nil {
		t.Error("a body cut short: no error")
	}
}

// A key has at most half the body budget: its next upload past that is
// refused 429 naming the key, and another key's is admitted. Twelve slow
// chunked scans by one key once held the whole 256 MB budget for the
// server's 5-minute read timeout, and every scan by every key waited.
func TestBodyBudgetShareOfAKey(t *testing.T) {
	budget := media.NewBudget(1 << 20)
	a := &API{cfg: Config{BodyBudget: budget, MaxBody: 900 << 10}}
	slow := auth.Key{ID: "slowkey"}
	r := httptest.NewRequest("POST", "/v1/scan", nil)
	r.ContentLength = 500 << 10
	held, err := a.admitBody(r, slow, a.cfg.MaxBody)
	if err != nil {
		t.Fatal(err)
	}
	defer held()
	_, err = a.admitBody(r, slow, a.cfg.MaxBody)
	e := toError(err)
	if e == nil || e.Status != http.StatusTooManyRequests || !strings.Contains(e.Message, "key slowkey") || e.RetryAfter == 0 || !e.Close {
		t.Fatalf("the key's second upload past half the budget: %+v, want a 429 naming the key, with Retry-After, closing the connection (its body unread)", e)
	}
	release, err := a.admitBody(r, auth.Key{ID: "other"}, a.cfg.MaxBody)
	if err != nil {
		t.Fatalf("another key's upload: %v", err)
	}
	release()
}
