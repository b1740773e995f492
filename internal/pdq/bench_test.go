package pdq_test

import (
	"image"
	"testing"

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
	rgba := image.NewRGBA(image.Rect(0, 0, 512, 512))
	b.Run("512x512-rgba", func(b *testing.B) {
		var h pdq.Hasher
		for b.Loop() {
			h.HashImage(rgba, false)
		}
	})
}
