package video

import (
	"context"
	"fmt"
)

// StripFrames is how many keyframes a strip shows.
const StripFrames = 8

// maxStrip bounds a strip's JPEG: 8 frames of at most ~200x96 pixels.
const maxStrip = 1 << 20

// Strip returns a JPEG of the first StripFrames keyframes of the video at
// path side by side, each scaled to 96 pixels high: what a reviewer looks
// at (blurred) before deciding whether to play a video at all. Only
// keyframes are decoded (-skip_frame nokey), so it is cheap; the video is
// probed first and decoded under lim, like Decode.
func Strip(ctx context.Context, path string, lim Limits) ([]byte, error) {
	lim = lim.withDefaults()
	if _, err := Probe(ctx, path, lim); err != nil {
		return nil, err
	}
	out, stderr, err := run(ctx, "ffmpeg", lim, maxStrip,
		"-v", "error", "-nostdin", "-threads", "1", "-noautorotate", "-skip_frame", "nokey", "-i", "file:"+path,
		"-map", "0:v:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough",
		"-vf", fmt.Sprintf("scale=w=-2:h=96:flags=area,tile=%dx1", StripFrames),
		"-frames:v", "1", "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "5", "pipe:1")
	if err != nil {
		return nil, classify(path, "ffmpeg", err, stderr, Corrupt)
	}
	if len(out) == 0 {
		return nil, &Error{path, Corrupt, "no keyframe could be decoded"}
	}
	return out, nil
}
