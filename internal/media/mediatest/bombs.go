// Package mediatest builds hostile images for tests and benchmarks: small
// files whose headers declare images that cost hundreds of megabytes to
// decode. They are made here, from code, rather than kept as files.
package mediatest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// ProgressiveJPEG returns a progressive JPEG header declaring a w x h
// three-component 4:4:4 image, with one DC scan of pad zero bytes (each
// zero bit decodes as a block with no change of DC): with pad 0 it is the
// 214-byte kind, too short to hold the blocks it declares; with pad at
// least w*h*3/64/8 it is a valid file that makes a decoder hold every
// coefficient, 384 bytes a pixel's worth for libjpeg.
func ProgressiveJPEG(w, h, pad int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xff, 0xd8})
	// DQT: table 0, all ones.
	b.Write([]byte{0xff, 0xdb, 0, 67, 0})
	b.Write(bytes.Repeat([]byte{1}, 64))
	// SOF2: 8-bit, h x w, three components sampled 1x1 with table 0.
	b.Write([]byte{0xff, 0xc2, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
		1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0})
	// DHT: DC table 0 with one code, "0", for category 0.
	b.Write([]byte{0xff, 0xc4, 0, 20, 0x00, 1})
	b.Write(make([]byte, 15))
	b.Write([]byte{0})
	// SOS: the DC scan of all three components.
	b.Write([]byte{0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 0, 0})
	b.Write(make([]byte, pad))
	b.Write([]byte{0xff, 0xd9})
	return b.Bytes()
}

// PNG16 returns a w x h 16-bit RGB PNG of black, deflated as far as zlib
// goes: 10000x10000 is about 580 KB and 800 MB as image/png decodes it.
func PNG16(w, h int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 2 // depth, RGB
	chunk(&b, "IHDR", ihdr)
	chunk(&b, "IDAT", zeros(h, 1+6*w))
	chunk(&b, "IEND", nil)
	return b.Bytes()
}

func chunk(b *bytes.Buffer, typ string, body []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(body)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(body)
	b.WriteString(typ)
	b.Write(body)
	binary.Write(b, binary.BigEndian, crc.Sum32())
}

// zeros is the zlib stream of rows x n zero bytes.
func zeros(rows, n int) []byte {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, n)
	for range rows {
		zw.Write(row)
	}
	zw.Close()
	return z.Bytes()
}

// TIFF16 returns a w x h 16-bit RGB TIFF of black in one deflated strip:
// 10000x10000 is about 580 KB, and x/image/tiff inflates it whole before
// converting it to an 800 MB *image.RGBA64.
func TIFF16(w, h int) []byte {
	strip := zeros(h, 6*w)
	type entry struct {
		tag, typ uint16
		count    uint32
		value    uint32
	}
	const (
		short = 3
		long  = 4
	)
	const ifdAt = 8
	entries := []entry{
		{256, long, 1, uint32(w)},
		{257, long, 1, uint32(h)},
		{258, short, 3, 0}, // BitsPerSample: three values, placed after the IFD
		{259, short, 1, 8}, // deflate
		{262, short, 1, 2}, // RGB
		{273, long, 1, 0},  // StripOffsets, after the bits
		{277, short, 1, 3},
		{278, long, 1, uint32(h)},
		{279, long, 1, uint32(len(strip))},
		{284, short, 1, 1},
	}
	ifdLen := 2 + 12*len(entries) + 4
	bitsAt := uint32(ifdAt + ifdLen)
	stripAt := bitsAt + 6
	entries[2].value, entries[5].value = bitsAt, stripAt
	var b bytes.Buffer
	b.WriteString("II*\x00")
	binary.Write(&b, binary.LittleEndian, uint32(ifdAt))
	binary.Write(&b, binary.LittleEndian, uint16(len(entries)))
	for _, e := range entries {
		binary.Write(&b, binary.LittleEndian, e.tag)
		binary.Write(&b, binary.LittleEndian, e.typ)
		binary.Write(&b, binary.LittleEndian, e.count)
		if e.typ == short && e.count == 1 {
			binary.Write(&b, binary.LittleEndian, uint16(e.value))
			binary.Write(&b, binary.LittleEndian, uint16(0))
		} else {
			binary.Write(&b, binary.LittleEndian, e.value)
		}
	}
	binary.Write(&b, binary.LittleEndian, uint32(0)) // no next IFD
	binary.Write(&b, binary.LittleEndian, [3]uint16{16, 16, 16})
	b.Write(strip)
	return b.Bytes()
}
