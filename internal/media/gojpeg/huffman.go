package gojpeg

import "io"

// lookBits is how many bits the fast table decodes at once; longer codes,
// rare in practice, take the canonical-code walk.
const lookBits = 9

type huffTable struct {
	ok bool
	// fast[b] for the next lookBits bits b: code length << 8 | symbol, or 0
	// when the code is longer.
	fast [1 << lookBits]uint16
	// fastAC[b], for AC codes whose magnitude bits also fit in lookBits:
	// the coefficient's value << 16 | run << 8 | code and magnitude
	// length; 0 otherwise.
	fastAC [1 << lookBits]int32
	// For the walk: maxCode[l] is the largest code of length l (-1 for
	// none), and valOff[l] turns a code of length l into an index in vals.
	maxCode [17]int32
	valOff  [17]int32
	vals    [256]uint8
}

func (d *decoder) readDHT() error {
	b, err := d.segment()
	if err != nil {
		return err
	}
	for len(b) > 0 {
		if len(b) < 17 {
			return FormatError("short DHT")
		}
		tc, th := b[0]>>4, int(b[0]&15)
		if tc > 1 || th > 3 {
			return FormatError("Huffman table class or index")
		}
		var counts [17]int
		total := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(b[l])
			total += counts[l]
		}
		if total > 256 || len(b) < 17+total {
			return FormatError("Huffman table length")
		}
		t := &d.dc[th]
		if tc == 1 {
			t = &d.ac[th]
		}
		if err := t.build(&counts, b[17:17+total]); err != nil {
			return err
		}
		b = b[17+total:]
	}
	return nil
}

// build makes the canonical code: codes of each length count up from the
// last length's, shifted left one bit.
func (t *huffTable) build(counts *[17]int, vals []byte) error {
	*t = huffTable{ok: true}
	copy(t.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		t.valOff[l] = k - code
		for i := 0; i < counts[l]; i++ {
			if code >= 1<<l {
				return FormatError("Huffman code lengths oversubscribed")
			}
			if l <= lookBits {
				// Every lookBits-bit string starting with this code.
				shift := uint(lookBits - l)
				for f := code << shift; f < (code+1)<<shift; f++ {
					t.fast[f] = uint16(l)<<8 | uint16(vals[k])
				}
			}
			code++
			k++
		}
		t.maxCode[l] = code - 1
		if counts[l] == 0 {
			t.maxCode[l] = -1
		}
		code <<= 1
	}
	for b, e := range t.fast {
		l, r, s := int(e>>8), int32(e>>4&15), int(e&15)
		if e == 0 || s == 0 || l+s > lookBits {
			continue
		}
		v := int32(b>>(lookBits-l-s)) & (1<<s - 1)
		if v < 1<<(s-1) {
			v += -1<<s + 1
		}
		t.fastAC[b] = v<<16 | r<<8 | int32(l+s)
	}
	return nil
}

// bitReader reads entropy-coded data, most significant bit first, taking
// out the zero byte stuffed after each 0xff. At a marker it stops and
// feeds zero bits, as libjpeg does; check then reports whether the
// decoder used any of them.
type bitReader struct {
	data   []byte
	pos    int
	acc    uint64 // the next n bits, at the top
	n      uint
	padded uint // zero bits fed past the data's end or a marker
}

func (br *bitReader) fill() {
	for br.n <= 56 {
		var b byte
		if br.pos < len(br.data) {
			b = br.data[br.pos]
			if b == 0xff {
				if br.pos+1 < len(br.data) && br.data[br.pos+1] == 0 {
					br.pos += 2
				} else {
					b, br.padded = 0, br.padded+8 // a marker, or the end
				}
			} else {
				br.pos++
			}
		} else {
			br.padded += 8
		}
		br.acc |= uint64(b) << (56 - br.n)
		br.n += 8
	}
}

// check reports an error if the decoder read past the data.
func (br *bitReader) check() error {
	if br.padded <= br.n {
		return nil
	}
	if br.pos >= len(br.data) {
		return io.ErrUnexpectedEOF
	}
	return FormatError("entropy-coded data ends early, at a marker")
}

func (br *bitReader) decode(t *huffTable) (uint8, error) {
	if br.n < 16 {
		br.fill()
	}
	if e := t.fast[br.acc>>(64-lookBits)]; e != 0 {
		l := uint(e >> 8)
		br.acc <<= l
		br.n -= l
		return uint8(e), nil
	}
	for l := lookBits + 1; l <= 16; l++ {
		code := int32(br.acc >> (64 - uint(l)))
		if code <= t.maxCode[l] {
			br.acc <<= uint(l)
			br.n -= uint(l)
			return t.vals[(code+t.valOff[l])&0xff], nil
		}
	}
	if br.padded > br.n {
		return 0, br.check()
	}
	return 0, FormatError("bad Huffman code")
}

// receiveExtend reads an s-bit magnitude and sign-extends it (JPEG's
// RECEIVE and EXTEND).
func (br *bitReader) receiveExtend(s uint8) int32 {
	if s == 0 {
		return 0
	}
	if br.n < uint(s) {
		br.fill()
	}
	v := int32(br.acc >> (64 - uint(s)))
	br.acc <<= s
	br.n -= uint(s)
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}
