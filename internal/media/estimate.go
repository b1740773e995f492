package media

import (
	"bytes"
	"encoding/binary"
	"image/color"
)

// The memory a decode holds at its peak is estimated from the header alone,
// so that a few hundred bytes claiming 100 megapixels cannot make the
// server allocate gigabytes before anyone looks. The figures are the
// decoders' own allocations (checked against measured peak RSS by
// `go test -bench Bomb ./internal/hasher`, see docs/hostile.md), rounded
// up: an estimate that is too high refuses or delays an image, one too low
// lets a bomb through.

// decodeOverhead covers what every decode holds whatever the image: the
// decoder's state and tables, the PDQ hasher's buffers.
const decodeOverhead = 4 << 20

// estimate returns the peak bytes decoding data (of format f and size w x h,
// already checked) with opt will hold.
func estimate(f Format, data []byte, w, h int, opt Options) int64 {
	px := int64(w) * int64(h)
	var n int64
	switch f {
	case JPEG:
		n = jpegEstimate(data, w, h, opt)
	case PNG:
		n = pngEstimate(data, w, h, opt)
	case GIF:
		n = px // one byte a pixel of the first frame; LZW state is small
	case WebP:
		// Lossy VP8 decodes to 4:2:0 YCbCr, with alpha one more plane;
		// lossless VP8L to NRGBA through a buffer of ARGB words.
		n = px * 4
		if isVP8L(data) {
			n = px * 8
		}
	case BMP:
		n = px * int64(bmpBytesPerPixel(data))
	case TIFF:
		// x/image/tiff inflates every strip into one buffer (which
		// io.ReadAll grows by doubling, so up to twice its size, with a
		// copy) and then converts into the image.
		out := int64(goBytesPerPixel(f, data))
		n = px*out + 4*px*out
	}
	return n + decodeOverhead
}

// jpegFrame is what an estimate needs of a JPEG's frame header.
type jpegFrame struct {
	progressive bool // SOF2 (or SOF6, SOF10, SOF14): every coefficient held at once
	arithmetic  bool
	w, h        int
	comps       [][2]int // h and v sampling factors
}

// readJPEGFrame finds the frame header (SOFn) of a JPEG. ok is false when
// there is none before the first scan or the data ends.
func readJPEGFrame(data []byte) (f jpegFrame, ok bool) {
	pos := 2
	for pos+4 <= len(data) {
		if data[pos] != 0xff {
			return f, false
		}
		m := data[pos+1]
		if m == 0xff { // fill byte
			pos++
			continue
		}
		if m == 0x01 || m >= 0xd0 && m <= 0xd8 { // no length
			pos += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[pos+2:]))
		if n < 2 || pos+2+n > len(data) {
			return f, false
		}
		seg := data[pos+4 : pos+2+n]
		switch {
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			if len(seg) < 6 {
				return f, false
			}
			f.progressive = m&3 == 2
			f.arithmetic = m >= 0xc8
			f.h, f.w = int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:]))
			nc := int(seg[5])
			if len(seg) < 6+3*nc || nc == 0 {
				return f, false
			}
			for i := range nc {
				hv := seg[6+3*i+1]
				f.comps = append(f.comps, [2]int{max(1, int(hv>>4)), max(1, int(hv&15))})
			}
			return f, true
		case m == 0xda, m == 0xd9:
			return f, false
		}
		pos += 2 + n
	}
	return f, false
}

// blocks is the number of 8x8 coefficient blocks each component of the
// frame has, padded to whole MCUs as decoders allocate them.
func (f jpegFrame) blocks() int64 {
	hmax, vmax := 1, 1
	for _, c := range f.comps {
		hmax, vmax = max(hmax, c[0]), max(vmax, c[1])
	}
	mcuX := int64((f.w + 8*hmax - 1) / (8 * hmax))
	mcuY := int64((f.h + 8*vmax - 1) / (8 * vmax))
	var n int64
	for _, c := range f.comps {
		n += mcuX * int64(c[0]) * mcuY * int64(c[1])
	}
	return n
}

