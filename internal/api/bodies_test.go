package api

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
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
	release, err := a.admitBody(r.WithContext(context.Background()), a.cfg.MaxBody)
	if err != nil {
		t.Fatalf("once the budget is free: %v", err)
	}
	release()
}
