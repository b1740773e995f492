package gojpeg_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/gojpeg"
)

func encode(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func scene(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x * y) % 256), 255})
		}
	}
	return m
}

// At full size the luminance is within a step or two of image/jpeg's,
// whose inverse DCT rounds differently; scaled, the size is libjpeg's.
func TestDecode(t *testing.T) {
	src := scene(203, 117)
	for _, c := range []struct {
		name string
		img  image.Image
	}{
		{"colour", src},
		{"grey", func() *image.Gray {
			g := image.NewGray(src.Rect)
			for i := range g.Pix {
				g.Pix[i] = src.Pix[4*i+1]
			}
			return g
		}()},
	} {
		data := encode(t, c.img)
		want, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, denom := range []int{1, 2, 4, 8} {
			got, err := gojpeg.Decode(data, denom, 1<<20)
			if err != nil {
				t.Fatalf("%s 1/%d: %v", c.name, denom, err)
			}
			w, h := (203+denom-1)/denom, (117+denom-1)/denom
			if got.Bounds() != image.Rect(0, 0, w, h) {
				t.Errorf("%s 1/%d: bounds %v, want %dx%d", c.name, denom, got.Bounds(), w, h)
			}
			if denom != 1 {
				continue
			}
			worst := 0
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					a := color.GrayModel.Convert(got.At(x, y)).(color.Gray).Y
					b := color.GrayModel.Convert(want.At(x, y)).(color.Gray).Y
					worst = max(worst, int(a)-int(b), int(b)-int(a))
				}
			}
			if worst > 3 {
				t.Errorf("%s: a pixel is %d away from image/jpeg's", c.name, worst)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	data := encode(t, scene(64, 64))
	var progressive bytes.Buffer
	progressive.Write(data[:2])
	progressive.Write([]byte{0xff, 0xc2, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0})
	for _, c := range []struct {
		name  string
		data  []byte
		check func(error) bool
	}{
		{"empty", nil, func(err error) bool { var f gojpeg.FormatError; return errors.As(err, &f) }},
		{"truncated header", data[:20], func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{"truncated scan", data[:len(data)-300], func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{"progressive", progressive.Bytes(), func(err error) bool { return errors.Is(err, gojpeg.ErrUnsupported) }},
		{"too large", data, func(err error) bool { var f gojpeg.FormatError; return errors.As(err, &f) }},
	} {
		limit := int64(1 << 20)
		if c.name == "too large" {
			limit = 64*64 - 1
		}
		if _, err := gojpeg.Decode(c.data, 1, limit); !c.check(err) {
			t.Errorf("%s: %v (%T)", c.name, err, err)
		}
	}
	if _, err := gojpeg.Decode(data, 3, 1<<20); err == nil {
		t.Error("scale 1/3: no error")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(f, scene(40, 24)), uint8(0))
	g := image.NewGray(image.Rect(0, 0, 17, 9))
	f.Add(encode(f, g), uint8(3))
	f.Add(readFixture(f, "sampling-21.jpg"), uint8(1))
	f.Add(readFixture(f, "sampling-12.jpg"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, scale uint8) {
		denom := 1 << (scale & 3)
		img, err := gojpeg.Decode(data, denom, 1<<14)
		if err != nil {
			return
		}
		if b := img.Bounds(); b.Empty() || b.Dx()*b.Dy() > 1<<14 {
			t.Fatalf("decoded %v", b)
		}
		// Every pixel the bounds promise is there.
		b := img.Bounds()
		img.At(b.Max.X-1, b.Max.Y-1)
	})
}

// testdata/sampling-HV.jpg: 203x117, luma sampled H x V against chroma
// (4:4:4, 4:2:2, 4:4:0, 4:2:0), restart markers every MCU row: a synthetic
// scene compressed with libjpeg-turbo 2.1.5 at quality 85 by a few lines
// of C kept out of the repository.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every sampling layout decodes at every scale, close to image/jpeg at
// full size.
func TestSamplings(t *testing.T) {
	for _, hv := range []string{"11", "21", "12", "22"} {
		data := readFixture(t, "sampling-"+hv+".jpg")
		want, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, denom := range []int{1, 2, 4, 8} {
			got, err := gojpeg.Decode(data, denom, 1<<20)
			if err != nil {
				t.Fatalf("%s 1/%d: %v", hv, denom, err)
			}
			if w, h := (203+denom-1)/denom, (117+denom-1)/denom; got.Bounds() != image.Rect(0, 0, w, h) {
				t.Errorf("%s 1/%d: bounds %v", hv, denom, got.Bounds())
			}
			if denom > 1 {
				continue
			}
			worst := 0
			for y := 0; y < 117; y++ {
				for x := 0; x < 203; x++ {
					a := color.RGBAModel.Convert(got.At(x, y)).(color.RGBA)
					b := color.RGBAModel.Convert(want.At(x, y)).(color.RGBA)
					for _, d := range []int{int(a.R) - int(b.R), int(a.G) - int(b.G), int(a.B) - int(b.B)} {
						worst = max(worst, d, -d)
					}
				}
			}
			// The two differ in inverse DCT rounding, and Go's colour
			// conversion here replicates chroma where libjpeg filters.
			if worst > 40 {
				t.Errorf("%s: a channel is %d away from image/jpeg's", hv, worst)
			}
		}
	}
}
