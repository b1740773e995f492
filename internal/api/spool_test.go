package api

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
	"github.com/safeguard-oss/safeguard/internal/spool"
)

// panicky yields a video's first bytes, then panics, as a bug below the
// handler (a body reader's, a hasher's) would.
type panicky struct{ sent bool }

func (p *panicky) Read(b []byte) (int, error) {
	if p.sent {
		panic("reading the body")
	}
	p.sent = true
	head := append([]byte("\x00\x00\x00\x18ftypmp42"), make([]byte, 4096)...)
	return copy(b, head), nil
}

// A panic while a video upload is being spooled, which the API recovers
// (a 500), leaves nothing in the spool directory, on a scan and on a
// bank's upload alike.
func TestSpoolPanic(t *testing.T) {
	keys := new(authtest.Memory)
	key, _, err := auth.Create(context.Background(), keys, auth.Admin, "a", "test")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := spool.Open(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{Keys: keys, SpoolDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, path := range []string{"/v1/scan", "/v1/banks/b/entries"} {
		req := httptest.NewRequest("POST", path, &panicky{})
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "video/mp4")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != 500 {
			t.Errorf("%s: %d %s, want the recovered panic's 500", path, rec.Code, rec.Body)
		}
		if left, _ := os.ReadDir(string(dir)); len(left) != 0 {
			t.Errorf("%s: spooled files left behind: %v", path, left)
		}
	}
}
