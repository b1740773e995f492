package pdq_test

import (
	"fmt"
	"image"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/mediatest"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// BenchmarkHashImage measures hashing alone (no decoding) of a decoded
// photograph: the pre-resize sampling, luminance, blur, DCT and bits.
func BenchmarkHashImage(b *testing.B) {
	for _, c := range []struct {
		name string
		path string
	}{
		{"1600x1004-ycbcr", "pdq/data/bridge-mods/aaa-orig.jpg"},
		{"4032x3024-ycbcr", "pdq/data/reg-test-input/exif-rotn/exif-rotn-6.jpg"},
		{"256x256-ycbcr", "pdq/data/reg-test-input/labelme-subset/q2821.jpg"},
	} {
		img := decodeFile(b, c.path)
		for _, dihedral := range []bool{false, true} {
			name := c.name
			if dihedral {
				name += "-dihedral"
			}
			b.Run(name, func(b *testing.B) {
				var h pdq.Hasher
				for b.Loop() {
					h.HashImage(img, dihedral)
				}
			})
		}
	}
	// What libjpeg-turbo hands over in the exact mode: RGBA, sampled to
	// 512x512 for larger images (a 640x480 scan, a 1 MP photograph).
	for _, size := range []image.Point{{512, 512}, {640, 480}} {
		rgba := mediatest.Photo(size.X, size.Y)
		for _, dihedral := range []bool{false, true} {
			name := fmt.Sprintf("%dx%d-rgba", size.X, size.Y)
			if dihedral {
				name += "-dihedral"
			}
			b.Run(name, func(b *testing.B) {
				var h pdq.Hasher
				b.ReportAllocs()
				reportCPU(b, func() {
					for b.Loop() {
						h.HashImage(rgba, dihedral)
					}
				})
			})
		}
	}
}
