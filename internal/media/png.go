package media

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"io"
)

// pngSample decodes, of a non-interlaced PNG larger than 512 pixels on a
// side, only the 512x512 pixels the reference PDQ hasher's nearest-neighbour
// pre-resize keeps, streaming the rows and holding two of them at a time:
// a 16-bit 10000x10000 PNG costs 160 KB and a 512x512 sample instead of the
// 800 MB *image.RGBA64 that image/png would allocate.
//
// The sample hashes as image/png's whole image does (internal/pdq keeps the
// low byte of 16-bit channels and ignores alpha, and so does the sample): an
// *image.Gray for greyscale without transparency, else an *image.NRGBA of
// the red, green and blue, palettes resolved as image/png resolves them.
func pngSample(data []byte, w, h int) (image.Image, error) {
	depth, ct, _, ok := pngIHDR(data)
	if !ok {
		return nil, errors.New("no IHDR chunk")
	}
	if !validPNGDepth(ct, depth) {
		return nil, fmt.Errorf("bit depth %d with colour type %d", depth, ct)
	}
	r := &pngChunks{data: data, pos: 8}
	var (
		palette    [][3]byte
		hasTRNS    bool
		img        image.Image
		pixelsDone bool
	)
	for {
		typ, body, err := r.next()
		if err != nil {
			return nil, err
		}
		switch typ {
		case "PLTE":
			if len(body)%3 != 0 || len(body) == 0 || len(body) > 3<<min(depth, 8) {
				return nil, errors.New("bad PLTE length")
			}
			palette = palette[:0]
			for i := 0; i < len(body); i += 3 {
				palette = append(palette, [3]byte{body[i], body[i+1], body[i+2]})
			}
		case "tRNS":
			hasTRNS = true
		case "IDAT":
			if pixelsDone {
				continue // image/png, too, skips IDAT chunks after the image
			}
			if ct == 3 && len(palette) == 0 {
				return nil, errors.New("palette image without PLTE")
			}
			r.unread(body)
			zr, err := zlib.NewReader(bufio.NewReader(&idatReader{c: r}))
			if err != nil {
				return nil, err
			}
			grey := (ct == 0) && !hasTRNS
			img, err = samplePNGRows(zr, w, h, depth, ct, grey, palette)
			if err != nil {
				return nil, err
			}
			// As image/png: no more pixel data than the image holds.
			if n, err := zr.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				if err != nil && err != io.EOF {
					return nil, err
				}
				return nil, errors.New("too much pixel data")
			}
			pixelsDone = true
		case "IEND":
			if !pixelsDone {
				return nil, errors.New("no pixel data")
			}
			return img, nil
		}
	}
}

func validPNGDepth(ct, depth byte) bool {
	switch ct {
	case 0:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16
	case 3:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8
	case 2, 4, 6:
		return depth == 8 || depth == 16
	}
	return false
}

// samplePNGRows reads the filtered rows of a w x h image from zr, keeping
// the pixels at the PDQ sample positions.
func samplePNGRows(zr io.Reader, w, h int, depth, ct byte, grey bool, palette [][3]byte) (image.Image, error) {
	rowBytes := pngRowBytes(w, depth, ct)
	bpp := max(1, pngChannels(ct)*int(depth)/8) // bytes a filter looks back
	xs, ys := pdqSamples(w), pdqSamples(h)
	var out image.Image
	var gray *image.Gray
	var nrgba *image.NRGBA
	if grey {
		gray = image.NewGray(image.Rect(0, 0, pdqSide, pdqSide))
		out = gray
	} else {
		nrgba = image.NewNRGBA(image.Rect(0, 0, pdqSide, pdqSide))
		out = nrgba
	}
	cur, prev := make([]byte, 1+rowBytes), make([]byte, 1+rowBytes)
	next := 0 // the next sample row to fill
	// Every row is read (and checked), also those after the last sampled
	// one, as image/png would, so a file is accepted or refused alike.
	for y := range h {
		if _, err := io.ReadFull(zr, cur); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if err := unfilter(cur, prev, bpp); err != nil {
			return nil, err
		}
		row := cur[1:]
		for ; next < len(ys) && ys[next] == y; next++ {
			for j, x := range xs {
				if grey {
					gray.Pix[next*gray.Stride+j] = pngGrey(row, x, depth)
					continue
				}
				o := nrgba.Pix[next*nrgba.Stride+4*j:]
				o[0], o[1], o[2] = pngRGB(row, x, depth, ct, palette)
				o[3] = 0xff
			}
		}
		cur, prev = prev, cur
	}
	return out, nil
}

