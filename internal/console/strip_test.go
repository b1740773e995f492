package console_test

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/console"
	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/spool"
)

// A video case's keyframe strip: a JPEG of the video's keyframes, served
// only on a case the reviewer has open and only after the look is on
// record; an image has none, a broken video answers 422.
func TestVideoStrip(t *testing.T) {
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
	clip, err := os.ReadFile("../../testdata/threatexchange/tmk/sample-videos/chair-20-sd-bar.mp4")
	if err != nil {
		t.Skip("no sample video:", err)
	}
	spoolDir := filepath.Join(t.TempDir(), "spool")
	w := newWorld(t, func(c *console.Config) { c.SpoolDir = spool.Dir(spoolDir) })
	id, item := w.ruleCase("clip-1", clip, "video/mp4")
	broken, brokenItem := w.ruleCase("clip-2", clip[:2048], "video/mp4")
	b := w.browser()
	b.signIn(auth.Reviewer)
	path := fmt.Sprintf("/console/cases/%d/content/%s/strip", id, item)
	if a := b.get(path); a.status != http.StatusNotFound {
		t.Errorf("strip of a case not opened: %d", a.status)
	}
	b.get(fmt.Sprintf("/console/cases/%d", id))
	// The video is copied into the spool directory configured, and only
	// there: while it is missing, no strip can be made.
	if a := b.get(path); a.status != http.StatusInternalServerError {
		t.Errorf("strip with no spool directory: %d", a.status)
	}
	if _, err := spool.Open(spoolDir); err != nil {
		t.Fatal(err)
	}
	before := len(w.entries(audit.EvidenceRead))
	a := b.get(path)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("strip: %d %s", a.status, a.header.Get("Content-Type"))
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader([]byte(a.body))); err != nil || cfg.Height != 96 || cfg.Width < 4*96/2 {
		t.Errorf("strip: %+v, %v: want a row of keyframes 96 pixels high", cfg, err)
	}
	reads := w.entries(audit.EvidenceRead)
	if len(reads) != before+1 || !strings.Contains(string(reads[len(reads)-1].Detail), "keyframes") {
		t.Errorf("the strip's look is not on record: %d entries before, %d after", before, len(reads))
	}
	b.get(fmt.Sprintf("/console/cases/%d", w.top))
	if a := b.get(fmt.Sprintf("/console/cases/%d/content/%s/strip", w.top, w.item)); a.status != http.StatusUnsupportedMediaType {
		t.Errorf("strip of an image: %d", a.status)
	}
	b.get(fmt.Sprintf("/console/cases/%d", broken))
	if a := b.get(fmt.Sprintf("/console/cases/%d/content/%s/strip", broken, brokenItem)); a.status != http.StatusUnprocessableEntity {
		t.Errorf("strip of a truncated video: %d %s", a.status, a.body)
	}
	if left, _ := os.ReadDir(spoolDir); len(left) != 0 {
		t.Errorf("spooled files left behind: %v", left)
	}
}
