package server_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
)

// The banner tells how to create the first admin key only while there is
// none: after the first start printed KEY=sg_..., "create the first admin
// key" sent a new user to make a second.
func TestBannerFirstKeyHint(t *testing.T) {
	cfg, st := backends[0].open(t)
	cfg.Listen, cfg.EvidenceKeys = "127.0.0.1:0", testEvidenceKeys
	srv, err := server.New(context.Background(), cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	banner := func() string {
		var b strings.Builder
		srv.Banner(context.Background(), &b)
		return b.String()
	}
	if got := banner(); !strings.Contains(got, "create the first admin key") {
		t.Errorf("no key yet, and the banner does not say how to make one:\n%s", got)
	}
	if _, _, err := auth.Create(context.Background(), st, auth.Admin, "first", "test"); err != nil {
		t.Fatal(err)
	}
	if got := banner(); strings.Contains(got, "first admin key") {
		t.Errorf("a key exists, yet the banner says to create the first:\n%s", got)
	}
}
