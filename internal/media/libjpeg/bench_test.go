//go:build cgo && !nolibjpeg

package libjpeg_test

import (
	"os"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/libjpeg"
	"github.com/safeguard-oss/safeguard/internal/media/mediatest"
)

// photo640 is a 640x480 JPEG (quality 90, 4:2:0) with a photograph's
// amount of detail, the size a scan benchmark sends; or, when
// SAFEGUARD_BENCH_JPEG names a file, that file (any JPEG of at least 512
// on a side), to time the very images `safeguard-bench scan` sends.
func photo640(b *testing.B) []byte {
	if f := os.Getenv("SAFEGUARD_BENCH_JPEG"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	return mediatest.PhotoJPEG(640, 480)
}

func samples(n int) []int {
	s := make([]int, 512)
	for i := range s {
		s[i] = i * n / 512
	}
	return s
}

// BenchmarkDecode640 is what one scan of a 640x480 JPEG costs in
// libjpeg-turbo: the whole image, and the 512x512 sample PDQ hashing takes
// (media's ForPDQ path).
func BenchmarkDecode640(b *testing.B) {
	data := photo640(b)
	d, err := libjpeg.NewDecoder(data)
	if err != nil {
		b.Fatal(err)
	}
	xs, ys := samples(d.Width), samples(d.Height)
	d.Close()
	b.Logf("%dx%d, %d bytes", d.Width, d.Height, len(data))
	b.Run("full-rgba", func(b *testing.B) {
		for b.Loop() {
			d, err := libjpeg.NewDecoder(data)
			if err != nil {
				b.Fatal(err)
			}
			img, err := d.Decode(1, false)
			d.Close()
			if err != nil {
				b.Fatal(err)
			}
			libjpeg.Release(img)
		}
	})
	b.Run("sampled-512", func(b *testing.B) {
		for b.Loop() {
			d, err := libjpeg.NewDecoder(data)
			if err != nil {
				b.Fatal(err)
			}
			img, err := d.DecodeSampled(1, false, xs, ys)
			d.Close()
			if err != nil {
				b.Fatal(err)
			}
			libjpeg.Release(img)
		}
	})
}
