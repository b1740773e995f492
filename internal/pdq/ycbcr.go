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
// Neighbours past the edge of the chroma plane repeat the edge sample, as
// libjpeg's context rows and edge columns do.
func ycbcrLuma(m *image.YCbCr, xs, ys []int, out []float32) {
	hs, vs := 0, 0 // 2 where that axis is subsampled and fancy-upsampled
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio422:
		hs = 2
	case image.YCbCrSubsampleRatio440:
		vs = 2
	}
	if hs == 0 && vs == 0 {
		cols := len(xs)
		for i, y := range ys {
			o := out[i*cols:]
			for j, x := range xs {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				o[j] = rgbLuma(ycbcrRGB(m.Y[yi], m.Cb[ci], m.Cr[ci]))
			}
		}
		return
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := w, h
	if hs == 2 {
		cw = (w + 1) / 2
	}
	if vs == 2 {
		ch = (h + 1) / 2
	}
	base := m.COffset(m.Rect.Min.X, m.Rect.Min.Y)
	// Per sampled column: its chroma column, the neighbour the filter mixes
	// in, and the rounding bias libjpeg uses for that output phase.
	n := len(xs)
	cx, nx, bias := make([]int, n), make([]int, n), make([]int32, n)
	for j, x := range xs {
		x -= m.Rect.Min.X
		if hs == 0 {
			cx[j], nx[j] = x, x
			continue
		}
		cx[j] = x / 2
		if x&1 == 0 {
			nx[j], bias[j] = max(cx[j]-1, 0), 8
		} else {
			nx[j], bias[j] = min(cx[j]+1, cw-1), 7
		}
		if vs == 0 { // h2v1: (3*this + neighbour + 1 or 2) >> 2
			bias[j] = 1 + int32(x&1)
		}
	}
	for i, y := range ys {
		y -= m.Rect.Min.Y
		o := out[i*n:]
		yrow := m.Y[(y)*m.YStride:]
		if vs == 0 {
			cbr := m.Cb[base+y*m.CStride:]
			crr := m.Cr[base+y*m.CStride:]
			for j, x := range xs {
				c, nb, b := cx[j], nx[j], bias[j]
				cb := uint8((3*int32(cbr[c]) + int32(cbr[nb]) + b) >> 2)
				cr := uint8((3*int32(crr[c]) + int32(crr[nb]) + b) >> 2)
				o[j] = rgbLuma(ycbcrRGB(yrow[x-m.Rect.Min.X], cb, cr))
			}
			continue
		}
		cy := y / 2
		other, vbias := max(cy-1, 0), int32(1)
		if y&1 == 1 {
			other, vbias = min(cy+1, ch-1), 2
		}
		cb0, cb1 := m.Cb[base+cy*m.CStride:], m.Cb[base+other*m.CStride:]
		cr0, cr1 := m.Cr[base+cy*m.CStride:], m.Cr[base+other*m.CStride:]
		if hs == 0 { // h1v2: (3*this row + other row + 1 or 2) >> 2
			for j, x := range xs {
				c := cx[j]
				cb := uint8((3*int32(cb0[c]) + int32(cb1[c]) + vbias) >> 2)
				cr := uint8((3*int32(cr0[c]) + int32(cr1[c]) + vbias) >> 2)
				o[j] = rgbLuma(ycbcrRGB(yrow[x-m.Rect.Min.X], cb, cr))
			}
			continue
		}
		// h2v2: column sums 3*this row + other row, then 3*this + neighbour.
		for j, x := range xs {
			c, nb, b := cx[j], nx[j], bias[j]
			cbThis := 3*int32(cb0[c]) + int32(cb1[c])
			cbNext := 3*int32(cb0[nb]) + int32(cb1[nb])
			crThis := 3*int32(cr0[c]) + int32(cr1[c])
			crNext := 3*int32(cr0[nb]) + int32(cr1[nb])
			cb := uint8((3*cbThis + cbNext + b) >> 4)
			cr := uint8((3*crThis + crNext + b) >> 4)
			o[j] = rgbLuma(ycbcrRGB(yrow[x-m.Rect.Min.X], cb, cr))
		}
	}
}
