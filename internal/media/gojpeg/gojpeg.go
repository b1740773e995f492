// Package gojpeg decodes baseline JPEGs in pure Go the way libjpeg-turbo
// does with its default settings: the same integer inverse DCTs, at full
// size (jpeg_idct_islow) or scaled by 1/2, 1/4 or 1/8 in the DCT domain
// (jpeg_idct_4x4, 2x2 and 1x1), so that the YCbCr planes it returns are the
// ones libjpeg-turbo upsamples and converts. internal/pdq does that
// upsampling and conversion as libjpeg does, so builds without cgo (the
// browser's WebAssembly among them) hash as the libjpeg-turbo builds do.
//
// It reads what phones and cameras write: baseline or extended sequential
// Huffman-coded, 8-bit, greyscale or YCbCr sampled 4:4:4, 4:2:2, 4:4:0 or
// 4:2:0, one interleaved scan, restart markers. Anything else
// (progressive, arithmetic coding, CMYK, RGB, other samplings) gives an
// error wrapping ErrUnsupported, and callers fall back to image/jpeg.
// It imports nothing of ours.
package gojpeg

import (
	"errors"
	"fmt"
	"image"
	"io"
)

// ErrUnsupported is wrapped by the errors for JPEGs this package leaves to
// image/jpeg.
var ErrUnsupported = errors.New("gojpeg: unsupported JPEG")

// FormatError reports invalid JPEG data.
type FormatError string

func (e FormatError) Error() string { return "gojpeg: invalid JPEG: " + string(e) }

func unsupported(what string) error { return fmt.Errorf("%w: %s", ErrUnsupported, what) }

type component struct {
	id, h, v, tq int
	dcTable      int
	acTable      int
	pred         int32
	scale        int // pixels a block side decodes to
	plane        []uint8
	stride       int
}

type decoder struct {
	data []byte
	pos  int

	width, height int
	comps         []component
	hmax, vmax    int
	quant         [4][64]int32 // natural order
	haveQuant     [4]bool
	dc, ac        [4]huffTable
	restart       int
	adobe         bool
	transform     byte
	jfif          bool
	frame         bool

	bits bitReader
}

// Decode decodes data scaled by 1/denom (1, 2, 4 or 8). It refuses an image
// whose frame header claims more than maxPixels pixels before allocating
// any. Errors: io.ErrUnexpectedEOF when the data ends early, FormatError,
// or one wrapping ErrUnsupported.
//
// The result is an *image.Gray or an *image.YCbCr whose planes are
// libjpeg-turbo's before upsampling. When scaling, libjpeg decodes
// subsampled chroma at a larger scale than luma where it can (a scaled
// 4:2:0 image comes back 4:4:4), and at 1/8 it replicates chroma rather
// than filter it, so there chroma comes back replicated, as 4:4:4.
func Decode(data []byte, denom int, maxPixels int64) (image.Image, error) {
	var scale int
	switch denom {
	case 1, 2, 4, 8:
		scale = 8 / denom
	default:
		return nil, fmt.Errorf("gojpeg: scale 1/%d: want 1/1, 1/2, 1/4 or 1/8", denom)
	}
	d := &decoder{data: data}
	if len(data) < 2 || data[0] != 0xff || data[1] != 0xd8 {
		return nil, FormatError("missing SOI marker")
	}
	d.pos = 2
	for {
		marker, err := d.nextMarker()
		if err != nil {
			return nil, err
		}
		switch {
		case marker == 0xc0 || marker == 0xc1: // baseline, extended sequential
			if err := d.readSOF(maxPixels); err != nil {
				return nil, err
			}
		case marker == 0xc2:
			return nil, unsupported("progressive")
		case marker >= 0xc3 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc:
			// Lossless, hierarchical and arithmetic-coded frames.
			return nil, unsupported(fmt.Sprintf("SOF%d frame", marker-0xc0))
		case marker == 0xc4:
			if err := d.readDHT(); err != nil {
				return nil, err
			}
		case marker == 0xdb:
			if err := d.readDQT(); err != nil {
				return nil, err
			}
		case marker == 0xdd:
			if err := d.readDRI(); err != nil {
				return nil, err
			}
		case marker == 0xda:
			if err := d.readSOS(scale); err != nil {
				return nil, err
			}
			return d.image(scale)
		case marker == 0xd9:
			return nil, FormatError("no image before EOI")
		case marker == 0xd8:
			return nil, FormatError("second SOI marker")
		case marker >= 0xd0 && marker <= 0xd7 || marker == 0x01:
			// Standalone markers: nothing to skip.
		case marker == 0xee:
			if err := d.readAdobe(); err != nil {
				return nil, err
			}
		case marker == 0xe0:
			if err := d.readJFIF(); err != nil {
				return nil, err
			}
		default:
			if err := d.skipSegment(); err != nil {
				return nil, err
			}
		}
	}
}

