package media_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// photo encodes a w x h JPEG with a photograph's amount of detail (smooth
// gradients under noise), so that entropy decoding costs what it does on
// real pictures. `safeguard-bench hash` prints the fuller table.
func photo(b *testing.B, w, h int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		x, y := i/4%w, i/4/w
		n := uint8(rng.IntN(12))
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(x*200/w)+n, uint8(y*200/h)+n, uint8((x+y)*100/(w+h))+n, 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDecodeAndHash is media.Decode plus PDQ, as internal/hasher does
// it, per JPEG mode.
func BenchmarkDecodeAndHash(b *testing.B) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"1MP", 1280, 800}, {"12MP", 4000, 3000}} {
		data := photo(b, size.w, size.h)
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
