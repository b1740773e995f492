package evidence

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// An item file is a header, then the body: the item's SHA-256, metadata and
// content, encrypted under the item's own data key.
//
//	offset  size  field
//	0       4     magic "SGEV"
//	4       1     version, 1 or 2
//	5       16    item id
//	21      8     created, Unix nanoseconds, big-endian
//	29      12    body nonce
//	41      8     body length in bytes (ciphertext and 16-byte tag), big-endian
//	49      1     k, the master key id's length (1..64)
//	50      k     master key id
//	50+k    12    wrap nonce
//	62+k    48    data key (32 bytes) encrypted under the master key, and its tag
//	110+k         body
//
// Bytes 0..49 are the fixed part: nothing Rewrap changes, and the additional
// data the body is authenticated with, so no byte of it can change unseen.
// The wrapped data key is authenticated with bytes 0..21 (magic, version,
// id) and the key id, so it cannot be moved to another item or relabelled.
//
// Version 1 seals the body whole, one AES-256-GCM message, so writing or
// reading it holds the whole of it at once. Version 2, which Put writes,
// seals it in segments of segSize bytes of plaintext, each its own
// message (see sealer), so an item streams to its file a segment at a
// time. Both read; Rewrap keeps an item's version.
const (
	magic      = "SGEV"
	version1   = 1
	version2   = 2
	idSize     = 16
	nonceSize  = 12
	dataKeyLen = 32
	tagSize    = 16
	fixedSize  = 49
	maxKeyID   = 64
	wrappedLen = dataKeyLen + tagSize
)

// header is an item file's header.
type header struct {
	version    byte
	id         [idSize]byte
	created    int64
	bodyNonce  [nonceSize]byte
	bodyLen    uint64
	keyID      string
	wrapNonce  [nonceSize]byte
	wrappedKey [wrappedLen]byte
}

// size is the length of h's encoding: where the body starts.
func (h *header) size() int { return fixedSize + 1 + len(h.keyID) + nonceSize + wrappedLen }

// append appends the encoding of h to b.
func (h *header) append(b []byte) []byte {
	b = append(b, magic...)
	b = append(b, h.version)
	b = append(b, h.id[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.created))
	b = append(b, h.bodyNonce[:]...)
	b = binary.BigEndian.AppendUint64(b, h.bodyLen)
	b = append(b, byte(len(h.keyID)))
	b = append(b, h.keyID...)
	b = append(b, h.wrapNonce[:]...)
	return append(b, h.wrappedKey[:]...)
}

// wrapAD is the additional data the wrapped key is authenticated with.
func (h *header) wrapAD() []byte {
	b := make([]byte, 0, 5+idSize+1+len(h.keyID))
	b = append(b, magic...)
	b = append(b, h.version)
	b = append(b, h.id[:]...)
	b = append(b, byte(len(h.keyID)))
	return append(b, h.keyID...)
}

// errFormat is wrapped by every parseHeader failure.
var errFormat = errors.New("not an evidence item")

// parseHeader reads the header at the start of b. It checks the form of the
// header only; the body length is checked against the file by the caller,
// and everything else by authenticated decryption.
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < fixedSize+1 {
		return h, fmt.Errorf("%d bytes, shorter than any header: %w", len(b), errFormat)
	}
	if string(b[:4]) != magic {
		return h, fmt.Errorf("starts %q, want %q: %w", b[:4], magic, errFormat)
	}
	if b[4] != version1 && b[4] != version2 {
		return h, fmt.Errorf("format version %d, this program reads %d and %d", b[4], version1, version2)
	}
	h.version = b[4]
	copy(h.id[:], b[5:])
	h.created = int64(binary.BigEndian.Uint64(b[21:]))
	copy(h.bodyNonce[:], b[29:])
	h.bodyLen = binary.BigEndian.Uint64(b[41:])
	if h.bodyLen < bodyOverhead {
		return h, fmt.Errorf("body length %d, shorter than any body: %w", h.bodyLen, errFormat)
	}
	k := int(b[fixedSize])
	if k == 0 || k > maxKeyID {
		return h, fmt.Errorf("master key id length %d, want 1..%d: %w", k, maxKeyID, errFormat)
	}
	if len(b) < fixedSize+1+k+nonceSize+wrappedLen {
		return h, fmt.Errorf("header cut short at %d bytes: %w", len(b), errFormat)
	}
	h.keyID = string(b[fixedSize+1 : fixedSize+1+k])
	if err := checkKeyID(h.keyID); err != nil {
		return h, fmt.Errorf("master key id: %v: %w", err, errFormat)
	}
	p := b[fixedSize+1+k:]
	copy(h.wrapNonce[:], p)
	copy(h.wrappedKey[:], p[nonceSize:])
	return h, nil
}

