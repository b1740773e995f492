//go:build !(js && wasm)

package hasher

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/signal"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// videoOptions is vpdq.HashOptions; in the browser hasher (js/wasm), which
// hashes photos only, it is empty, so no video code is built into it.
type videoOptions = vpdq.HashOptions

// VideoSignals are the hashes of one video file.
type VideoSignals struct {
	Info   video.Info
	Frames []vpdq.Frame // vPDQ, in frame order
	MD5    [16]byte     // of the file's bytes, as NCMEC shares video hashes
	SHA256 [32]byte
}

// IsVideo reports whether the file at path looks like a video container, by
// its first bytes (never its name): the test the CLI and the server use to
// send a file to HashVideo rather than Hash.
func IsVideo(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, video.SniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	return video.Sniff(head[:n]), nil
}

// HashVideo hashes the video file at path (uploads are spooled to disk, and
// ffmpeg reads the file itself): vPDQ under h.Video, and MD5 and SHA-256 of
// the bytes, streamed so the file is never held in memory. Errors about the
// file are *video.Error; a missing ffmpeg is video.ErrNoFFmpeg.
func (h *Hasher) HashVideo(ctx context.Context, path string) (VideoSignals, error) {
	var s VideoSignals
	f, err := os.Open(path)
	if err != nil {
		return s, err
	}
	defer f.Close()
	d := NewFileDigest()
	if _, err := io.Copy(d, f); err != nil {
		return s, fmt.Errorf("reading %s: %w", path, err)
	}
	s.MD5, s.SHA256 = d.Sum()
	v, err := vpdq.HashFile(ctx, path, h.Video)
	if err != nil {
		return s, err
	}
	s.Info, s.Frames = v.Info, v.Frames
	return s, nil
}

// Set is s as the matcher takes it: computed here, so not claimed.
func (s VideoSignals) Set() signal.Set {
	return signal.Set{VPDQ: s.Frames, Quality: -1, MD5: &s.MD5, SHA256: &s.SHA256}
}
