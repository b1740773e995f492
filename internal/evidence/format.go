package evidence

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// An item file is a header, then the body: the item's SHA-256, metadata and
// content, encrypted under the item's own data key.
//
//	offset  size  field
//	0       4     magic "SGEV"
//	4       1     version, 1
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
const (
	magic      = "SGEV"
	version    = 1
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
	b = append(b, version)
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
	b = append(b, version)
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
	if b[4] != version {
		return h, fmt.Errorf("format version %d, this program reads %d", b[4], version)
	}
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
