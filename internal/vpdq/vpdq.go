//go:build !(js && wasm)

// Hashing a video needs ffmpeg (internal/media/video), which the browser
// hasher (web/remove/wasm, which reaches this package through signal.Set)
// neither has nor needs.

package vpdq

import (
	"context"
	"fmt"

	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// HashOptions say how a video is hashed.
type HashOptions struct {
	// SecondsPerHash keeps one frame every so many seconds of video; 0
	// keeps every frame (the reference's -r; its CLI defaults to 0,
	// python-threatexchange to 1).
	SecondsPerHash float64
	Limits         video.Limits
	Conversion     Conversion
}

// Conversion picks how ffmpeg's swscale turns decoded YUV into RGB. Its C
// and SIMD code round differently, by a few PDQ bits a frame, and lists made
// with the reference differ the same way (docs/video.md has the
// measurement).
type Conversion int

const (
	// ConvertC is swscale's C conversion, as the reference's sample hashes
	// were made (9 of its 10 sample videos, bit for bit). The default. It
	// runs a second ffmpeg child, since forcing it in one would force the
	// C decoder too.
	ConvertC Conversion = iota
	// ConvertSIMD is the CPU's SIMD conversion: what the reference
	// vpdq-hash-video built on this machine's ffmpeg gives, and what the
	// tenth sample was made with. One child, a little cheaper.
	ConvertSIMD
)

// Video is a hashed video file.
type Video struct {
	Info   video.Info // what ffprobe said of its first video stream
	Frames []Frame    // in frame order
	Usage  video.Usage
}

// HashFile hashes the video in the file at path. Errors about the file
// itself are *video.Error (the API answers 422); a missing ffmpeg is
// video.ErrNoFFmpeg.
func HashFile(ctx context.Context, path string, opt HashOptions) (*Video, error) {
	if opt.SecondsPerHash < 0 {
		return nil, fmt.Errorf("vpdq: seconds per hash must not be negative, got %g", opt.SecondsPerHash)
	}
	info, err := video.Probe(ctx, path, opt.Limits)
	if err != nil {
		return nil, err
	}
	if info.Width < minSide || info.Height < minSide {
		return nil, &video.Error{Path: path, Kind: video.NotVideo,
			Reason: fmt.Sprintf("frames of %dx%d are too small to hash (PDQ needs %dx%d)", info.Width, info.Height, minSide, minSide)}
	}
	flags := "0" // no SIMD in the colour conversion
	if opt.Conversion == ConvertSIMD {
		flags = ""
	}
	// The reference divides in float32 (VideoMetadata holds the rate as a
	// float); doing the same keeps printed timestamps identical.
	fps := float32(info.FrameRate)
	v := &Video{Info: info}
	var h pdq.Hasher
	dopt := video.DecodeOptions{Every: frameMod(opt.SecondsPerHash, info.FrameRate), CPUFlags: flags}
	v.Usage, err = video.Decode(ctx, path, info, opt.Limits, dopt, func(f video.Frame) error {
		r := h.HashRGB24(f.Pix, 3*info.Width, info.Height, info.Width)
		v.Frames = append(v.Frames, Frame{
			Number:    f.Number,
			Quality:   r.Quality,
			Hash:      r.Hash,
			Timestamp: float64(float32(f.Number) / fps),
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// minSide is the reference's MIN_HASHABLE_DIM: it refuses smaller frames.
const minSide = 5

// frameMod is the reference's sampling period in frames: the integer part
// of secondsPerHash*fps, and every frame when that is 0.
func frameMod(secondsPerHash, fps float64) int {
	m := int(secondsPerHash * fps)
	if m < 1 {
		return 1
	}
	return m
}