// unfilter undoes the filter named by cur[0] on cur[1:], given the previous
// row (all zeros before the first).
func unfilter(cur, prev []byte, bpp int) error {
	c, p := cur[1:], prev[1:]
	switch cur[0] {
	case 0:
	case 1:
		for i := bpp; i < len(c); i++ {
			c[i] += c[i-bpp]
		}
	case 2:
		for i := range c {
			c[i] += p[i]
		}
	case 3:
		for i := range c {
			var left byte
			if i >= bpp {
				left = c[i-bpp]
			}
			c[i] += byte((int(left) + int(p[i])) / 2)
		}
	case 4:
		for i := range c {
			var a, cc byte
			if i >= bpp {
				a, cc = c[i-bpp], p[i-bpp]
			}
			c[i] += paeth(a, p[i], cc)
		}
	default:
		return errors.New("bad filter type")
	}
	return nil
}

func paeth(a, b, c byte) byte {
	pc := int(c)
	pa, pb := int(b)-pc, int(a)-pc
	pcAbs := pa + pb
	if pa < 0 {
		pa = -pa
	}
	if pb < 0 {
		pb = -pb
	}
	if pcAbs < 0 {
		pcAbs = -pcAbs
	}
	if pa <= pb && pa <= pcAbs {
		return a
	}
	if pb <= pcAbs {
		return b
	}
	return c
}

// pngGrey is pixel x of a greyscale row as image/png gives it in an
// *image.Gray (low depths scaled to 0-255), or, for 16 bits, the low byte
// internal/pdq reads of its *image.Gray16.
func pngGrey(row []byte, x int, depth byte) byte {
	switch depth {
	case 16:
		return row[2*x+1]
	case 8:
		return row[x]
	}
	return pngIndex(row, x, depth) * (255 / (1<<depth - 1))
}

// pngIndex is the x'th sample of a row of 1-, 2- or 4-bit samples.
func pngIndex(row []byte, x int, depth byte) byte {
	perByte := 8 / int(depth)
	shift := 8 - int(depth)*(x%perByte+1)
	return row[x/perByte] >> shift & (1<<depth - 1)
}

// pngRGB is the red, green and blue of pixel x, as bytes (the low byte of
// 16-bit samples): what internal/pdq reads of image/png's image.
func pngRGB(row []byte, x int, depth, ct byte, palette [][3]byte) (r, g, b byte) {
	switch ct {
	case 0: // grey with tRNS: image/png gives NRGBA
		v := pngGrey(row, x, depth)
		return v, v, v
	case 3:
		var i int
		if depth < 8 {
			i = int(pngIndex(row, x, depth))
		} else {
			i = int(row[x])
		}
		if i >= len(palette) {
			return 0, 0, 0 // image/png's opaque black
		}
		return palette[i][0], palette[i][1], palette[i][2]
	}
	n := pngChannels(ct) * int(depth) / 8 // bytes a pixel
	p := row[n*x:]
	lo := int(depth/8 - 1) // 0 for 8 bits, 1 for the low byte of 16
	if ct == 4 {
		v := p[lo]
		return v, v, v
	}
	s := int(depth / 8)
	return p[lo], p[s+lo], p[2*s+lo]
}

// pngChunks walks the chunks of a PNG, checking each one's CRC.
type pngChunks struct {
	data []byte
	pos  int
	// pending is the rest of a chunk handed back with unread, for the
	// IDAT reader to start from.
	pending []byte
}

func (r *pngChunks) next() (typ string, body []byte, err error) {
	if r.pos+8 > len(r.data) {
		return "", nil, io.ErrUnexpectedEOF
	}
	n := binary.BigEndian.Uint32(r.data[r.pos:])
	if n > 0x7fffffff || int64(r.pos)+12+int64(n) > int64(len(r.data)) {
		return "", nil, io.ErrUnexpectedEOF
	}
	typ = string(r.data[r.pos+4 : r.pos+8])
	body = r.data[r.pos+8 : r.pos+8+int(n)]
	crc := binary.BigEndian.Uint32(r.data[r.pos+8+int(n):])
	if crc32.ChecksumIEEE(r.data[r.pos+4:r.pos+8+int(n)]) != crc {
		return "", nil, fmt.Errorf("invalid checksum in %q chunk", typ)
	}
	r.pos += 12 + int(n)
	return typ, body, nil
}

func (r *pngChunks) unread(body []byte) { r.pending = body }

// idatReader reads the concatenated bodies of consecutive IDAT chunks.
type idatReader struct {
	c    *pngChunks
	done bool
}

func (ir *idatReader) Read(p []byte) (int, error) {
	for len(ir.c.pending) == 0 {
		if ir.done {
			return 0, io.EOF
		}
		// Peek: the next chunk is IDAT data, or the end of it.
		save := ir.c.pos
		typ, body, err := ir.c.next()
		if err != nil {
			return 0, err
		}
		if typ != "IDAT" {
			ir.c.pos, ir.done = save, true
			return 0, io.EOF
		}
		ir.c.pending = body
	}
	n := copy(p, ir.c.pending)
	ir.c.pending = ir.c.pending[n:]
	return n, nil
}
