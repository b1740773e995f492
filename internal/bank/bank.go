// Package bank defines banks — named lists of known hashes with their
// provenance — and the file formats hash lists travel in.
//
// A bank holds the hotline lists, the hashes victims submitted themselves and
// the service's own confirmed items. Every entry says where it came from
// (source, external id, category, who added it and when), because every match
// must be able to say why it matched. The package is the domain only: storage
// lives behind internal/store, matching in internal/match.
package bank

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/limits"
)

// Signal is the kind of hash an entry holds.
type Signal string

// The signals a bank can hold. PDQ matches within a bank's threshold; MD5 and
// SHA-256 match only exactly.
const (
	PDQ    Signal = "pdq"
	MD5    Signal = "md5"
	SHA256 Signal = "sha256"
	// VPDQ is a video's frame hashes (vPDQ), matched under the vPDQ rule
	// (internal/vpdq). Its value is the hex of vpdq.MarshalBinary, so
	// its length varies; ParseValue also takes python-threatexchange's
	// signal string and turns it into that form.
	VPDQ Signal = "vpdq"
)

// Signals lists every signal, in a stable order.
var Signals = []Signal{PDQ, MD5, SHA256, VPDQ}

// HexLen returns the number of hex digits in a value of the signal, or 0 for
// an unknown signal and for VPDQ, whose values vary in length.
func (s Signal) HexLen() int {
	switch s {
	case PDQ, SHA256:
		return 64
	case MD5:
		return 32
	}
	return 0
}

// Valid reports whether s is one of the known signals.
func (s Signal) Valid() bool { return s.HexLen() != 0 || s == VPDQ }

// ParseSignal reads a signal name. Case does not matter, and the spellings
// other tools write are accepted: "sha-256", and "video_md5", which is what
// Meta's python-threatexchange and Hasher-Matcher-Actioner call the MD5 of a
// file's bytes.
func ParseSignal(s string) (Signal, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pdq":
		return PDQ, nil
	case "md5", "video_md5":
		return MD5, nil
	case "sha256", "sha-256":
		return SHA256, nil
	case "vpdq":
		return VPDQ, nil
	}
	return "", fmt.Errorf("%w %q: want pdq, md5, sha256 or vpdq", ErrUnknownSignal, clip(s))
}

// ErrUnknownSignal is what ParseSignal's errors wrap: a signal Safeguard
// does not hold (e.g. python-threatexchange's "url" or "tmk").
var ErrUnknownSignal = errors.New("unknown signal")

// ParseValue checks a hash value for a signal and returns it normalised to
// lower-case hex, the one form values are stored, compared and exported in.
func ParseValue(s Signal, v string) (string, error) {
	if s == VPDQ {
		return parseVPDQ(v)
	}
	n := s.HexLen()
	if n == 0 {
		return "", fmt.Errorf("unknown signal %q", clip(string(s)))
	}
	if len(v) != n {
		return "", fmt.Errorf("%s value %q: want %d hex digits, got %d characters", s, clip(v), n, len(v))
	}
	for i := 0; i < len(v); i++ {
		if !isHex(v[i]) {
			return "", fmt.Errorf("%s value %q: %q at position %d is not a hex digit", s, clip(v), v[i], i+1)
		}
	}
	return strings.ToLower(v), nil
}

