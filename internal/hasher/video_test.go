//go:build !(js && wasm)

package hasher

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/video"
)

func TestHashVideo(t *testing.T) {
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
	const path = "../../testdata/threatexchange/tmk/sample-videos/chair-19-sd-bar.mp4"
	var h Hasher
	h.Video.SecondsPerHash = 1
	if ok, err := IsVideo(path); !ok || err != nil {
		t.Fatalf("IsVideo = %v, %v", ok, err)
	}
	s, err := h.HashVideo(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	// The MD5 the reference's WebAssembly tests expect for this file.
	if got := s.MD5; got != [16]byte{0x0a, 0x21, 0xc8, 0xf8, 0x5a, 0x55, 0xa9, 0xe2, 0x76, 0xff, 0xc2, 0xc5, 0x3f, 0x68, 0x87, 0xc4} {
		t.Errorf("MD5 %x", got)
	}
	if len(s.Frames) != 19 || s.Info.Width != 480 {
		t.Errorf("%d frames of %dx%d", len(s.Frames), s.Info.Width, s.Info.Height)
	}

	bad := filepath.Join(t.TempDir(), "x.mp4")
	os.WriteFile(bad, []byte("\x00\x00\x00\x18ftypmp42 but nothing else"), 0o600)
	var ve *video.Error
	if _, err := h.HashVideo(context.Background(), bad); !errors.As(err, &ve) {
		t.Errorf("a broken MP4 gave %v (%T), want a *video.Error", err, err)
	}
}