// nextMarker skips to the next marker, as libjpeg's next_marker does (fill
// bytes and stray data are passed over), and returns its code.
func (d *decoder) nextMarker() (byte, error) {
	for {
		for d.pos < len(d.data) && d.data[d.pos] != 0xff {
			d.pos++
		}
		for d.pos < len(d.data) && d.data[d.pos] == 0xff {
			d.pos++
		}
		if d.pos >= len(d.data) {
			return 0, io.ErrUnexpectedEOF
		}
		m := d.data[d.pos]
		d.pos++
		if m != 0 {
			return m, nil
		}
	}
}

// segment returns the body of the marker segment at d.pos and moves past it.
func (d *decoder) segment() ([]byte, error) {
	if d.pos+2 > len(d.data) {
		return nil, io.ErrUnexpectedEOF
	}
	n := int(d.data[d.pos])<<8 | int(d.data[d.pos+1])
	if n < 2 {
		return nil, FormatError("segment length under 2")
	}
	if d.pos+n > len(d.data) {
		return nil, io.ErrUnexpectedEOF
	}
	b := d.data[d.pos+2 : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) skipSegment() error {
	_, err := d.segment()
	return err
}

func (d *decoder) readSOF(maxPixels int64) error {
	if d.frame {
		return FormatError("two frame headers")
	}
	d.frame = true
	b, err := d.segment()
	if err != nil {
		return err
	}
	if len(b) < 6 {
		return FormatError("short SOF")
	}
	if b[0] != 8 {
		return unsupported(fmt.Sprintf("%d-bit samples", b[0]))
	}
	d.height = int(b[1])<<8 | int(b[2])
	d.width = int(b[3])<<8 | int(b[4])
	n := int(b[5])
	if d.width == 0 || d.height == 0 {
		return unsupported("height set by a DNL marker, or an empty image")
	}
	if int64(d.width)*int64(d.height) > maxPixels {
		return FormatError(fmt.Sprintf("image is %dx%d, over the limit of %d pixels", d.width, d.height, maxPixels))
	}
	if n != 1 && n != 3 {
		return unsupported(fmt.Sprintf("%d components", n))
	}
	if len(b) != 6+3*n {
		return FormatError("SOF length")
	}
	d.comps = make([]component, n)
	for i := range d.comps {
		c := &d.comps[i]
		c.id = int(b[6+3*i])
		c.h, c.v = int(b[7+3*i]>>4), int(b[7+3*i]&15)
		c.tq = int(b[8+3*i])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return FormatError("component parameters")
		}
		if n == 1 {
			c.h, c.v = 1, 1 // one component: each MCU is one block
		}
	}
	d.hmax, d.vmax = d.comps[0].h, d.comps[0].v
	if n == 3 && (d.hmax > 2 || d.vmax > 2 || d.comps[1].h != 1 || d.comps[1].v != 1 || d.comps[2].h != 1 || d.comps[2].v != 1) {
		return unsupported("chroma sampling other than 4:4:4, 4:2:2, 4:4:0 and 4:2:0")
	}
	return nil
}

func (d *decoder) readDQT() error {
	b, err := d.segment()
	if err != nil {
		return err
	}
	for len(b) > 0 {
		pq, tq := b[0]>>4, int(b[0]&15)
		if tq > 3 {
			return FormatError("quantisation table index")
		}
		b = b[1:]
		switch pq {
		case 0:
			if len(b) < 64 {
				return FormatError("short DQT")
			}
			for k := 0; k < 64; k++ {
				d.quant[tq][zigzag[k]] = int32(b[k])
			}
			b = b[64:]
		case 1:
			if len(b) < 128 {
				return FormatError("short DQT")
			}
			for k := 0; k < 64; k++ {
				d.quant[tq][zigzag[k]] = int32(b[2*k])<<8 | int32(b[2*k+1])
			}
			b = b[128:]
		default:
			return FormatError("quantisation table precision")
		}
		d.haveQuant[tq] = true
	}
	return nil
}

func (d *decoder) readDRI() error {
	b, err := d.segment()
	if err != nil {
		return err
	}
	if len(b) != 2 {
		return FormatError("DRI length")
	}
	d.restart = int(b[0])<<8 | int(b[1])
	return nil
}

