package pdq

import "image"

// libjpeg's YCbCr to RGB conversion (jdcolor.c): 16-bit fixed point with
// per-value tables. The reference hasher decodes JPEGs with libjpeg, so
// converting Go-decoded YCbCr the same way keeps our hashes nearest to its.
const (
	yccScaleBits = 16
	yccHalf      = 1 << (yccScaleBits - 1)
)

func yccFix(x float64) int32 { return int32(x*(1<<yccScaleBits) + 0.5) }

var crR, cbB, crG, cbG = func() (crR, cbB, crG, cbG [256]int32) {
	for i := 0; i < 256; i++ {
		x := int32(i - 128)
		crR[i] = (yccFix(1.40200)*x + yccHalf) >> yccScaleBits
		cbB[i] = (yccFix(1.77200)*x + yccHalf) >> yccScaleBits
		crG[i] = -yccFix(0.71414) * x
		cbG[i] = -yccFix(0.34414)*x + yccHalf
	}
	return
}()

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// ycbcrRGB converts one pixel as libjpeg's ycc_rgb_convert does.
func ycbcrRGB(y, cb, cr uint8) (r, g, b uint8) {
	yy := int32(y)
	return clamp8(yy + crR[cr]), clamp8(yy + (cbG[cb]+crG[cr])>>yccScaleBits), clamp8(yy + cbB[cb])
}

// ycbcrLuma converts the sampled pixels to luminance through RGB. Chroma
// is upsampled as libjpeg's default "fancy" upsampling does (a triangle
// filter between neighbouring chroma samples) for the common 4:2:0, 4:2:2
// and 4:4:0 layouts; other layouts replicate, as Go's decoder does.
func ycbcrLuma(m *image.YCbCr, xs, ys []int, out []float32) {
	cols := len(xs)
	var up chromaUpsampler
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		up = fancy(m, 2, 2)
	case image.YCbCrSubsampleRatio422:
		up = fancy(m, 2, 1)
	case image.YCbCrSubsampleRatio440:
		up = fancy(m, 1, 2)
	}
	for i, y := range ys {
		o := out[i*cols:]
		for j, x := range xs {
			yv := m.Y[m.YOffset(x, y)]
			var cb, cr uint8
			if up != nil {
				cb, cr = up(x-m.Rect.Min.X, y-m.Rect.Min.Y)
			} else {
				ci := m.COffset(x, y)
				cb, cr = m.Cb[ci], m.Cr[ci]
			}
			o[j] = rgbLuma(ycbcrRGB(yv, cb, cr))
		}
	}
}

// chromaUpsampler gives the Cb and Cr of full-resolution pixel (x, y),
// counted from the image's top-left corner.
type chromaUpsampler func(x, y int) (cb, cr uint8)

// fancy returns libjpeg's fancy upsampler for chroma subsampled by hs
// horizontally and vs vertically (each 1 or 2). Neighbours past the edge of
// the chroma plane repeat the edge sample, as libjpeg's context rows and
// edge columns do.
func fancy(m *image.YCbCr, hs, vs int) chromaUpsampler {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := (w+hs-1)/hs, (h+vs-1)/vs
	// Chroma sample (cx, cy) of the image, whatever Rect.Min is.
	base := m.COffset(m.Rect.Min.X, m.Rect.Min.Y)
	at := func(p []uint8, cx, cy int) int32 {
		cx = max(0, min(cx, cw-1))
		cy = max(0, min(cy, ch-1))
		return int32(p[base+cy*m.CStride+cx])
	}
	// colSum is the vertical half of the filter: 3 parts the nearer chroma
	// row, 1 part the other neighbour (or the row itself when vs == 1).
	colSum := func(p []uint8, cx, y int) int32 {
		if vs == 1 {
			return at(p, cx, y)
		}
		cy := y / 2
		other := cy - 1
		if y&1 == 1 {
			other = cy + 1
		}
		return 3*at(p, cx, cy) + at(p, cx, other)
	}
	sample := func(p []uint8, x, y int) uint8 {
		switch {
		case hs == 2 && vs == 2:
			cx := x / 2
			this := colSum(p, cx, y)
			if x&1 == 0 {
				return uint8((3*this + colSum(p, cx-1, y) + 8) >> 4)
			}
			return uint8((3*this + colSum(p, cx+1, y) + 7) >> 4)
		case hs == 2:
			cx := x / 2
			this := at(p, cx, y)
			if x&1 == 0 {
				return uint8((3*this + at(p, cx-1, y) + 1) >> 2)
			}
			return uint8((3*this + at(p, cx+1, y) + 2) >> 2)
		default: // vs == 2
			bias := int32(1)
			if y&1 == 1 {
				bias = 2
			}
			return uint8((colSum(p, x, y) + bias) >> 2)
		}
	}
	return func(x, y int) (uint8, uint8) { return sample(m.Cb, x, y), sample(m.Cr, x, y) }
}
