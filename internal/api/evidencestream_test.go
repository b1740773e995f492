package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/evidence"
)

// A reviewer's view of a case's content streams it, declaring its
// length; content altered in a later segment is sent up to that segment
// and then cut short, which the client sees as a broken transfer, never
// as the content.
func TestViewCaseEvidenceStreams(t *testing.T) {
	dir := t.TempDir()
	kr, err := evidence.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evidence.Open(dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	d, _, _, _ := leDesk(t, func(c *api.Config) { c.Evidence = ev })
	rep := d.do("integrator", "POST", "/v1/reports", map[string]any{"reporter": "user-1", "category": "suspected_csam", "content_id": "post-big", "account_id": "acct-9"}, 201)
	content := make([]byte, 3<<16+500) // four segments
	for i := range content {
		content[i] = byte(i ^ i>>8)
	}
	item, err := ev.Put(content, evidence.Meta{ContentType: "video/mp4", ContentID: "post-big"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.api)
	defer srv.Close()
	get := func() (*http.Response, []byte, error) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/cases/%d/evidence/%s", srv.URL, num(rep["case_id"]), item.ID), nil)
		req.Header.Set("Authorization", "Bearer "+d.secrets["reviewer"])
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	resp, got, err := get()
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, content) || resp.ContentLength != int64(len(content)) {
		t.Fatalf("view: %d, %d bytes of %d (Content-Length %d), %v", resp.StatusCode, len(got), len(content), resp.ContentLength, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("a video is sent as %q, want application/octet-stream", ct)
	}

	path := filepath.Join(dir, item.ID+".sgev")
	sealed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed[110+len("k1")+2*(64<<10+16)+9] ^= 1 // in segment 2
	if err := os.WriteFile(path, sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	resp, got, err = get()
	if err == nil || resp.StatusCode != 200 || resp.ContentLength != int64(len(content)) {
		t.Fatalf("view of an item altered in segment 2: %d, %d bytes (Content-Length %d), %v; want a transfer cut short", resp.StatusCode, len(got), resp.ContentLength, err)
	}
	if len(got) > 2<<16 || !bytes.Equal(got, content[:len(got)]) {
		t.Errorf("sent %d bytes of an item altered in segment 2: want only content of segments 0 and 1 (at most %s)", len(got), strconv.Itoa(2<<16))
	}
}