func (d *decoder) readAdobe() error {
	b, err := d.segment()
	if err != nil {
		return err
	}
	if len(b) >= 12 && string(b[:5]) == "Adobe" {
		d.adobe, d.transform = true, b[11]
	}
	return nil
}

func (d *decoder) readJFIF() error {
	b, err := d.segment()
	if err != nil {
		return err
	}
	if len(b) >= 5 && string(b[:5]) == "JFIF\x00" {
		d.jfif = true
	}
	return nil
}

func (d *decoder) readSOS(scale int) error {
	if !d.frame {
		return FormatError("SOS before SOF")
	}
	b, err := d.segment()
	if err != nil {
		return err
	}
	if len(b) < 1 || len(b) != 4+2*int(b[0]) {
		return FormatError("SOS length")
	}
	if int(b[0]) != len(d.comps) {
		return unsupported("components in separate scans")
	}
	if len(d.comps) == 3 && !d.isYCbCr() {
		return unsupported("RGB")
	}
	for i := range d.comps {
		id, tables := int(b[1+2*i]), b[2+2*i]
		c := &d.comps[i]
		if c.id != id {
			return unsupported("scan components out of frame order")
		}
		c.dcTable, c.acTable = int(tables>>4), int(tables&15)
		if c.dcTable > 3 || c.acTable > 3 || !d.dc[c.dcTable].ok || !d.ac[c.acTable].ok {
			return FormatError("missing Huffman table")
		}
		if !d.haveQuant[c.tq] {
			return FormatError("missing quantisation table")
		}
	}
	if ss, se, a := b[1+2*len(d.comps)], b[2+2*len(d.comps)], b[3+2*len(d.comps)]; ss != 0 || se != 63 || a != 0 {
		return FormatError("spectral selection in a sequential scan")
	}
	return d.decodeScan(scale)
}

// isYCbCr follows libjpeg's default_decompress_parms: JFIF means YCbCr, an
// Adobe marker says which, and otherwise component ids 'R', 'G', 'B' mean
// RGB.
func (d *decoder) isYCbCr() bool {
	switch {
	case d.jfif:
		return true
	case d.adobe:
		return d.transform != 0
	}
	c := d.comps
	return !(c[0].id == 'R' && c[1].id == 'G' && c[2].id == 'B')
}

func (d *decoder) decodeScan(scale int) error {
	mcuW, mcuH := 8*d.hmax, 8*d.vmax
	mcusX, mcusY := (d.width+mcuW-1)/mcuW, (d.height+mcuH-1)/mcuH
	for i := range d.comps {
		c := &d.comps[i]
		// libjpeg's jpeg_calc_output_dimensions: when scaling, subsampled
		// components are scaled less, by whole powers of two, so that they
		// need less upsampling or none.
		c.scale = scale
		for c.scale < 8 && d.hmax*scale%(c.h*c.scale*2) == 0 && d.vmax*scale%(c.v*c.scale*2) == 0 {
			c.scale *= 2
		}
		c.stride = mcusX * c.h * c.scale
		c.plane = make([]uint8, c.stride*mcusY*c.v*c.scale)
	}
	d.bits = bitReader{data: d.data, pos: d.pos}
	var blk [64]int32
	left := d.restart
	rst := 0
	for my := 0; my < mcusY; my++ {
		for mx := 0; mx < mcusX; mx++ {
			if d.restart > 0 {
				if left == 0 {
					if err := d.nextRestart(rst); err != nil {
						return err
					}
					rst = (rst + 1) & 7
					left = d.restart
				}
				left--
			}
			for ci := range d.comps {
				c := &d.comps[ci]
				q := &d.quant[c.tq]
				idct := idctFor(c.scale)
				for by := 0; by < c.v; by++ {
					for bx := 0; bx < c.h; bx++ {
						if err := d.decodeBlock(&blk, c, q); err != nil {
							return err
						}
						x, y := (mx*c.h+bx)*c.scale, (my*c.v+by)*c.scale
						idct(&blk, c.plane[y*c.stride+x:], c.stride)
					}
				}
			}
		}
	}
	if err := d.bits.check(); err != nil {
		return err
	}
	// Like libjpeg, which then reads on for the EOI marker, refuse data
	// that ends with the last MCU.
	d.pos = d.bits.pos
	_, err := d.nextMarker()
	return err
}