func jpegEstimate(data []byte, w, h int, opt Options) int64 {
	f, ok := readJPEGFrame(data)
	if !ok {
		// The decoder will fail on it; count the worst a full-size decode
		// of three components could hold.
		f = jpegFrame{progressive: true, w: w, h: h, comps: [][2]int{{1, 1}, {1, 1}, {1, 1}}}
	}
	channels := int64(len(f.comps))
	if opt.Grey {
		channels = 1
	}
	var out, coef int64
	if opt.usesTurbo() {
		denom := 1
		if opt.JPEG == JPEGAuto || opt.JPEG == JPEGTurboScaled {
			denom = ScaleDenom(w, h, opt.minSide())
		}
		ow, oh := (w+denom-1)/denom, (h+denom-1)/denom
		out = int64(ow) * int64(oh) * 4 // RGBA or CMYK
		if opt.ForPDQ && (ow > pdqSide || oh > pdqSide) {
			out = pdqSide * pdqSide * 4
		}
		if f.progressive {
			coef = f.blocks() * 64 * 2 // libjpeg's JCOEF is 16 bits
		} else {
			coef = int64(w) * 16 * channels * 4 // an MCU row per component, and its context
		}
	} else {
		out = int64(w) * int64(h) * channels // image/jpeg, full size
		if f.progressive {
			coef = f.blocks() * 64 * 4 // image/jpeg keeps int32 coefficients
		} else if opt.JPEG == JPEGGoScaled || opt.JPEG == JPEGAuto {
			denom := ScaleDenom(w, h, opt.minSide())
			out = int64((w+denom-1)/denom) * int64((h+denom-1)/denom) * channels
		}
	}
	return out + coef
}

// minJPEGBytes is the fewest bytes of entropy-coded data that can encode
// the frame: every block of every component needs at least one bit (its DC
// code) in a Huffman-coded scan. Arithmetic coding can go below that, so
// there is no floor for it.
func (f jpegFrame) minBytes() int64 {
	if f.arithmetic {
		return 0
	}
	return f.blocks() / 8
}

// pngIHDR reads a PNG's header: bit depth, colour type, interlace.
func pngIHDR(data []byte) (depth, colorType byte, interlaced, ok bool) {
	// 8 signature, 4 length, "IHDR", 4 width, 4 height, depth, colour type,
	// compression, filter, interlace.
	if len(data) < 29 || string(data[12:16]) != "IHDR" {
		return 0, 0, false, false
	}
	return data[24], data[25], data[28] == 1, true
}

func pngEstimate(data []byte, w, h int, opt Options) int64 {
	depth, ct, interlaced, ok := pngIHDR(data)
	if !ok {
		return int64(w) * int64(h) * 8
	}
	if opt.ForPDQ && !interlaced && (w > pdqSide || h > pdqSide) {
		// pngSample keeps two rows and the 512x512 sample.
		return 2*int64(pngRowBytes(w, depth, ct)) + pdqSide*pdqSide*4
	}
	return int64(w) * int64(h) * int64(goBytesPerPixel(PNG, data))
}

// pngChannels is the samples per pixel of a PNG colour type.
func pngChannels(colorType byte) int {
	switch colorType {
	case 2:
		return 3
	case 4:
		return 2
	case 6:
		return 4
	}
	return 1 // grey, palette
}

func pngRowBytes(w int, depth, colorType byte) int {
	return (w*pngChannels(colorType)*int(depth) + 7) / 8
}

// goBytesPerPixel is the size of a pixel in the image Go's decoder for f
// returns, from its colour model.
func goBytesPerPixel(f Format, data []byte) int {
	c, err := goConfig(f, data)
	if err != nil {
		return 8
	}
	switch c.ColorModel {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	}
	if _, ok := c.ColorModel.(color.Palette); ok {
		return 1
	}
	return 8
}

// bmpBytesPerPixel: x/image/bmp gives paletted images for 8 bits and
// fewer, RGBA for the rest.
func bmpBytesPerPixel(data []byte) int {
	if len(data) >= 30 && binary.LittleEndian.Uint16(data[28:]) <= 8 {
		return 1
	}
	return 4
}

// isVP8L reports a lossless WebP, alone or in an extended file.
func isVP8L(data []byte) bool {
	return bytes.Contains(data[:min(len(data), 64)], []byte("VP8L"))
}
