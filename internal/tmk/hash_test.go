package tmk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/media/video"
)

// TestHashFileHostile: files that are not videos, or are cut short, give a
// *video.Error (or, truncated, fewer frames), never a hang or a crash, and
// the resampling child keeps the frame limit.
func TestHashFileHostile(t *testing.T) {
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(videoDir, "chair-20-sd-bar.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for name, path := range map[string]string{
		"text":  write("text.mp4", []byte("not a video at all\n")),
		"empty": write("empty.mp4", nil),
	} {
		var verr *video.Error
		if _, _, err := HashFile(ctx, path, video.Limits{}); !errors.As(err, &verr) {
			t.Errorf("%s: %v, want a *video.Error", name, err)
		}
	}
	full, _ := readRef(t, "chair-20-sd-bar")
	f, _, err := HashFile(ctx, write("cut.mp4", good[:len(good)/2]), video.Limits{})
	if err == nil && f.FrameCount >= full.FrameCount {
		t.Errorf("half a file gave %d frames, the whole %d", f.FrameCount, full.FrameCount)
	}
	var verr *video.Error
	_, _, err = HashFile(ctx, filepath.Join(videoDir, "chair-20-sd-bar.mp4"), video.Limits{MaxFrames: 50})
	if !errors.As(err, &verr) || verr.Kind != video.TooLarge {
		t.Errorf("frame limit 50: %v, want TooLarge", err)
	}
}
