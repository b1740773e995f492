//go:build cgo && !nolibjpeg

package libjpeg_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/libjpeg"
)

func encode(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func smooth(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return m
}

// Each scale gives the size libjpeg promises and pixels close to the
// original's.
func TestDecodeScales(t *testing.T) {
	src := smooth(203, 101)
	data := encode(t, src)
	for _, denom := range []int{1, 2, 4, 8} {
		for _, grey := range []bool{false, true} {
			d, err := libjpeg.NewDecoder(data)
			if err != nil {
				t.Fatal(err)
			}
			if d.Width != 203 || d.Height != 101 || d.ColorSpace != libjpeg.YCbCr || d.Components != 3 {
				t.Fatalf("header %+v", d)
			}
			img, err := d.Decode(denom, grey)
			d.Close()
			d.Close() // twice is fine
			if err != nil {
				t.Fatalf("1/%d: %v", denom, err)
			}
			w, h := libjpeg.OutputSize(203, 101, denom)
			if img.Bounds() != image.Rect(0, 0, w, h) {
				t.Errorf("1/%d: bounds %v, want %dx%d", denom, img.Bounds(), w, h)
			}
			// A scaled pixel is about the middle of the block it stands for.
			got := color.RGBAModel.Convert(img.At(w/2, h/2)).(color.RGBA)
			want := src.RGBAAt(w/2*denom+denom/2, h/2*denom+denom/2)
			if grey {
				if _, ok := img.(*image.Gray); !ok {
					t.Fatalf("grey gave %T", img)
				}
				y, _, _ := color.RGBToYCbCr(want.R, want.G, want.B)
				want = color.RGBA{y, y, y, 255}
			}
			if diff(got.R, want.R) > 8 || diff(got.G, want.G) > 8 || diff(got.B, want.B) > 8 {
				t.Errorf("1/%d grey=%v: middle pixel %v, want about %v", denom, grey, got, want)
			}
		}
	}
}

func diff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestErrors(t *testing.T) {
	data := encode(t, smooth(64, 64))
	if _, err := libjpeg.NewDecoder(nil); err == nil {
		t.Error("empty data: no error")
	}
	if _, err := libjpeg.NewDecoder([]byte("not a jpeg at all")); err == nil || err.Error() != "Not a JPEG file: starts with 0x6e 0x6f" {
		t.Errorf("not a JPEG: %v", err)
	}
	// Cut inside the scan: the header reads, the pixels run out.
	d, err := libjpeg.NewDecoder(data[:len(data)/2])
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Decode(1, false)
	d.Close()
	var e *libjpeg.Error
	if !errors.As(err, &e) || !e.Truncated || e.Msg != "Premature end of JPEG file" {
		t.Errorf("truncated: %v", err)
	}
	d, err = libjpeg.NewDecoder(data)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Decode(3, false); err == nil {
		t.Error("scale 1/3: no error")
	}
	if _, err := d.Decode(1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decode(1, false); err == nil {
		t.Error("second Decode: no error")
	}
}

// DecodeSampled gives exactly the pixels Decode gives at the sampled rows
// and columns, repeats included.
func TestDecodeSampled(t *testing.T) {
	data := encode(t, smooth(301, 157))
	xs := []int{0, 0, 1, 7, 8, 150, 299, 300}
	ys := []int{0, 3, 3, 16, 17, 100, 156}
	for _, grey := range []bool{false, true} {
		d, err := libjpeg.NewDecoder(data)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := d.Decode(1, grey)
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		d, err = libjpeg.NewDecoder(data)
		if err != nil {
			t.Fatal(err)
		}
		sampled, err := d.DecodeSampled(1, grey, xs, ys)
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		if sampled.Bounds() != image.Rect(0, 0, len(xs), len(ys)) {
			t.Fatalf("bounds %v", sampled.Bounds())
		}
		for j, y := range ys {
			for i, x := range xs {
				if got, want := sampled.At(i, j), whole.At(x, y); got != want {
					t.Errorf("grey=%v (%d,%d) from (%d,%d): %v, want %v", grey, i, j, x, y, got, want)
				}
			}
		}
	}
	d, err := libjpeg.NewDecoder(data)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.DecodeSampled(1, false, []int{5, 4}, ys); err == nil {
		t.Error("columns out of order: no error")
	}
	if _, err := d.DecodeSampled(2, false, xs, ys); err == nil {
		t.Error("column 300 of a 151-wide half-size image: no error")
	}
}

// A released image's pixels are reused by later decodes, which still give
// exactly the pixels of a fresh decode (no stale bytes from the first).
func TestRelease(t *testing.T) {
	decode := func(data []byte, grey bool) image.Image {
		t.Helper()
		d, err := libjpeg.NewDecoder(data)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		img, err := d.Decode(1, grey)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	a, b := encode(t, smooth(512, 512)), encode(t, smooth(97, 300))
	for _, grey := range []bool{false, true} {
		want := decode(b, grey)
		first := decode(a, grey)
		reused := false
		for range 10 { // sync.Pool may drop a buffer; one reuse in ten tries is enough
			libjpeg.Release(first)
			got := decode(b, grey)
			var pix []byte
			switch m := got.(type) {
			case *image.RGBA:
				pix = m.Pix
			case *image.Gray:
				pix = m.Pix
			}
			reused = reused || cap(pix) > len(pix)
			for y := 0; y < 300; y++ {
				for x := 0; x < 97; x++ {
					if got.At(x, y) != want.At(x, y) {
						t.Fatalf("grey=%v (%d,%d): %v, want %v", grey, x, y, got.At(x, y), want.At(x, y))
					}
				}
			}
			first = got
		}
		if !reused {
			t.Errorf("grey=%v: no decode reused a released buffer", grey)
		}
	}
	libjpeg.Release(image.NewNRGBA(image.Rect(0, 0, 2, 2))) // not ours: ignored
	libjpeg.Release(nil)
}
