package media_test

import (
	"fmt"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/media/mediatest"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// BenchmarkDecodeAndHash is media.Decode plus PDQ, as internal/hasher does
// it, per JPEG mode.
func BenchmarkDecodeAndHash(b *testing.B) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"1MP", 1280, 800}, {"12MP", 4000, 3000}} {
		data := mediatest.PhotoJPEG(size.w, size.h)
		for _, mode := range allModes {
			b.Run(fmt.Sprintf("%s/%v", size.name, mode), func(b *testing.B) {
				var h pdq.Hasher
				opt := media.Options{JPEG: mode, ForPDQ: true}
				for b.Loop() {
					img, _, err := media.Decode("photo.jpg", data, opt)
					if err != nil {
						b.Fatal(err)
					}
					h.HashImage(img, false)
				}
			})
		}
	}
}