// The body, before encryption: the SHA-256 of the content recorded at
// intake, the metadata's length (big-endian) and JSON, then the content.
const bodyOverhead = 32 + 4 + tagSize

// A version 2 body is the same plaintext sealed in segments: segment i is
// bytes [i*segSize, (i+1)*segSize) of it (the last may be shorter, never
// empty), sealed under the data key with the body nonce XOR i (in its last
// 8 bytes) and, as additional data, the header's fixed part, i and whether
// it is the last. So no segment can be altered, moved, dropped or added
// to the end unseen: a body cut at a segment's end lacks its last.
const (
	segSize   = 64 << 10
	sealedSeg = segSize + tagSize
)

// sealedLen is the body length of a version 2 item of plaintext n bytes.
func sealedLen(n int64) int64 { return n + (n+segSize-1)/segSize*tagSize }

// plainLen is the plaintext length of a version 2 body of l bytes; false
// if no plaintext seals to l bytes.
func plainLen(l uint64) (uint64, bool) {
	segs := (l + sealedSeg - 1) / sealedSeg
	if segs == 0 || l-(segs-1)*sealedSeg <= tagSize {
		return 0, false
	}
	return l - segs*tagSize, true
}

// segNonce puts segment i's nonce in n.
func segNonce(n *[nonceSize]byte, h *header, i uint64) []byte {
	*n = h.bodyNonce
	binary.BigEndian.PutUint64(n[4:], binary.BigEndian.Uint64(n[4:])^i)
	return n[:]
}

