package pdq_test

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// The point of PDQ: a repost that was re-encoded, shrunk, cropped, rotated,
// mirrored, brightened or captioned stays within the default match radius
// of the original (directly or through one of its dihedral hashes), and
// different pictures stay far apart.
func TestTransformsStayNear(t *testing.T) {
	const radius = 31
	originals := []string{
		"pdq/data/bridge-mods/aaa-orig.jpg",
		"pdq/data/reg-test-input/exif-rotn/exif-rotn-6.jpg",
		"python-threatexchange/threatexchange/tests/hashing/resources/letterboxed_sample-b.jpg",
		"pdq/data/reg-test-input/labelme-subset/q2821.jpg",
	}
	transforms := []struct {
		name string
		f    func(image.Image) image.Image
	}{
		{"jpeg quality 20", func(m image.Image) image.Image { return reencode(t, m, 20) }},
		{"halved", halve},
		// PDQ's low frequencies move with the frame: a crop of 5% already
		// costs 40 to 54 bits on these photographs (docs/pdq.md), so 2% is
		// what the hash itself tolerates.
		{"cropped 2%", func(m image.Image) image.Image { return crop(m, 0.02) }},
		{"rotated 90", rotate90},
		{"mirrored", mirror},
		{"brightened", func(m image.Image) image.Image { return brighten(m, 40) }},
		{"captioned", caption},
	}
	var h pdq.Hasher
	var all []pdq.Hash
	for _, name := range originals {
		orig := decodeFile(t, name)
		ref := h.HashImage(orig, true)
		all = append(all, ref.Hash)
		for _, tr := range transforms {
			got := h.HashImage(tr.f(orig), false)
			best, via := 257, pdq.Original
			for d, dh := range ref.Dihedral {
				if dist := pdq.Distance(got.Hash, dh); dist < best {
					best, via = dist, pdq.Dihedral(d)
				}
			}
			t.Logf("%s %s: distance %d via %v", name, tr.name, best, via)
			if best > radius {
				t.Errorf("%s %s: distance %d (via %v), want <= %d", name, tr.name, best, via, radius)
			}
		}
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if d := pdq.Distance(all[i], all[j]); d < 90 {
				t.Errorf("%s and %s: distance %d, want unrelated images far apart", originals[i], originals[j], d)
			}
		}
	}
}

// A pixel-exact rotation or reflection of an image is predicted by the
// matching dihedral hash of the original, and by no other: within 20 bits,
// since the reference's pre-resize and decimation grid are not exactly
// symmetric (its own rotated sample lands 14 bits from the prediction).
func TestDihedralPredictsTransform(t *testing.T) {
	var h pdq.Hasher
	orig := decodeFile(t, "pdq/data/bridge-mods/aaa-orig.jpg")
	ref := h.HashImage(orig, true)
	for _, c := range []struct {
		d pdq.Dihedral
		f func(image.Image) image.Image
	}{
		{pdq.Rotate90, rotate90},
		{pdq.Rotate180, func(m image.Image) image.Image { return rotate90(rotate90(m)) }},
		{pdq.Rotate270, func(m image.Image) image.Image { return rotate90(rotate90(rotate90(m))) }},
		{pdq.FlipY, mirror},
		{pdq.FlipX, func(m image.Image) image.Image { return rotate90(rotate90(mirror(m))) }},
		{pdq.FlipPlus1, func(m image.Image) image.Image { return rotate90(mirror(m)) }},
		{pdq.FlipMinus1, func(m image.Image) image.Image { return mirror(rotate90(m)) }},
	} {
		got := h.HashImage(c.f(orig), false).Hash
		for d, dh := range ref.Dihedral {
			dist := pdq.Distance(got, dh)
			if pdq.Dihedral(d) == c.d && dist > 20 {
				t.Errorf("%v: distance %d from the predicted hash", c.d, dist)
			}
			if pdq.Dihedral(d) != c.d && dist <= 31 {
				t.Errorf("%v: within %d of the %v hash too", c.d, dist, pdq.Dihedral(d))
			}
		}
	}
}

func toRGBA(m image.Image) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.Bounds().Dx(), m.Bounds().Dy()))
	draw.Draw(out, out.Rect, m, m.Bounds().Min, draw.Src)
	return out
}

func reencode(t *testing.T, m image.Image, q int) image.Image {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	out, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func halve(m image.Image) image.Image {
	src := toRGBA(m)
	w, h := src.Rect.Dx()/2, src.Rect.Dy()/2
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 4; c++ {
				s := 0
				for _, p := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					s += int(src.Pix[src.PixOffset(2*x+p[0], 2*y+p[1])+c])
				}
				out.Pix[out.PixOffset(x, y)+c] = uint8(s / 4)
			}
		}
	}
	return out
}

// crop cuts frac of the height and width, split between the edges.
func crop(m image.Image, frac float64) image.Image {
	b := m.Bounds()
	dx, dy := int(float64(b.Dx())*frac/2), int(float64(b.Dy())*frac/2)
	return toRGBA(m).SubImage(image.Rect(dx, dy, b.Dx()-dx, b.Dy()-dy))
}

// rotate90 turns an image a quarter counterclockwise, the reference's
// "rotate 90" (its sample dih/bridge-2-rotate-90.jpg).
func rotate90(m image.Image) image.Image {
	src := toRGBA(m)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	out := image.NewRGBA(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Set(y, w-1-x, src.At(x, y))
		}
	}
	return out
}

func mirror(m image.Image) image.Image {
	src := toRGBA(m)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	out := image.NewRGBA(src.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Set(w-1-x, y, src.At(x, y))
		}
	}
	return out
}

func brighten(m image.Image, by int) image.Image {
	out := toRGBA(m)
	for i := range out.Pix {
		if i%4 != 3 {
			out.Pix[i] = uint8(min(255, int(out.Pix[i])+by))
		}
	}
	return out
}

// caption writes a line of meme-style "letters" (white strokes outlined in
// black) along the bottom: a line a sixteenth of the height tall across the
// middle 60% of the width.
func caption(m image.Image) image.Image {
	out := toRGBA(m)
	w, h := out.Rect.Dx(), out.Rect.Dy()
	lh := max(h/16, 5)
	top := h - 2*lh
	lw := max(lh*2/3, 3)
	stroke := max(lw/4, 1)
	for x := w / 5; x+lw < w*4/5; x += lw + lw/2 {
		outline := image.Rect(x-1, top-1, x+lw+1, top+lh+1)
		draw.Draw(out, outline, image.NewUniform(color.Black), image.Point{}, draw.Src)
		// An "E": a vertical stroke and three bars.
		for _, r := range []image.Rectangle{
			image.Rect(x, top, x+stroke, top+lh),
			image.Rect(x, top, x+lw, top+stroke),
			image.Rect(x, top+lh/2-stroke/2, x+lw, top+lh/2+stroke-stroke/2),
			image.Rect(x, top+lh-stroke, x+lw, top+lh),
		} {
			draw.Draw(out, r, image.NewUniform(color.White), image.Point{}, draw.Src)
		}
	}
	return out
}
