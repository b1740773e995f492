package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
)

// TestLimiter checks the per-key limit: a key of its own limit and one of
// the default are refused past their bursts with the one message every
// entry point answers, and a request marked counted takes no token.
func TestLimiter(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC)
	l := &auth.Limiter{Buckets: &ratelimit.Memory{}, Default: auth.RateLimit{Burst: 3, PerSecond: 0.01}, Now: func() time.Time { return now }}
	own := auth.Key{ID: "own", Limit: &auth.RateLimit{Burst: 5, PerSecond: 0.01}}
	plain := auth.Key{ID: "plain"}
	for _, c := range []struct {
		k    auth.Key
		want int
	}{{own, 5}, {plain, 3}} {
		n := 0
		for ; n < 10; n++ {
			if err := l.Allow(ctx, c.k); err != nil {
				var le *ratelimit.LimitError
				if !errors.As(err, &le) || le.RetryAfter < time.Second || !strings.HasPrefix(err.Error(), "too many requests with this key: try again in ") {
					t.Fatalf("key %s, request %d: %v; want a *ratelimit.LimitError", c.k.ID, n+1, err)
				}
				break
			}
		}
		if n != c.want {
			t.Errorf("key %s got %d requests, want its burst %d", c.k.ID, n, c.want)
		}
	}
	// The console's page was counted: its calls to the API are not, but
	// another key's requests on the same context are.
	counted := auth.Counted(ctx, "plain")
	if err := l.Allow(counted, plain); err != nil {
		t.Errorf("a request marked counted was refused: %v", err)
	}
	if err := l.Allow(counted, own); err == nil {
		t.Error("the mark of one key let another key's request through uncounted")
	}
	var none *auth.Limiter
	if err := none.Allow(ctx, plain); err != nil {
		t.Errorf("a nil Limiter refused: %v", err)
	}
}

// down is a Keyed whose store is down.
type down struct{}

func (down) AllowWith(context.Context, string, ratelimit.Limit, time.Time) error {
	return errors.New("rate limit api.keys: connection refused")
}

// TestLimiterStoreDown checks that a store that fails lets every request
// through, counts every failure, and is logged once a LogEvery with the
// failures since the last line, not once a request.
func TestLimiterStoreDown(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC)
	l := &auth.Limiter{Buckets: down{}, Log: slog.New(slog.NewJSONHandler(&buf, nil)), LogEvery: time.Minute,
		Now: func() time.Time { return now }}
	// 1,500 requests, one every 100 ms: 150 s of a database down.
	for i := range 1500 {
		if err := l.Allow(context.Background(), auth.Key{ID: "k"}); err != nil {
			t.Fatalf("request %d refused while the store is down: %v", i, err)
		}
		now = now.Add(100 * time.Millisecond)
	}
	if n := l.Errors(); n != 1500 {
		t.Errorf("Errors() = %d, want 1500", n)
	}
	var counts []int
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var e struct {
			Msg      string
			Failures int
			Err      string
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if !strings.Contains(e.Err, "connection refused") {
			t.Errorf("log line %q does not say what failed", line)
		}
		counts = append(counts, e.Failures)
	}
	// At 0 s the first; at 60 s and 120 s the 600 of each minute.
	if want := []int{1, 600, 600}; len(counts) != len(want) || counts[0] != 1 || counts[1] != 600 || counts[2] != 600 {
		t.Errorf("logged %d lines with failures %v, want %v", len(counts), counts, want)
	}
}
