package cybertip

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/evidence/evidencetest"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
)

// TestSendContentFails: evidence that fails as it is read (an item
// altered in the store) stops its upload before the recipient has the
// whole form, the error is the content's, not the recipient's, and no
// file id is recorded; once the item reads, Send finishes.
func TestSendContentFails(t *testing.T) {
	fake, client := newFake(t)
	store := new(lereporttest.Memory)
	r, content := readyReport(t, store)
	second := r.Files[1].EvidenceID
	content[second] = make([]byte, 1<<20) // large enough that the transport is still sending
	files := lereporttest.NewFiles(content)
	corrupt := errors.New("evidence: item fedcba98…: at segment 7: fails its integrity check")
	files.Break(second, corrupt)
	sub := &Submitter{API: client, Store: store, Files: files, Now: clock}
	_, err := sub.Send(context.Background(), r.ID, "k_liaison")
	if !errors.Is(err, corrupt) || !strings.Contains(err.Error(), "upload "+second+": reading the file") {
		t.Fatalf("Send with the second file failing as it is read: %v", err)
	}
	got, _ := store.LEReport(context.Background(), r.ID)
	if got.State != lereport.Submitted || got.Files[1].Details.FileID != "" || !got.Files[0].InfoSent {
		t.Errorf("after the failure: %s, second file id %q, first sent %v", got.State, got.Files[1].Details.FileID, got.Files[0].InfoSent)
	}
	for _, c := range fake.calls {
		if c == "upload clip.mp4" {
			t.Errorf("the recipient took the upload cut short: calls %q", fake.calls)
		}
	}
	if files.Unclosed() != 0 {
		t.Errorf("%d readers of the evidence left open", files.Unclosed())
	}

	sub.Files = lereporttest.NewFiles(content)
	if got, err = sub.Send(context.Background(), r.ID, "k_liaison"); err != nil || got.State != lereport.Acknowledged {
		t.Fatalf("Send again: %s, %v", got.State, err)
	}
	if fake.files[got.Files[1].Details.FileID] != sumOf(content[second]) {
		t.Error("the file at the recipient is not the evidence")
	}
}

// TestUploadStreamed sends a report whose file is a video of
// evidencetest.StreamedSize, synthesized so that only the upload's memory
// (and the fake recipient's, which hashes what it reads) is on the heap,
// and checks it held less than an eighth of the video at once, and that
// the recipient has the video's exact bytes.
func TestUploadStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 100 MiB")
	}
	// As evidencetest's streamed test: a tight pacing makes Peak what the
	// path holds live, not the garbage the collector has yet to sweep.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	const n = evidencetest.StreamedSize
	fake, client := newFake(t)
	store := new(lereporttest.Memory)
	r, content := readyReport(t, store)
	files := lereporttest.NewFiles(content)
	video := r.Files[1].EvidenceID
	files.Add(video, evidencetest.Content(n), n)
	sub := &Submitter{API: client, Store: store, Files: files, Now: clock}
	var got lereport.Report
	var err error
	peak := evidencetest.Peak(func() { got, err = sub.Send(context.Background(), r.ID, "k_liaison") })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sending a report with a video of %d MiB held at most %.1f MiB of heap", n>>20, float64(peak)/(1<<20))
	if peak > n/8 {
		t.Errorf("sending a video of %d MiB held %.1f MiB of heap at once: not streamed", n>>20, float64(peak)/(1<<20))
	}
	h := sha256.New()
	io.Copy(h, evidencetest.Content(n))
	if fake.files[got.Files[1].Details.FileID] != hex.EncodeToString(h.Sum(nil)) {
		t.Error("the video at the recipient is not the evidence")
	}
}
