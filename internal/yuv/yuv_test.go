package yuv_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/yuv"
)

// TestServerFrames checks RGB24 against the server's own conversion
// (internal/media/video.Decode, swscale's C path) byte for byte, on the
// first frames of sample videos of three sizes, from the planes ffmpeg
// decodes to, as I420 and re-packed as NV12.
func TestServerFrames(t *testing.T) {
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
	const frames = 3
	for _, name := range []string{"chair-20-sd-bar", "doorknob-hd-no-bar", "test-padded-dimensions"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("../../testdata/threatexchange/tmk/sample-videos", name+".mp4")
			info, err := video.Probe(context.Background(), path, video.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var want [][]byte
			stop := errors.New("enough frames")
			if _, err := video.Decode(context.Background(), path, info, video.Limits{}, video.DecodeOptions{CPUFlags: "0"}, func(f video.Frame) error {
				want = append(want, bytes.Clone(f.Pix))
				if len(want) == frames {
					return stop
				}
				return nil
			}); err != nil && !errors.Is(err, stop) {
				t.Fatal(err)
			}
			raw, err := exec.Command("ffmpeg", "-v", "error", "-noautorotate", "-i", path, "-map", "0:v:0", "-fps_mode", "passthrough",
				"-frames:v", "3", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1").Output()
			if err != nil {
				t.Fatal(err)
			}
			w, h := info.Width, info.Height
			cw, ch := (w+1)/2, (h+1)/2
			size := w*h + 2*cw*ch
			if len(raw) != frames*size || len(want) != frames {
				t.Fatalf("%d bytes of YUV and %d RGB frames, want %d frames", len(raw), len(want), frames)
			}
			for i := range frames {
				p := raw[i*size : (i+1)*size]
				i420 := yuv.Frame{Width: w, Height: h, Y: p[:w*h], YStride: w, U: p[w*h : w*h+cw*ch], V: p[w*h+cw*ch:], UVStride: cw, UVStep: 1}
				uv := make([]byte, 2*cw*ch)
				for j := range cw * ch {
					uv[2*j], uv[2*j+1] = i420.U[j], i420.V[j]
				}
				nv12 := yuv.Frame{Width: w, Height: h, Y: i420.Y, YStride: w, U: uv, V: uv[1:], UVStride: 2 * cw, UVStep: 2}
				for _, f := range []yuv.Frame{i420, nv12} {
					if err := f.Check(); err != nil {
						t.Fatal(err)
					}
					got := f.RGB24(nil)
					if !bytes.Equal(got, want[i]) {
						n := 0
						for k := range got {
							if got[k] != want[i][k] {
								n++
							}
						}
						t.Errorf("frame %d (step %d): %d of %d bytes differ from the server's", i, f.UVStep, n, len(got))
					}
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	y, c := make([]byte, 16), make([]byte, 4)
	ok := yuv.Frame{Width: 4, Height: 4, Y: y, YStride: 4, U: c, V: c, UVStride: 2, UVStep: 1}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]yuv.Frame{
		"no size":      {Width: 0, Height: 4, Y: y, YStride: 4, U: c, V: c, UVStride: 2, UVStep: 1},
		"short luma":   {Width: 4, Height: 5, Y: y, YStride: 4, U: c, V: c, UVStride: 2, UVStep: 1},
		"short stride": {Width: 4, Height: 4, Y: y, YStride: 3, U: c, V: c, UVStride: 2, UVStep: 1},
		"short chroma": {Width: 4, Height: 4, Y: y, YStride: 4, U: c[:3], V: c, UVStride: 2, UVStep: 1},
		"nv12 stride":  {Width: 4, Height: 4, Y: y, YStride: 4, U: c, V: c[1:], UVStride: 2, UVStep: 2},
		"bad step":     {Width: 4, Height: 4, Y: y, YStride: 4, U: c, V: c, UVStride: 2, UVStep: 3},
	} {
		if err := f.Check(); err == nil {
			t.Errorf("%s: Check accepted %+v", name, f)
		}
	}
}
