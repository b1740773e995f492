// Package pdq computes PDQ, Meta's 256-bit perceptual image hash, bit for bit
// as the reference C++ implementation (facebook/ThreatExchange, pdq/cpp) does.
//
// Hash lists shared between hotlines and platforms are PDQ hashes made by the
// reference tools: a hasher that drifts from it by a few bits shrinks every
// match radius by as much, so the arithmetic here follows the reference step
// by step, in float32, in the same order. The package does no I/O and uses no
// cgo, so it also compiles to WebAssembly.
package pdq

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
)

// Hash is a 256-bit PDQ hash. Its bytes are the big-endian form of the
// reference's hex text: bit k of the hash (k = 16*row + column of the 16x16
// DCT) is bit k&7 of byte 31-k/8.
type Hash [32]byte

// Size is the length of a hash in bits.
const Size = 256

// String returns the 64 lower-case hex digits the reference tools print.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(text []byte) error {
	v, err := ParseHex(string(text))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHex reads a hash from its 64 hex digits (either case).
func ParseHex(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("pdq: hash %q: want 64 hex digits, got %d characters", clip(s), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("pdq: hash %q: %v", clip(s), err)
	}
	return h, nil
}

// clip keeps error messages short when the input is long garbage.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// Bit reports whether bit k (0..255) is set.
func (h Hash) Bit(k int) bool { return h[31-k>>3]>>(k&7)&1 == 1 }

func (h *Hash) setBit(k int) { h[31-k>>3] |= 1 << (k & 7) }

// Words returns the hash as four 64-bit words, most significant first: the
// form the Hamming index stores.
func (h Hash) Words() [4]uint64 {
	return [4]uint64{
		binary.BigEndian.Uint64(h[0:]),
		binary.BigEndian.Uint64(h[8:]),
		binary.BigEndian.Uint64(h[16:]),
		binary.BigEndian.Uint64(h[24:]),
	}
}

// FromWords is the inverse of Words.
func FromWords(w [4]uint64) Hash {
	var h Hash
	for i, v := range w {
		binary.BigEndian.PutUint64(h[8*i:], v)
	}
	return h
}

// Distance returns the Hamming distance between a and b: the number of bits
// in which they differ, 0..256.
func Distance(a, b Hash) int {
	n := 0
	for i := 0; i < 32; i += 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]))
	}
	return n
}

// Dihedral names one of the eight rotations and reflections of an image, in
// the reference's order.
type Dihedral int

const (
	Original Dihedral = iota
	Rotate90
	Rotate180
	Rotate270
	FlipX
	FlipY
	FlipPlus1
	FlipMinus1
)

var dihedralNames = [8]string{"original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1"}

func (d Dihedral) String() string {
	if d < 0 || int(d) >= len(dihedralNames) {
		return fmt.Sprintf("Dihedral(%d)", int(d))
	}
	return dihedralNames[d]
}
