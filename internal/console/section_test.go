package console_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// A video preview streams from the evidence store, whole or by the
// ranges a playing video asks for, in any order: each range is the
// content's bytes at that place.
func TestContentRanges(t *testing.T) {
	w := newWorld(t)
	clip := make([]byte, 5<<16+321) // six segments
	for i := range clip {
		clip[i] = byte(i ^ i>>7)
	}
	copy(clip, "\x00\x00\x00\x18ftypmp42")
	id, item := w.ruleCase("clip-r", clip, "video/mp4")
	b := w.browser()
	b.signIn(auth.Reviewer)
	b.get(fmt.Sprintf("/console/cases/%d", id))
	path := fmt.Sprintf("%s/console/cases/%d/content/%s", w.srv.URL, id, item)
	whole := b.get(path[len(w.srv.URL):])
	if whole.status != http.StatusOK || whole.body != string(clip) {
		t.Fatalf("whole: %d, %d bytes of %d", whole.status, len(whole.body), len(clip))
	}
	for _, r := range [][2]int{{3 << 16, 3<<16 + 99}, {10, 20}, {len(clip) - 5, len(clip) - 1}, {1<<16 - 3, 2<<16 + 3}} {
		req, _ := http.NewRequest("GET", path, nil)
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", r[0], r[1]))
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusPartialContent || !bytes.Equal(got, clip[r[0]:r[1]+1]) {
			t.Errorf("range %d-%d: %d, %d bytes (the content's: %v), %v", r[0], r[1], res.StatusCode, len(got), bytes.Equal(got, clip[r[0]:min(len(clip), r[0]+len(got))]), err)
		}
	}
}
