// Package hasher turns uploaded content into signals: the PDQ hash and
// quality of an image (with its dihedral variants when asked), the vPDQ
// frame hashes of a video, and the MD5 and SHA-256 of the bytes. It is the
// one place the CLI and the server hash content, so both give the same
// answer for the same file.
package hasher

import (
	"crypto/md5"
	"crypto/sha256"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// Signals are the hashes of one piece of content.
type Signals struct {
	Format   media.Format
	PDQ      pdq.Hash
	Quality  int
	Dihedral *[8]pdq.Hash // nil unless asked for
	MD5      [16]byte
	SHA256   [32]byte
}

// Hasher hashes images and videos. The zero value decodes with media's
// and vpdq's defaults (every frame of a video); it is safe for concurrent
// use.
type Hasher struct {
	Media    media.Options
	Dihedral bool             // also compute the 8 dihedral PDQ hashes
	Video    vpdq.HashOptions // how videos are sampled and decoded
	pool     sync.Pool
}

// Hash decodes data (name is only for error messages) and hashes it. The
// error, if any, is a *media.Error naming the file and the problem.
func (h *Hasher) Hash(name string, data []byte) (Signals, error) {
	opt := h.Media
	opt.ForPDQ = true // large JPEGs need never be held whole
	img, format, err := media.Decode(name, data, opt)
	if err != nil {
		return Signals{}, err
	}
	ph, _ := h.pool.Get().(*pdq.Hasher)
	if ph == nil {
		ph = new(pdq.Hasher)
	}
	r := ph.HashImage(img, h.Dihedral)
	h.pool.Put(ph)
	return Signals{
		Format:   format,
		PDQ:      r.Hash,
		Quality:  r.Quality,
		Dihedral: r.Dihedral,
		MD5:      md5.Sum(data),
		SHA256:   sha256.Sum256(data),
	}, nil
}