// segAD puts segment i's additional data in ad (reusing its array);
// fixed is the header's fixed part.
func segAD(ad *[]byte, fixed []byte, i uint64, last bool) []byte {
	b := append((*ad)[:0], fixed[:fixedSize]...)
	b = binary.BigEndian.AppendUint64(b, i)
	if last {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	*ad = b
	return b
}

// sealer reads as a version 2 item file: the header, then the body sealed
// a segment at a time from plain, of n bytes, so Put holds one segment
// beyond the content while its file is written.
type sealer struct {
	h     *header
	gcm   cipher.AEAD
	fixed []byte
	plain io.Reader
	left  int64 // plaintext bytes not yet sealed
	i     uint64
	seg   []byte // one segment, sealed in place
	out   []byte // sealed bytes not yet read
	nonce [nonceSize]byte
	ad    []byte
}

func newSealer(h *header, gcm cipher.AEAD, plain io.Reader, n int64) *sealer {
	hb := h.append(nil)
	return &sealer{h: h, gcm: gcm, fixed: hb[:fixedSize], plain: plain, left: n, seg: make([]byte, sealedSeg), out: hb}
}

func (s *sealer) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.left == 0 {
			return 0, io.EOF
		}
		seg := s.seg[:min(segSize, s.left)]
		if _, err := io.ReadFull(s.plain, seg); err != nil {
			return 0, err
		}
		s.left -= int64(len(seg))
		s.out = s.gcm.Seal(seg[:0], segNonce(&s.nonce, s.h, s.i), seg, segAD(&s.ad, s.fixed, s.i, s.left == 0))
		s.i++
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// segments reads a version 2 body from r and yields its plaintext a
// segment at a time: each segment is read whole and authenticated before
// any byte of it is released, so a reader never sees a byte that is not
// the item's, and the first error names the segment where the file stops
// being the item. The end is authenticated too: the last segment's
// additional data marks it the last, so a body cut at a segment's end fails
// at the segment that should follow, and bytes after the last are refused.
// It holds one segment, whatever the item's size.
type segments struct {
	r      io.Reader
	h      *header
	fixed  []byte
	gcm    cipher.AEAD
	sealed io.Writer // if set, gets each segment's sealed bytes as read (Rewrap)
	left   uint64    // sealed bytes not yet read
	i      uint64    // the next segment
	seg    []byte    // one sealed segment, opened in place
	out    []byte    // plaintext not yet read
	err    error     // sticky: io.EOF after the end, else the failure
	nonce  [nonceSize]byte
	ad     []byte
}

func newSegments(r io.Reader, h *header, fixed []byte, gcm cipher.AEAD, sealed io.Writer) (*segments, error) {
	if _, ok := plainLen(h.bodyLen); !ok {
		return nil, fmt.Errorf("body length %d is no whole number of segments: %w", h.bodyLen, ErrCorrupt)
	}
	return &segments{r: r, h: h, fixed: fixed[:fixedSize], gcm: gcm, sealed: sealed, left: h.bodyLen, seg: make([]byte, sealedSeg)}, nil
}

func (s *segments) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		s.err = s.next()
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// next opens the next segment into s.out, or returns io.EOF once the last
// has been read and nothing follows it.
func (s *segments) next() error {
	if s.left == 0 {
		// The header's body length (authenticated with every segment)
		// says where the body ends; a file that goes on was appended to.
		var b [1]byte
		n, err := io.ReadFull(s.r, b[:])
		if n > 0 {
			return fmt.Errorf("bytes follow the last segment, %d (appended to): %w", s.i-1, ErrCorrupt)
		}
		if err != io.EOF {
			return fmt.Errorf("after the last segment: %w", err)
		}
		return io.EOF
	}
	k := min(sealedSeg, s.left)
	if _, err := io.ReadFull(s.r, s.seg[:k]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("file cut short at segment %d: %w", s.i, ErrCorrupt)
		}
		return fmt.Errorf("reading segment %d: %w", s.i, err)
	}
	s.left -= k
	if s.sealed != nil {
		s.sealed.Write(s.seg[:k])
	}
	out, err := s.gcm.Open(s.seg[:0], segNonce(&s.nonce, s.h, s.i), s.seg[:k], segAD(&s.ad, s.fixed, s.i, s.left == 0))
	if err != nil {
		return fmt.Errorf("content does not decrypt at segment %d (the file was altered): %w", s.i, ErrCorrupt)
	}
	s.i++
	s.out = out
	return nil
}

// readHeader reads an item file's header from r, returning it and its
// bytes.
func readHeader(r io.Reader) (header, []byte, error) {
	b := make([]byte, fixedSize+1, fixedSize+1+maxKeyID+nonceSize+wrappedLen)
	n, err := io.ReadFull(r, b)
	// A key id length out of range is left to parseHeader to report.
	if k := int(b[fixedSize]); err == nil && k >= 1 && k <= maxKeyID {
		b = b[:fixedSize+1+k+nonceSize+wrappedLen]
		var m int
		m, err = io.ReadFull(r, b[n:])
		n += m
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return header{}, nil, err
	}
	b = b[:n]
	h, perr := parseHeader(b)
	if perr != nil {
		return h, nil, fmt.Errorf("header: %v: %w", perr, ErrCorrupt)
	}
	return h, b, nil
}

// openWhole reads a version 1 body from r and returns its plaintext,
// decrypted in place, so the item is held once; sealed, if set, gets the
// body as read first (Rewrap). One message, so nothing of it is
// authenticated until all of it is read: a version 1 item is always read
// whole.
func openWhole(r io.Reader, h *header, fixed []byte, gcm cipher.AEAD, sealed io.Writer) ([]byte, error) {
	body := make([]byte, h.bodyLen)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("file cut short while read: %w", ErrCorrupt)
		}
		return nil, err
	}
	if sealed != nil {
		sealed.Write(body)
	}
	plain, err := gcm.Open(body[:0], h.bodyNonce[:], body, fixed[:fixedSize])
	if err != nil {
		return nil, fmt.Errorf("content does not decrypt (the file was altered): %w", ErrCorrupt)
	}
	return plain, nil
}
