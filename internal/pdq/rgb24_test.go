package pdq

import (
	"image"
	"math/rand/v2"
	"testing"
)

// HashRGB24 is HashImage without the pre-resize: on an image of at most
// 512x512 (where HashImage does not resize) the two agree bit for bit, and
// a row stride wider than the pixels (ffmpeg's padded lines) changes
// nothing.
func TestHashRGB24(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, size := range [][2]int{{5, 5}, {64, 64}, {97, 300}, {512, 288}} {
		w, h := size[0], size[1]
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		stride := 3*w + 13
		pix := make([]byte, stride*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				// Smooth gradients plus noise, so the hash has structure.
				c := [3]byte{byte(x*255/w + r.IntN(20)), byte(y*255/h + r.IntN(20)), byte((x + y) % 256)}
				copy(pix[y*stride+3*x:], c[:])
				copy(img.Pix[y*img.Stride+4*x:], []byte{c[0], c[1], c[2], 255})
			}
		}
		var hs Hasher
		want := hs.HashImage(img, false)
		got := hs.HashRGB24(pix, stride, h, w)
		if got.Hash != want.Hash || got.Quality != want.Quality {
			t.Errorf("%dx%d: HashRGB24 %s q%d, HashImage %s q%d", w, h, got.Hash, got.Quality, want.Hash, want.Quality)
		}
	}
	var hs Hasher
	if r := hs.HashRGB24(make([]byte, 10), 30, 1, 10); r.Quality != 0 || r.Hash != (Hash{}) {
		t.Errorf("a 10x1 frame hashed to %v", r)
	}
	if r := hs.HashRGB24(make([]byte, 10), 30, 5, 10); r.Hash != (Hash{}) {
		t.Errorf("a buffer shorter than its size hashed to %v", r)
	}
}
