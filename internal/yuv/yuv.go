// Package yuv converts decoded video frames (8-bit YUV 4:2:0) to RGB24 the
// way the server's vPDQ does: swscale's C converter with BT.601
// limited-range coefficients, whatever the stream's colour tags say, as
// the reference vpdq-hash-video (which never sets a colour space) does.
// Report Remove's page uses it on the raw planes a browser's decoder gives
// (WebCodecs VideoFrame.copyTo), so that its frames are the server's
// rather than the browser's own colour conversion, which picks BT.709 for
// some untagged videos. It imports nothing of ours, so the WebAssembly
// hasher can use it.
package yuv

import "fmt"

// The tables are swscale's unscaled YUV->RGB24 converter's (libswscale's
// ff_yuv2rgb_c_init_tables for 24 bpp, limited range, no brightness,
// contrast or saturation change), computed once: integer arithmetic
// throughout, so that the result is bit for bit that converter's.
var (
	yTable         [1024]uint8
	rV, gU, gV, bU [256]int32 // offsets into yTable; G adds gU and gV
	_              = initTables()
)

func initTables() bool {
	// BT.601 (swscale's SWS_CS_DEFAULT) inverse coefficients, 16.16.
	const (
		crv0, cbu0, cgu0, cgv0 = 104597, 132201, -25675, -53279
		yoffs                  = 326 // swscale's offset into its y table for limited range
	)
	cy := int64(1<<16) * 255 / 219
	oy := int64(16 << 16)
	scale := func(c int64) int64 { return ((c << 16) + 0x8000) / cy }
	crv, cbu, cgu, cgv := scale(crv0), scale(cbu0), scale(cgu0), scale(cgv0)
	yb := -(int64(384) << 16) - oy
	for i := range yTable {
		yTable[i] = clip((yb + 0x8000) >> 16)
		yb += cy
	}
	for v := range int64(256) {
		rV[v] = int32(yoffs - (crv >> 9) + (v*crv)>>16)
		bU[v] = int32(yoffs - (cbu >> 9) + (v*cbu)>>16)
		gU[v] = int32(yoffs - (cgu >> 9) + (v*cgu)>>16)
		gV[v] = int32(-(cgv >> 9) + (v*cgv)>>16)
	}
	return true
}

func clip(v int64) uint8 {
	return uint8(min(max(v, 0), 255))
}

// Frame is one 8-bit 4:2:0 frame: a full-size luma plane and two
// half-size chroma planes, each with its own stride. U and V may be the
// same slice with UVStep 2 (NV12: interleaved chroma, U first).
type Frame struct {
	Width, Height int
	Y             []byte
	YStride       int
	U, V          []byte
	UVStride      int
	UVStep        int // bytes from one chroma sample to the next in a row: 1 (I420) or 2 (NV12)
}

// Check says what is wrong with f's sizes, or nil: every plane holds the
// rows and columns its size needs, so RGB24 can index them unchecked.
func (f *Frame) Check() error {
	if f.Width <= 0 || f.Height <= 0 {
		return fmt.Errorf("yuv: frame of %dx%d", f.Width, f.Height)
	}
	if f.UVStep != 1 && f.UVStep != 2 {
		return fmt.Errorf("yuv: chroma step %d, want 1 or 2", f.UVStep)
	}
	cw, ch := (f.Width+1)/2, (f.Height+1)/2
	if f.YStride < f.Width || len(f.Y) < (f.Height-1)*f.YStride+f.Width {
		return fmt.Errorf("yuv: luma plane of %d bytes (stride %d) too small for %dx%d", len(f.Y), f.YStride, f.Width, f.Height)
	}
	need := (cw-1)*f.UVStep + 1
	if f.UVStride < need || len(f.U) < (ch-1)*f.UVStride+need || len(f.V) < (ch-1)*f.UVStride+need {
		return fmt.Errorf("yuv: chroma planes of %d and %d bytes (stride %d) too small for %dx%d", len(f.U), len(f.V), f.UVStride, f.Width, f.Height)
	}
	return nil
}

// RGB24 converts f to packed RGB24 in dst (3·Width·Height bytes, made when
// too small) and returns it. Each chroma sample colours the 2x2 pixels it
// covers, unfiltered, as swscale's unscaled converter does. f must pass
// Check.
func (f *Frame) RGB24(dst []byte) []byte {
	n := 3 * f.Width * f.Height
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	for y := range f.Height {
		yrow := f.Y[y*f.YStride:]
		crow := (y / 2) * f.UVStride
		out := dst[3*y*f.Width:]
		for x := range f.Width {
			c := crow + (x/2)*f.UVStep
			u, v := f.U[c], f.V[c]
			l := int32(yrow[x])
			out[3*x] = yTable[rV[v]+l]
			out[3*x+1] = yTable[gU[u]+gV[v]+l]
			out[3*x+2] = yTable[bU[u]+l]
		}
	}
	return dst
}
