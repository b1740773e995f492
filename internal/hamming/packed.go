package hamming

// packed is a fixed number of unsigned integers of a fixed number of bits
// each, one after another in 64-bit words. A table's positions need only
// log2(n) bits, not 32: at a million codes packing saves a third of the
// index's postings, and there are ten or eleven tables of them.
//
// A trailing word that holds no bits of its own lets get read two words
// without a branch or a bounds check of its own.
type packed struct {
	words []uint64
	width uint // bits an integer, 1 to 32
	n     int
}

func newPacked(n int, width uint) packed {
	return packed{words: hugeSlice[uint64](packedWords(n, width)), width: width, n: n}
}

// packedWords is the length of the words of n integers of width bits.
func packedWords(n int, width uint) int { return (n*int(width)+63)/64 + 1 }

// get returns integer i, i < p.n.
func (p packed) get(i int) uint32 {
	bit := uint(i) * p.width
	w, off := bit>>6, bit&63
	// When off is 0 the second shift is by 64, which Go defines as 0.
	v := p.words[w]>>off | p.words[w+1]<<(64-off)
	return uint32(v & (1<<p.width - 1))
}

// set sets integer i, which must be zero, to v < 2^width.
func (p packed) set(i int, v uint32) {
	bit := uint(i) * p.width
	w, off := bit>>6, bit&63
	p.words[w] |= uint64(v) << off
	p.words[w+1] |= uint64(v) >> (64 - off)
}

func (p packed) bytes() int64 { return int64(len(p.words)) * 8 }

// posBits is the width of a position, and of a count of positions, in a
// segment of n codes.
func posBits(n int) uint {
	w := uint(1)
	for n >= 1<<w {
		w++
	}
	return w
}