// InferSignal guesses the signal of a hex value from its length: 32 digits
// are MD5, 64 digits are the signal given as wide (PDQ or SHA-256 — both are
// 64 digits, so only the caller can say which a list holds).
func InferSignal(v string, wide Signal) (Signal, error) {
	switch len(v) {
	case 32:
		return MD5, nil
	case 64:
		return wide, nil
	}
	return "", fmt.Errorf("value %q: want 32 (md5) or 64 (pdq, sha256) hex digits, got %d characters", clip(v), len(v))
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// DecodeValue returns the bytes of a normalised hex value; stores keep values
// as bytes, half the size of their hex.
func DecodeValue(v string) ([]byte, error) { return hex.DecodeString(v) }

// EncodeValue is the inverse of DecodeValue.
func EncodeValue(b []byte) string { return hex.EncodeToString(b) }

// DefaultThreshold is the PDQ match distance of a bank created without one:
// the distance Meta recommends for PDQ, and the one the reference tools use.
const DefaultThreshold = 31

// MaxThreshold bounds a bank's PDQ threshold. Beyond a quarter of the 256
// bits, unrelated images match, and the index's search cost explodes.
const MaxThreshold = 64

// Bank is a named hash list.
type Bank struct {
	ID          int64
	Name        string // see ValidName
	Description string
	// Threshold is the largest PDQ Hamming distance that matches, 1 to
	// MaxThreshold. Creating a bank with 0 gives it DefaultThreshold.
	Threshold int
	// VPDQThreshold is the least query_match_percent (0 to 100) at which a
	// video matches one of the bank's vPDQ entries; 0 means
	// DefaultVPDQThreshold.
	VPDQThreshold float64
	CreatedAt     time.Time
	Entries       int64 // live entries, filled in by the store
}

// DefaultVPDQThreshold is python-threatexchange's vPDQ query percentage.
const DefaultVPDQThreshold = 80

// VPDQPercent is the bank's vPDQ query percentage, the default filled in.
func (b Bank) VPDQPercent() float64 {
	if b.VPDQThreshold == 0 {
		return DefaultVPDQThreshold
	}
	return b.VPDQThreshold
}

// ValidName reports what is wrong with a bank name, if anything. Names are
// 1 to 64 characters of [a-z0-9_.-] starting with a letter or digit, so they
// are safe in URLs, file names and CSV without quoting.
func ValidName(name string) error {
	if name == "" {
		return errors.New("bank name is empty")
	}
	if len(name) > 64 {
		return fmt.Errorf("bank name %q: longer than 64 characters", clip(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '_' || c == '.' || c == '-') && i > 0:
		default:
			return fmt.Errorf("bank name %q: %q at position %d: use a-z, 0-9, '_', '.', '-', starting with a letter or digit", name, c, i+1)
		}
	}
	return nil
}

// Validate checks a bank's name and threshold as a store is about to save it.
// Its errors are of kind derrors.Invalid.
func (b Bank) Validate() error {
	if err := ValidName(b.Name); err != nil {
		return derrors.Wrap(err, derrors.Invalid)
	}
	if b.Threshold < 1 || b.Threshold > MaxThreshold {
		return derrors.Wrap(fmt.Errorf("bank %q: threshold %d out of range 1..%d", b.Name, b.Threshold, MaxThreshold), derrors.Invalid)
	}
	if !(b.VPDQThreshold >= 0 && b.VPDQThreshold <= 100) {
		return derrors.Wrap(fmt.Errorf("bank %q: vPDQ threshold %g out of range 0..100 percent", b.Name, b.VPDQThreshold), derrors.Invalid)
	}
	// Bounded so that the bank's audit entry, which records it, always fits.
	if err := limits.Prose("description", b.Description, limits.Description); err != nil {
		return fmt.Errorf("bank %q: %w", b.Name, err)
	}
	return nil
}

// Entry is one hash in a bank, with its provenance.
type Entry struct {
	ID         int64
	BankID     int64
	Signal     Signal
	Value      string // normalised lower-case hex
	Source     string // who supplied it: "IWF", "self-report", "review", ...
	ExternalID string // the supplier's id for it
	Category   string // e.g. a hotline's class A/B/C
	AddedAt    time.Time
	AddedBy    string
	Note       string
}

// Normalize checks an entry's signal and value and returns it with the value
// in normal form. Stores call it on everything they are given.
func (e Entry) Normalize() (Entry, error) {
	if !e.Signal.Valid() {
		return e, fmt.Errorf("unknown signal %q", clip(string(e.Signal)))
	}
	v, err := ParseValue(e.Signal, e.Value)
	if err != nil {
		return e, err
	}
	e.Value = v
	for _, f := range [...]struct{ name, s string }{
		{"source", e.Source}, {"external_id", e.ExternalID}, {"category", e.Category},
		{"added_by", e.AddedBy}, {"note", e.Note},
	} {
		if err := validText(f.name, f.s); err != nil {
			return e, err
		}
	}
	return e, nil
}

// clip keeps error messages short when the input is long garbage.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
