package media_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// The reference refuses images with alpha, CMYK JPEGs, WebP and TIFF; we
// hash them (docs/pdq.md says how). misc-images/modes holds one photograph
// converted by PIL into each of its modes, so each must hash like the
// original, whose reference hash is known, and decode to the pixel layout
// internal/pdq reads directly.
func TestModes(t *testing.T) {
	const modes = "pdq/data/misc-images/modes/"
	original := readCSV(t, "expected-pdq.csv")[0].hashes[0] // bridge-mods/aaa-orig.jpg, the same photograph
	const pythonResources = "python-threatexchange/threatexchange/tests/hashing/resources/"
	for _, c := range []struct {
		path string
		typ  string // the image type Go's decoder gives; libjpeg's for JPEG in brackets
		want string // a reference hash, or "" for the original's
		dist int    // at most this far from want
	}{
		{modes + "original.jpg", "*image.YCbCr [*image.RGBA]", "", 0},
		{modes + "RGB.jpg", "*image.YCbCr [*image.RGBA]", "", 0},
		{modes + "YCbCr.jpg", "*image.YCbCr [*image.RGBA]", "", 0},
		{modes + "CMYK.jpg", "*image.CMYK [*image.CMYK]", "", 0},
		{modes + "L.png", "*image.Gray", "", 0},
		{modes + "LA.png", "*image.NRGBA", "", 0},
		{modes + "RGBA.png", "*image.NRGBA", "", 0},
		{modes + "P.png", "*image.Paletted", "", 0},
		// One bit a pixel: dithered black and white is not the photograph.
		{modes + "1.png", "*image.Gray", "", 16},
		{modes + "F.webp", "*image.YCbCr", "", 0},
		{modes + "HSV.webp", "*image.YCbCr", "", 0},
		{modes + "I.webp", "*image.YCbCr", "", 0},
		{modes + "LAB.webp", "*image.YCbCr", "", 0},
		{modes + "PA.webp", "*image.YCbCr", "", 0},
		// The pdqhash Python package (PIL decoding, alpha dropped by
		// convert("RGB")) gives this for a grey image with alpha.
		{pythonResources + "LA.png", "*image.NRGBA", "accb6d39648035f8125c8ce6ba65007de7b54c67a2d93ef7b8f33b0611306715", 0},
		// 16-bit grey: the reference's hash (expected-pdq.csv), from the
		// low byte as its 8-bit loader keeps it.
		{pythonResources + "I16.png", "*image.Gray16", "ab5f69b667086480b3c69e7ce7b330b9ce12301a15ba1bac3e7d47bca6502ba4", 0},
		{pythonResources + "rgb.jpeg", "*image.YCbCr [*image.RGBA]", "fb4eed46cb8a6c78819ca06b756c541f7b07ef6d02c82fccd00f862166272cda", 0},
	} {
		want := original
		if c.want != "" {
			var err error
			if want, err = pdq.ParseHex(c.want); err != nil {
				t.Fatal(err)
			}
		}
		for _, mode := range allModes {
			var h pdq.Hasher
			r, img := hashFile(t, &h, c.path, media.Options{JPEG: mode}, false)
			if d := pdq.Distance(r.Hash, want); d > c.dist || r.Quality != 100 {
				t.Errorf("%s %v: %v q=%d, %d bits from %v, want <= %d", c.path, mode, r.Hash, r.Quality, d, want, c.dist)
			}
			typ := fmt.Sprintf("%T", img)
			if turbo(mode) && c.typ[len(c.typ)-1] == ']' {
				typ = "[" + typ + "]"
			}
			if !slices.Contains(strings.Fields(c.typ), typ) {
				t.Errorf("%s %v: decoded to %s, want %s", c.path, mode, typ, c.typ)
			}
		}
	}
}
