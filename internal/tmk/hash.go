//go:build !(js && wasm)

package tmk

import (
	"context"

	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// HashFile computes TMK+PDQF of the video in the file at path: ffmpeg
// resamples it to 15 fps at 64x64 RGB24 (the reference's command line, under
// the limited children of internal/media/video), and each frame's PDQF goes
// into a Builder. Errors about the file are *video.Error; a missing ffmpeg
// is video.ErrNoFFmpeg.
func HashFile(ctx context.Context, path string, lim video.Limits) (*Features, video.Usage, error) {
	info, err := video.Probe(ctx, path, lim)
	if err != nil {
		return nil, video.Usage{}, err
	}
	var (
		h    pdq.Hasher
		b    Builder
		feat [16][16]float32
	)
	opt := video.DecodeOptions{Rate: FramesPerSecond, Size: FrameSide}
	u, err := video.Decode(ctx, path, info, lim, opt, func(f video.Frame) error {
		h.FloatRGB24(f.Pix, 3*FrameSide, FrameSide, FrameSide, &feat)
		b.Add(&feat)
		return nil
	})
	if err != nil {
		return nil, u, err
	}
	return b.Features(), u, nil
}
