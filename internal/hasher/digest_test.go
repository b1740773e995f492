package hasher

import (
	"crypto/md5"
	"crypto/sha256"
	"testing"
)

// Written in uneven pieces, as the page reads a video's slices, the digest
// is the whole file's.
func TestFileDigestPieces(t *testing.T) {
	data := make([]byte, 100_003)
	for i := range data {
		data[i] = byte(i * 7)
	}
	d := NewFileDigest()
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 4099)
		d.Write(rest[:n])
		rest = rest[n:]
	}
	m, s := d.Sum()
	if m != md5.Sum(data) || s != sha256.Sum256(data) {
		t.Errorf("digest of the pieces %x %x differs from the whole's", m, s)
	}
}
