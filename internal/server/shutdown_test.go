package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
)

// TestGracefulShutdown stops the server while a scan's body is still
// arriving: the scan must be answered, and Run must return only after it.
func TestGracefulShutdown(t *testing.T) {
	cfg, st := openSQLite(t)
	ctx := context.Background()
	key, _, err := auth.Create(ctx, st, auth.Integrator, "p", "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	srv, err := server.New(ctx, cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()

	img, _ := photo(t, 3)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://"+srv.Addr()+"/v1/scan", pr)
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("Authorization", "Bearer "+key)
	req.ContentLength = int64(len(img))
	status := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("in-flight scan: %v", err)
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	pw.Write(img[:len(img)/2])
	time.Sleep(100 * time.Millisecond) // the request is in the handler, reading its body
	stop()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	pw.Write(img[len(img)/2:])
	pw.Close()
	if s := <-status; s != 200 {
		t.Errorf("in-flight scan answered %d, want 200", s)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, err := http.Get("http://" + srv.Addr() + "/healthz"); err == nil {
		t.Error("server still takes connections after shutdown")
	}
}
