package hasher

import (
	"crypto/md5"
	"crypto/sha256"
	"hash"
)

// FileDigest is the MD5 and SHA-256 of a file's bytes, written in pieces,
// so that a video is never held in memory to hash it: HashVideo streams the
// spooled upload through it, and the browser hasher (web/remove/wasm) the
// slices of a video the page reads. The zero value is not ready; use
// NewFileDigest.
type FileDigest struct {
	md5, sha256 hash.Hash
}

// NewFileDigest returns an empty digest.
func NewFileDigest() *FileDigest {
	return &FileDigest{md5: md5.New(), sha256: sha256.New()}
}

// Write adds p to the digest; it never fails.
func (d *FileDigest) Write(p []byte) (int, error) {
	d.md5.Write(p)
	return d.sha256.Write(p)
}

// Sum returns the digests of everything written.
func (d *FileDigest) Sum() (m [16]byte, s [32]byte) {
	d.md5.Sum(m[:0])
	d.sha256.Sum(s[:0])
	return m, s
}
