// Package signal holds the one shape of a content's hash signals, as the
// hasher computes them and as the matcher, scans, reports and review take
// them, so that every way in is matched alike (dihedral variants, the
// quality floor) and knows whether a hash was computed here or claimed.
package signal

import (
	"encoding/hex"

	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// Set is the hash signals of one piece of content. Any may be missing.
type Set struct {
	PDQ *pdq.Hash
	// Quality of PDQ, 0..100, or -1 when unknown (a bare hex hash).
	Quality int
	// Dihedral holds the eight variants of PDQ (Dihedral[0] == *PDQ), when
	// the content itself was hashed; a bare hash has none.
	Dihedral *[8]pdq.Hash
	MD5      *[16]byte
	SHA256   *[32]byte
	// VPDQ is a video's frame hashes (with MD5 and SHA-256 of its file);
	// nil for an image.
	VPDQ []vpdq.Frame
	// Claimed is set when the hashes came from a client (a reporter's
	// word, a platform's lookup) rather than from content Safeguard
	// hashed: a claimed match may raise priority, never decide.
	Claimed bool
}

// Empty reports whether the set holds no hash at all.
func (s Set) Empty() bool { return s.PDQ == nil && s.MD5 == nil && s.SHA256 == nil && len(s.VPDQ) == 0 }

// MD5Hex is the MD5 in lower-case hex, or "".
func (s Set) MD5Hex() string {
	if s.MD5 == nil {
		return ""
	}
	return hex.EncodeToString(s.MD5[:])
}

// SHA256Hex is the SHA-256 in lower-case hex, or "".
func (s Set) SHA256Hex() string {
	if s.SHA256 == nil {
		return ""
	}
	return hex.EncodeToString(s.SHA256[:])
}

// Target is what a review case can be about: the content or the account a
// platform names, or the content's hashes. A vPDQ alone is none (a case
// holds a PDQ, an MD5, a SHA-256), nor is a PDQ too plain to mean anything
// (the caller leaves PDQ false). review.Report refuses a report without
// one, and a scan skips the enqueue and report actions it cannot carry
// out, by this one rule, so a scan never asks for a report the desk would
// refuse.
type Target struct {
	ContentID, AccountID string
	PDQ, MD5, SHA256     bool // whether the content's hash of each kind is known
}

// Any reports whether t names something a case can be about.
func (t Target) Any() bool {
	return t.ContentID != "" || t.AccountID != "" || t.PDQ || t.MD5 || t.SHA256
}
