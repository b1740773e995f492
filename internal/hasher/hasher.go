// Package hasher turns uploaded content into signals: the PDQ hash and
// quality of an image (with its dihedral variants when asked), the vPDQ
// frame hashes of a video, and the MD5 and SHA-256 of the bytes. It is the
// one place the CLI and the server hash content, so both give the same
// answer for the same file.
package hasher

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/signal"
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

// Set is s as the matcher takes it: computed here, so not claimed.
func (s Signals) Set() signal.Set {
	return signal.Set{PDQ: &s.PDQ, Quality: s.Quality, Dihedral: s.Dihedral, MD5: &s.MD5, SHA256: &s.SHA256}
}

// Hasher hashes images and videos. The zero value decodes with media's
// and vpdq's defaults (every frame of a video); it is safe for concurrent
// use.
type Hasher struct {
	Media    media.Options
	Dihedral bool         // also compute the 8 dihedral PDQ hashes
	Video    videoOptions // how videos are sampled and decoded: a vpdq.HashOptions
	// Budget, when set, bounds the memory the Hasher's decodes (and those
	// of anything sharing it) hold at once: each decode waits for its
	// estimate to fit, and an image whose estimate alone exceeds the budget
	// is refused with a *media.Error of Kind media.OverBudget. The server
	// shares one; nil admits every decode.
	Budget *media.Budget
	pool   sync.Pool
}

// Hash is HashContext without a deadline for waiting on the budget.
func (h *Hasher) Hash(name string, data []byte) (Signals, error) {
	return h.HashContext(context.Background(), name, data)
}

// HashContext decodes data (name is only for error messages) and hashes
// it, first waiting, until ctx is done, for the decode's memory estimate to
// fit in the Budget. The error is a *media.Error naming the file and the
// problem, or ctx's error if it ended while waiting.
func (h *Hasher) HashContext(ctx context.Context, name string, data []byte) (Signals, error) {
	opt := h.Media
	opt.ForPDQ = true // large JPEGs and PNGs need never be held whole
	if h.Budget != nil {
		cfg, err := media.DecodeConfig(name, data, opt)
		if err != nil {
			return Signals{}, err
		}
		release, err := h.Budget.Acquire(ctx, name, cfg.Memory)
		if e, ok := err.(*media.Error); ok {
			e.Format = cfg.Format
		}
		if err != nil {
			return Signals{}, err
		}
		defer release()
	}
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
	media.Release(img)
	return Signals{
		Format:   format,
		PDQ:      r.Hash,
		Quality:  r.Quality,
		Dihedral: r.Dihedral,
		MD5:      md5.Sum(data),
		SHA256:   sha256.Sum256(data),
	}, nil
}
