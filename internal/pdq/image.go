package pdq

import (
	"encoding/binary"
	"image"
	"image/color"
	"unsafe"
)

// HashImage hashes a decoded image the way the reference pdq-photo-hasher
// hashes a file: an image wider or taller than 512 pixels is first resized
// to 512x512 by nearest neighbour (CImg's default resize), then each pixel's
// luminance is 0.299 R + 0.587 G + 0.114 B in float32, or the grey value
// itself for a greyscale image.
//
// Where the reference has no answer we chose:
//   - alpha is ignored: the colour channels are hashed as stored, as Meta's
//     Python hasher (PIL's convert("RGB")) does; the reference refuses such
//     images, but a service must hash every upload;
//   - CMYK is converted to RGB with color.CMYKToRGB (the reference refuses it);
//   - 16-bit channels keep their low byte, which is what the reference's
//     CImg<uint8_t> loader does, so that lists made with it still match.
//
// Because only the sampled pixels of a large image are read, converting a
// 12-megapixel photograph costs the same as a 512x512 one.
func (h *Hasher) HashImage(img image.Image, dihedral bool) Result {
	xs, ys := h.sampling(img)
	// Each row's luminance is made as the blur reaches it, so the plane is
	// never held whole.
	return h.hashRows(func(i int, scratch []float32) []float32 {
		fillLuma(img, xs, ys[i:i+1], scratch)
		return scratch
	}, len(ys), len(xs), dihedral)
}

// Luma returns the luminance plane the reference hashes for img, after its
// pre-resize. The plane is the Hasher's scratch buffer, valid until the
// next call.
func (h *Hasher) Luma(img image.Image) (luma []float32, rows, cols int) {
	xs, ys := h.sampling(img)
	rows, cols = len(ys), len(xs)
	if cap(h.buf1) < rows*cols {
		h.buf1 = make([]float32, rows*cols)
	}
	luma = h.buf1[:rows*cols]
	fillLuma(img, xs, ys, luma)
	return luma, rows, cols
}

// sampling gives the columns and rows of img that the reference hashes:
// every one, or for images wider or taller than 512, those of CImg's
// nearest-neighbour resize to 512x512 (output i reads input
// floor(i*n/512)). The slices are the Hasher's scratch.
func (h *Hasher) sampling(img image.Image) (xs, ys []int) {
	b := img.Bounds()
	w, ht := b.Dx(), b.Dy()
	resize := w > downsampleDims || ht > downsampleDims
	pick := func(dst []int, n, origin int) []int {
		if !resize {
			dst = grow(dst, n)
			for i := range dst {
				dst[i] = origin + i
			}
			return dst
		}
		dst = grow(dst, downsampleDims)
		for i := range dst {
			dst[i] = origin + i*n/downsampleDims
		}
		return dst
	}
	h.xs, h.ys = pick(h.xs, w, b.Min.X), pick(h.ys, ht, b.Min.Y)
	return h.xs, h.ys
}

// The reference's luminance coefficients.
const lumaCR, lumaCG, lumaCB float32 = 0.299, 0.587, 0.114

// lumaTables hold 0.299*v, 0.587*v and 0.114*v in float32 for every byte v:
// the reference's products, looked up rather than recomputed per pixel.
var lumaR, lumaG, lumaB = func() (r, g, b [256]float32) {
	for v := 0; v < 256; v++ {
		f := float32(v)
		r[v], g[v], b[v] = float32(lumaCR*f), float32(lumaCG*f), float32(lumaCB*f)
	}
	return
}()

// lumaRG holds the reference's first sum, float32(0.299*r) + float32(0.587*g)
// rounded to float32, for every pair: index r | g<<8, a little-endian
// pixel's low 16 bits. One lookup (256 KiB, in the second-level cache)
// replaces two and an addition.
var lumaRG = func() *[1 << 16]float32 {
	t := new([1 << 16]float32)
	for i := range t {
		t[i] = lumaR[uint8(i)] + lumaG[uint8(i>>8)]
	}
	return t
}()

