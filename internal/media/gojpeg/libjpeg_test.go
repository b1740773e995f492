//go:build cgo && !nolibjpeg

package gojpeg_test

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/gojpeg"
	"github.com/safeguard-oss/safeguard/internal/media/libjpeg"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

const testdata = "../../../testdata/threatexchange"

// gojpeg's luminance is libjpeg-turbo's, pixel for pixel, at every scale,
// and internal/pdq, upsampling and converting its chroma as libjpeg does,
// gives the hash libjpeg-turbo's RGB gives.
func TestSameAsLibjpeg(t *testing.T) {
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	for _, p := range []string{
		"pdq/data/bridge-mods/aaa-orig.jpg",        // 4:2:0
		"pdq/data/bridge-mods/shrink-a-little.jpg", // restart markers, odd size
		"pdq/data/bridge-mods/square-128x128.jpg",
		"pdq/data/reg-test-input/labelme-subset/q0746.jpg",
	} {
		data, err := os.ReadFile(filepath.Join(testdata, p))
		if os.IsNotExist(err) {
			t.Fatalf("reference test data missing at %s", testdata)
		}
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{filepath.Base(p), data})
	}
	inputs = append(inputs, input{"grey", encode(t, image.NewGray(image.Rect(0, 0, 77, 45)))})
	for _, hv := range []string{"11", "21", "12", "22"} {
		inputs = append(inputs, input{"sampling-" + hv, readFixture(t, "sampling-"+hv+".jpg")})
	}
	for _, in := range inputs {
		for _, denom := range []int{1, 2, 4, 8} {
			got, err := gojpeg.Decode(in.data, denom, 1<<30)
			if err != nil {
				t.Errorf("%s 1/%d: %v", in.name, denom, err)
				continue
			}
			d, err := libjpeg.NewDecoder(in.data)
			if err != nil {
				t.Fatal(err)
			}
			grey, err := d.Decode(denom, true)
			d.Close()
			if err != nil {
				t.Fatal(err)
			}
			d, _ = libjpeg.NewDecoder(in.data)
			rgb, err := d.Decode(denom, false)
			d.Close()
			if err != nil {
				t.Fatal(err)
			}
			var y []uint8
			var stride int
			switch m := got.(type) {
			case *image.YCbCr:
				y, stride = m.Y, m.YStride
			case *image.Gray:
				y, stride = m.Pix, m.Stride
			}
			g := grey.(*image.Gray)
			if got.Bounds() != g.Bounds() {
				t.Errorf("%s 1/%d: bounds %v, libjpeg's %v", in.name, denom, got.Bounds(), g.Bounds())
				continue
			}
			differ := 0
			for r := 0; r < g.Rect.Dy(); r++ {
				if !bytes.Equal(y[r*stride:r*stride+g.Rect.Dx()], g.Pix[r*g.Stride:r*g.Stride+g.Rect.Dx()]) {
					differ++
				}
			}
			var h pdq.Hasher
			a, b := h.HashImage(got, false), h.HashImage(rgb, false)
			if differ > 0 || a != b {
				t.Errorf("%s 1/%d: %d luminance rows differ; hashes %v and libjpeg's %v", in.name, denom, differ, a.Hash, b.Hash)
			}
		}
	}
}
