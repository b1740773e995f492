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

func ycbcrLuma(m *image.YCbCr, xs, ys []int, out []float32) {
	cols := len(xs)
	for i, y := range ys {
		o := out[i*cols:]
		for j, x := range xs {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			o[j] = rgbLuma(ycbcrRGB(m.Y[yi], m.Cb[ci], m.Cr[ci]))
		}
	}
}