func rgbLuma(r, g, b uint8) float32 {
	return float32(lumaR[r]+lumaG[g]) + lumaB[b]
}

func fillLuma(img image.Image, xs, ys []int, out []float32) {
	cols := len(xs)
	switch m := img.(type) {
	case *image.Gray:
		for i, y := range ys {
			row := m.Pix[(y-m.Rect.Min.Y)*m.Stride:]
			o := out[i*cols:]
			for j, x := range xs {
				o[j] = float32(row[x-m.Rect.Min.X])
			}
		}
	case *image.Gray16:
		for i, y := range ys {
			row := m.Pix[(y-m.Rect.Min.Y)*m.Stride:]
			o := out[i*cols:]
			for j, x := range xs {
				o[j] = float32(row[2*(x-m.Rect.Min.X)+1])
			}
		}
	case *image.RGBA:
		rgbaLuma(m.Pix, m.Stride, 0, 4, 1, xs, ys, m.Rect.Min, out)
	case *image.NRGBA:
		rgbaLuma(m.Pix, m.Stride, 0, 4, 1, xs, ys, m.Rect.Min, out)
	case *image.RGBA64:
		rgbaLuma(m.Pix, m.Stride, 1, 8, 2, xs, ys, m.Rect.Min, out)
	case *image.NRGBA64:
		rgbaLuma(m.Pix, m.Stride, 1, 8, 2, xs, ys, m.Rect.Min, out)
	case *image.YCbCr:
		ycbcrLuma(m, xs, ys, out)
	case *image.NYCbCrA:
		ycbcrLuma(&m.YCbCr, xs, ys, out)
	case *image.Paletted:
		var pal [256]float32
		for i, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[i] = rgbLuma(n.R, n.G, n.B)
		}
		for i, y := range ys {
			row := m.Pix[(y-m.Rect.Min.Y)*m.Stride:]
			o := out[i*cols:]
			for j, x := range xs {
				o[j] = pal[row[x-m.Rect.Min.X]]
			}
		}
	default:
		for i, y := range ys {
			o := out[i*cols:]
			for j, x := range xs {
				var r, g, b uint8
				switch c := img.At(x, y).(type) {
				case color.CMYK:
					r, g, b = color.CMYKToRGB(c.C, c.M, c.Y, c.K)
				default:
					n := color.NRGBAModel.Convert(c).(color.NRGBA)
					r, g, b = n.R, n.G, n.B
				}
				o[j] = rgbLuma(r, g, b)
			}
		}
	}
}

