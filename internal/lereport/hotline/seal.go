package hotline

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"math"
)

// The sealed members of a version 2 package (files/<id>.enc,
// conversations.csv.enc) are segmented, so a member streams both ways
// holding one segment: a 7-byte random prefix, then the content in
// segments of segSize bytes (the last shorter, or empty only when the
// content is), each sealed with AES-256-GCM under the content key with the
// member's name as additional data and the nonce
//
//	prefix (7 bytes) ‖ segment number (4 bytes, big-endian) ‖ 0x01 for the last segment, else 0x00
//
// This is the STREAM construction (Hoang, Reyhanitabar, Rogaway and Vizár,
// 2015): a segment moved within its member fails (its number is in the
// nonce), one taken from another member fails (another prefix and name),
// and a member cut at a segment's end fails (its last segment was not
// sealed as the last), as does one appended to.
const (
	segSize    = 64 << 10
	tagSize    = 16
	prefixSize = 7
	sealedSeg  = segSize + tagSize
)

// segNonce is segment i's nonce.
func segNonce(n *[12]byte, prefix []byte, i uint32, last bool) []byte {
	copy(n[:prefixSize], prefix)
	binary.BigEndian.PutUint32(n[prefixSize:], i)
	n[11] = 0
	if last {
		n[11] = 1
	}
	return n[:]
}

// seal writes content, read to its end, to w as the sealed member name,
// holding a segment of it at a time, and returns the content's SHA-256 and
// length.
func seal(w io.Writer, aead cipher.AEAD, name string, content io.Reader) (sum [32]byte, n int64, err error) {
	prefix := make([]byte, prefixSize)
	rand.Read(prefix)
	if _, err := w.Write(prefix); err != nil {
		return sum, 0, err
	}
	h := sha256.New()
	// A segment and the first byte of the next: a segment is the last
	// when no byte follows it, which is known only by reading one.
	buf := make([]byte, segSize+1)
	out := make([]byte, 0, sealedSeg)
	var nonce [12]byte
	have := 0
	for i := uint64(0); ; i++ {
		if i > math.MaxUint32 {
			return sum, n, fmt.Errorf("%s: more than %d segments", name, uint64(math.MaxUint32)+1)
		}
		m, err := io.ReadFull(content, buf[have:])
		have += m
		last := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !last {
			return sum, n, err
		}
		seg := buf[:min(have, segSize)]
		h.Write(seg)
		n += int64(len(seg))
		out = aead.Seal(out[:0], segNonce(&nonce, prefix, uint32(i), last), seg, []byte(name))
		if _, err := w.Write(out); err != nil {
			return sum, n, err
		}
		if last {
			return [32]byte(h.Sum(nil)), n, nil
		}
		buf[0], have = buf[segSize], 1
	}
}

// unsealer reads a version 2 sealed member's content back, a segment at a
// time, yielding a segment only once it authenticates; if want is set, it
// yields the last segment only once the content's SHA-256 is want. Its
// errors name the member and the segment.
type unsealer struct {
	r       io.Reader
	aead    cipher.AEAD
	name    string
	want    []byte // the content's SHA-256, or nil
	h       hash.Hash
	nonce   [12]byte
	prefix  [prefixSize]byte
	i       uint64
	in      []byte // a sealed segment and the first byte of the next
	out     []byte // its plaintext
	carry   byte   // the first byte of segment i, read with segment i-1
	carried bool
	plain   []byte // authenticated, not yet yielded
	done    bool   // the last segment is read
	err     error  // sticky; io.EOF once the last segment is yielded
}

func newUnsealer(r io.Reader, aead cipher.AEAD, name string, want []byte) (*unsealer, error) {
	u := &unsealer{r: r, aead: aead, name: name, want: want, h: sha256.New(),
		in: make([]byte, sealedSeg+1), out: make([]byte, 0, segSize)}
	if _, err := io.ReadFull(r, u.prefix[:]); err != nil {
		return nil, fmt.Errorf("%s: too short to decrypt (no segment prefix)", name)
	}
	return u, nil
}

func (u *unsealer) Read(p []byte) (int, error) {
	for len(u.plain) == 0 && u.err == nil {
		u.err = u.next()
	}
	if len(u.plain) > 0 {
		n := copy(p, u.plain)
		u.plain = u.plain[n:]
		return n, nil
	}
	return 0, u.err
}

// next reads, authenticates and hashes segment u.i, leaving its plaintext
// in u.plain; io.EOF once the last has been.
func (u *unsealer) next() error {
	if u.done {
		return io.EOF
	}
	if u.i > math.MaxUint32 {
		return fmt.Errorf("%s: more than %d segments", u.name, uint64(math.MaxUint32)+1)
	}
	i, have := uint32(u.i), 0
	if u.carried {
		u.in[0], have = u.carry, 1
	}
	m, err := io.ReadFull(u.r, u.in[have:])
	have += m
	last := err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !last {
		return fmt.Errorf("%s: segment %d: %w", u.name, i, err)
	}
	seg := u.in[:min(have, sealedSeg)]
	// Into out, not in place: a failed Open clears its output, and seg
	// is needed again to say what went wrong.
	plain, err := u.aead.Open(u.out[:0], segNonce(&u.nonce, u.prefix[:], i, last), seg, []byte(u.name))
	if err != nil {
		return u.fault(i, seg, last)
	}
	u.h.Write(plain)
	if last {
		if sum := u.h.Sum(nil); u.want != nil && !bytes.Equal(sum, u.want) {
			return fmt.Errorf("%s: content SHA-256 %x is not the %x recorded at intake", u.name, sum, u.want)
		}
		u.plain, u.done = plain, true
		return nil
	}
	u.plain, u.carry, u.carried = plain, u.in[sealedSeg], true
	u.i++
	return nil
}

// fault says why segment i does not open: a segment of this member sealed
// as the last that is not (appended to), or not the last that is (cut
// short at a segment's end), or anything else.
func (u *unsealer) fault(i uint32, seg []byte, last bool) error {
	if _, err := u.aead.Open(u.out[:0], segNonce(&u.nonce, u.prefix[:], i, !last), seg, []byte(u.name)); err == nil {
		if last {
			return fmt.Errorf("%s: cut short: segment %d is not the last, and nothing follows it", u.name, i)
		}
		return fmt.Errorf("%s: segment %d is the last, and more follows it (appended)", u.name, i)
	}
	if last && len(seg) < sealedSeg {
		return fmt.Errorf("%s: segment %d does not decrypt (altered, cut short inside it, moved, or from another member)", u.name, i)
	}
	return fmt.Errorf("%s: segment %d does not decrypt (altered, moved, or from another member)", u.name, i)
}
