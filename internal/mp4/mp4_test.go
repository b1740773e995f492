package mp4_test

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/mp4"
)

// moov finds the file's top-level movie box, as the page does.
func moov(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			t.Fatalf("%s: bad top-level box", path)
		}
		if string(b[4:8]) == "moov" {
			return b[:size]
		}
		b = b[size:]
	}
	t.Fatalf("%s: no moov", path)
	return nil
}

// fractional makes a 29.97 fps H.264 MP4 with B-frames (so that frames
// are shown in another order than stored) of the given seconds.
func fractional(t testing.TB, seconds int) string {
	p := filepath.Join(t.TempDir(), "ntsc.mp4")
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30000/1001:duration="+strconv.Itoa(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-pix_fmt", "yuv420p", "-movflags", "+faststart", p).CombinedOutput()
	if err != nil {
		t.Skipf("ffmpeg cannot make an H.264 test video: %v %s", err, out)
	}
	return p
}

// TestAgainstFFmpeg checks the frame rate against ffprobe's (what the
// server's vPDQ uses) and the presentation times against ffprobe's
// packet times, on the sample videos and a 29.97 fps one.
func TestAgainstFFmpeg(t *testing.T) {
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
	dir := "../../testdata/threatexchange/tmk/sample-videos"
	files, _ := filepath.Glob(filepath.Join(dir, "*.mp4"))
	files = append(files, fractional(t, 3))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tr, err := mp4.Parse(moov(t, f))
			if err != nil {
				t.Fatal(err)
			}
			info, err := video.Probe(context.Background(), f, video.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if tr.FrameRate != info.FrameRate {
				t.Errorf("frame rate %v, ffprobe's %v", tr.FrameRate, info.FrameRate)
			}
			out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", f).Output()
			if err != nil {
				t.Fatal(err)
			}
			var want []float64
			for _, l := range strings.Fields(string(out)) {
				v, err := strconv.ParseFloat(strings.TrimSuffix(l, ","), 64)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, v)
			}
			slices.Sort(want)
			if len(want) != len(tr.Times) {
				t.Fatalf("%d frames, ffprobe %d", len(tr.Times), len(want))
			}
			for i := range want {
				if math.Abs(want[i]-tr.Times[i]) > 1e-6 {
					t.Fatalf("frame %d shown at %v, ffprobe says %v", i, tr.Times[i], want[i])
				}
			}
		})
	}
}

func TestHostile(t *testing.T) {
	be := func(v ...any) []byte {
		var b []byte
		for _, x := range v {
			switch x := x.(type) {
			case uint32:
				b = binary.BigEndian.AppendUint32(b, x)
			case string:
				b = append(b, x...)
			case []byte:
				b = append(b, x...)
			}
		}
		return b
	}
	boxOf := func(typ string, payload ...[]byte) []byte {
		p := slices.Concat(payload...)
		return be(uint32(8+len(p)), typ, p)
	}
	hdlr := boxOf("hdlr", be(uint32(0), uint32(0), "vide", make([]byte, 12)))
	mdhd := boxOf("mdhd", be(uint32(0), uint32(0), uint32(0), uint32(30000), uint32(0), uint32(0)))
	trak := func(stts []byte) []byte {
		return boxOf("moov", boxOf("trak", boxOf("mdia", hdlr, mdhd, boxOf("minf", boxOf("stbl", stts)))))
	}
	good := trak(boxOf("stts", be(uint32(0), uint32(1), uint32(3), uint32(1001))))
	tr, err := mp4.Parse(good)
	if err != nil || len(tr.Times) != 3 || tr.FrameRate != 30000.0/1001 || tr.Times[2] != 2002.0/30000 {
		t.Fatalf("a three-frame track: %+v, %v", tr, err)
	}
	for name, b := range map[string][]byte{
		"empty":                    nil,
		"box past the end":         be(uint32(1000), "moov"),
		"no video":                 boxOf("moov", boxOf("trak", boxOf("mdia", mdhd))),
		"stts claims 2^32 entries": trak(boxOf("stts", be(uint32(0), uint32(0xffffffff), uint32(3), uint32(1001)))),
		"a billion frames":         trak(boxOf("stts", be(uint32(0), uint32(1), uint32(1e9), uint32(1)))),
		"no frames":                trak(boxOf("stts", be(uint32(0), uint32(0)))),
		"zero durations":           trak(boxOf("stts", be(uint32(0), uint32(1), uint32(5), uint32(0)))),
		"size under header":        be(uint32(4), "moov"),
	} {
		if _, err := mp4.Parse(b); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"chair-20-sd-bar", "test-padded-dimensions"} {
		f.Add(moov(f, filepath.Join("../../testdata/threatexchange/tmk/sample-videos", p+".mp4")))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := mp4.Parse(b)
		if err == nil && (len(tr.Times) == 0 || len(tr.Times) > mp4.MaxFrames || !(tr.FrameRate > 0)) {
			t.Fatalf("accepted a track of %d frames at %v fps", len(tr.Times), tr.FrameRate)
		}
	})
}