// rgbaLuma reads interleaved channels: pixel (x, y) has red at
// base + (y-min.Y)*stride + (x-min.X)*pixSize, then green and blue step
// chanSize further. For 16-bit images base points at the low byte.
func rgbaLuma(pix []uint8, stride, base, pixSize, chanSize int, xs, ys []int, min image.Point, out []float32) {
	cols := len(xs)
	if cols == 0 {
		return
	}
	for i, y := range ys {
		row := pix[base+(y-min.Y)*stride:]
		o := out[i*cols : (i+1)*cols]
		if pixSize != 4 {
			for j, x := range xs {
				p := row[(x-min.X)*pixSize:]
				o[j] = rgbLuma(p[0], p[chanSize], p[2*chanSize])
			}
			continue
		}
		// 8-bit RGBA: one 32-bit load a pixel.
		if xs[cols-1]-xs[0] == cols-1 { // every pixel of the row
			row = row[(xs[0]-min.X)*4:]
			row = row[:4*cols]
			if n := cols &^ 7; useSIMD && n > 0 {
				lumaAVX2(&o[0], &row[0], n, lumaCR, lumaCG, lumaCB)
				o, row = o[n:], row[4*n:]
			}
			for j := range o {
				v := binary.LittleEndian.Uint32(row[4*j:])
				o[j] = lumaRG[uint16(v)] + lumaB[uint8(v>>16)]
			}
			continue
		}
		if useSIMD && cols >= 8 {
			// The sampled pixels, gathered into out's own row, then
			// converted in place.
			px := unsafe.Slice((*uint32)(unsafe.Pointer(&o[0])), cols)
			// xs rises, so its last pixel bounds every read (and this
			// check panics, as the slicing would, on a short row).
			_ = row[(xs[cols-1]-min.X)*4+3]
			base := unsafe.Pointer(unsafe.SliceData(row))
			for j, x := range xs {
				px[j] = *(*uint32)(unsafe.Add(base, (x-min.X)*4)) // little-endian, as the pixel is
			}
			n := cols &^ 7
			lumaAVX2(&o[0], (*byte)(unsafe.Pointer(&px[0])), n, lumaCR, lumaCG, lumaCB)
			for j := n; j < cols; j++ {
				v := px[j]
				o[j] = lumaRG[uint16(v)] + lumaB[uint8(v>>16)]
			}
			continue
		}
		for j, x := range xs {
			v := binary.LittleEndian.Uint32(row[(x-min.X)*4:])
			o[j] = lumaRG[uint16(v)] + lumaB[uint8(v>>16)]
		}
	}
}

// HashRGB24 hashes packed 8-bit RGB pixels (rows x cols, stride bytes from
// one row to the next) at their own size, with no pre-resize: the
// reference's vPDQ hashes each video frame this way (fillFloatLumaFromRGB,
// then pdqHash256FromFloatLuma on the full-resolution plane), so that frame
// hashes match its lists bit for bit.
func (h *Hasher) HashRGB24(pix []byte, stride, rows, cols int) Result {
	if rows <= 0 || cols <= 0 || stride < 3*cols || len(pix) < (rows-1)*stride+3*cols {
		return Result{}
	}
	luma := h.rgbLuma24(pix, stride, rows, cols)
	return h.HashLuma(luma, rows, cols, false)
}

// FloatRGB24 is PDQF, the reference's pdqFloat256FromFloatLuma on packed
// RGB24 pixels: the 16x16 DCT coefficients PDQ would binarise, before the
// median threshold, written to out, and the frame's quality. TMK+PDQF
// builds its video features from these floats (internal/tmk), so that it
// keeps how strongly each frequency is present, not only its sign. A frame
// of exactly 64x64 (what ffmpeg gives TMK) skips the blur, as the
// reference does.
func (h *Hasher) FloatRGB24(pix []byte, stride, rows, cols int, out *[16][16]float32) int {
	*out = [16][16]float32{}
	if rows < minHashableDim || cols < minHashableDim || stride < 3*cols || len(pix) < (rows-1)*stride+3*cols {
		return 0
	}
	luma := h.rgbLuma24(pix, stride, rows, cols)
	b64 := &h.b64
	if rows == 64 && cols == 64 {
		for i := range b64 {
			copy(b64[i][:], luma[i*64:(i+1)*64])
		}
	} else {
		h.blurDecimateRows(func(i int, _ []float32) []float32 { return luma[i*cols : (i+1)*cols] }, rows, cols, b64)
	}
	dct64To16(b64, out)
	return quality(b64)
}

// rgbLuma24 is the reference's fillFloatLumaFromRGB into h.buf1.
func (h *Hasher) rgbLuma24(pix []byte, stride, rows, cols int) []float32 {
	if cap(h.buf1) < rows*cols {
		h.buf1 = make([]float32, rows*cols)
	}
	luma := h.buf1[:rows*cols]
	for y := 0; y < rows; y++ {
		row := pix[y*stride : y*stride+3*cols]
		o := luma[y*cols : (y+1)*cols]
		for x := range o {
			o[x] = rgbLuma(row[3*x], row[3*x+1], row[3*x+2])
		}
	}
	return luma
}