// nextRestart ends one restart interval: the rest of the current byte is
// padding, and the next marker must be RSTn.
func (d *decoder) nextRestart(n int) error {
	if err := d.bits.check(); err != nil {
		return err
	}
	d.pos = d.bits.pos
	m, err := d.nextMarker()
	if err != nil {
		return err
	}
	if m != 0xd0+byte(n) {
		return FormatError(fmt.Sprintf("marker %#x where RST%d belongs", m, n))
	}
	d.bits = bitReader{data: d.data, pos: d.pos}
	for i := range d.comps {
		d.comps[i].pred = 0
	}
	return nil
}

// decodeBlock reads one block's coefficients, dequantised, in natural
// order. The common case, a short code and its magnitude both in the bit
// buffer, is written out inline: this loop is most of a decode's time.
func (d *decoder) decodeBlock(blk *[64]int32, c *component, q *[64]int32) error {
	*blk = [64]int32{}
	br := &d.bits
	s, err := br.decode(&d.dc[c.dcTable])
	if err != nil {
		return err
	}
	if s > 11 {
		return FormatError("DC coefficient size")
	}
	c.pred += br.receiveExtend(s)
	blk[0] = c.pred * q[0]
	ac := &d.ac[c.acTable]
	for k := 1; k < 64; k++ {
		if br.n < 32 {
			br.fill() // now a code (up to 16 bits) and its value (up to 15) are in hand
		}
		if fa := ac.fastAC[br.acc>>(64-lookBits)]; fa != 0 {
			k += int(fa>>8) & 15
			l := uint(fa & 0xff)
			br.acc <<= l
			br.n -= l
			if k > 63 {
				return FormatError("AC coefficient past the block")
			}
			z := zigzag[k&63]
			blk[z] = fa >> 16 * q[z]
			continue
		}
		var rs uint8
		if e := ac.fast[br.acc>>(64-lookBits)]; e != 0 {
			l := uint(e >> 8)
			br.acc <<= l
			br.n -= l
			rs = uint8(e)
		} else if rs, err = br.decode(ac); err != nil {
			return err
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			if r != 15 {
				break
			}
			k += 15
			continue
		}
		k += r
		if k > 63 {
			return FormatError("AC coefficient past the block")
		}
		v := int32(br.acc >> (64 - s))
		br.acc <<= s
		br.n -= s
		if v < 1<<(s-1) {
			v += -1<<s + 1
		}
		z := zigzag[k&63]
		blk[z] = v * q[z]
	}
	return nil
}

// image wraps the decoded planes. Pixel planes are padded to whole MCUs;
// the image's bounds are libjpeg's output size, ceil(size/denom).
func (d *decoder) image(scale int) (image.Image, error) {
	denom := 8 / scale
	r := image.Rect(0, 0, (d.width+denom-1)/denom, (d.height+denom-1)/denom)
	y := d.comps[0]
	if len(d.comps) == 1 {
		return &image.Gray{Pix: y.plane, Stride: y.stride, Rect: r}, nil
	}
	cb, cr := d.comps[1], d.comps[2]
	// How many output pixels each chroma sample covers, across and down.
	hf, vf := d.hmax*scale/cb.scale, d.vmax*scale/cb.scale
	ratio := image.YCbCrSubsampleRatio444
	switch {
	case hf == 1 && vf == 1:
	case scale == 1:
		// libjpeg does not filter chroma when each block is one pixel.
		return &image.YCbCr{Y: y.plane, Cb: replicate(cb, hf, vf), Cr: replicate(cr, hf, vf),
			YStride: y.stride, CStride: y.stride, SubsampleRatio: ratio, Rect: r}, nil
	case hf == 2 && vf == 2:
		ratio = image.YCbCrSubsampleRatio420
	case hf == 2:
		ratio = image.YCbCrSubsampleRatio422
	default:
		ratio = image.YCbCrSubsampleRatio440
	}
	return &image.YCbCr{Y: y.plane, Cb: cb.plane, Cr: cr.plane, YStride: y.stride, CStride: cb.stride,
		SubsampleRatio: ratio, Rect: r}, nil
}

// replicate upsamples a chroma plane by h across and v down by repeating
// samples, as libjpeg's plain upsampling does.
func replicate(c component, h, v int) []uint8 {
	rows := len(c.plane) / c.stride
	w := c.stride * h
	out := make([]uint8, w*rows*v)
	for y := 0; y < rows*v; y++ {
		src, dst := c.plane[(y/v)*c.stride:], out[y*w:(y+1)*w]
		for x := range dst {
			dst[x] = src[x/h]
		}
	}
	return out
}

// zigzag maps the k-th coefficient of the zig-zag scan to its index in
// natural (row-major) order.
var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}
