package mediatest

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
)

// Photo is an opaque w x h image with a photograph's smooth gradients
// under noise, so that every luminance value and blur sum is non-trivial
// and entropy decoding costs what it does on real pictures.
func Photo(w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(1, 2))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		x, y := i/4%w, i/4/w
		n := uint8(rng.IntN(12))
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(x*200/w)+n, uint8(y*200/h)+n, uint8((x+y)*100/(w+h))+n, 255
	}
	return m
}

// PhotoJPEG is Photo encoded as a JPEG of quality 90 (4:2:0).
func PhotoJPEG(w, h int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Photo(w, h), &jpeg.Options{Quality: 90}); err != nil {
		panic(err) // encoding an in-memory RGBA cannot fail
	}
	return buf.Bytes()
}
