package server_test

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
)

// slowFeed holds the change feed until released, as a large store does.
type slowFeed struct {
	store.Store
	gate chan struct{}
}

func (s slowFeed) ChangeKeys(ctx context.Context, since int64, limit int) ([]bank.Change, error) {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Store.ChangeKeys(ctx, since, limit)
}

// syncBuffer is a log that tests read while the server writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestStartWhileLoading: with LoadInBackground the ports answer before the
// index is loaded: /healthz alive, /readyz not ready and lookups 503 (not
// "no match"), then ready; a clean stop writes the snapshot, and the next
// start loads it and the changes after it.
func TestStartWhileLoading(t *testing.T) {
	ctx := context.Background()
	cfg, st := openSQLite(t)
	key, _, err := auth.Create(ctx, st, auth.Integrator, "p", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateBank(ctx, bank.Bank{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	const banked = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	addPDQ := func(st store.Store, hexes ...string) {
		t.Helper()
		seq := func(yield func(bank.Entry, error) bool) {
			for _, h := range hexes {
				if !yield(bank.Entry{Signal: bank.PDQ, Value: h}, nil) {
					return
				}
			}
		}
		if _, err := st.AddEntries(ctx, "b", iter.Seq2[bank.Entry, error](seq), nil); err != nil {
			t.Fatal(err)
		}
	}
	addPDQ(st, banked)
	cfg.Listen, cfg.LoadInBackground = "127.0.0.1:0", true
	logs := &syncBuffer{}
	slow := slowFeed{st, make(chan struct{})}
	srv, err := server.New(ctx, cfg, slow, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	base := "http://" + srv.Addr()
	do := func(req *http.Request) (int, string) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		return do(req)
	}
	lookup := func() (int, string) {
		req, _ := http.NewRequest("POST", base+"/v1/lookup", strings.NewReader(fmt.Sprintf(`{"pdq": %q}`, banked)))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		return do(req)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz while loading: %d, want 200", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "index loading") {
		t.Errorf("readyz while loading: %d %s, want 503 index loading", code, body)
	}
	if code, body := lookup(); code != 503 || !strings.Contains(body, "loading") {
		t.Errorf("lookup while loading: %d %s, want 503", code, body)
	}
	close(slow.gate)
	deadline := time.Now().Add(10 * time.Second)
	for code, _ := get("/readyz"); code != 200; code, _ = get("/readyz") {
		if time.Now().After(deadline) {
			t.Fatal("not ready 10 s after the feed was released")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, body := lookup(); code != 200 || !strings.Contains(body, `"distance":0`) {
		t.Errorf("lookup when loaded: %d %s, want the match", code, body)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "index snapshot written") {
		t.Fatalf("no snapshot on a clean stop; log:\n%s", logs)
	}
	if _, err := os.Stat(cfg.Data + "/index.snapshot"); err != nil {
		t.Fatal(err)
	}

	// The next start: the snapshot, then the one change since.
	st, err = server.OpenStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const later = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
	addPDQ(st, later)
	logs2 := &syncBuffer{}
	cfg.LoadInBackground = false
	defer st.Close()
	if _, err := server.New(ctx, cfg, st, slog.New(slog.NewTextHandler(logs2, nil))); err != nil {
		t.Fatal(err)
	}
	if l := logs2.String(); !strings.Contains(l, `from="snapshot and change feed" changes=1 pdq=2`) {
		t.Errorf("second start did not load the snapshot and one change; log:\n%s", l)
	}
}
