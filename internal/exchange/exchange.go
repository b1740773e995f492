// Package exchange pulls hash lists that others share — NCMEC's hash sharing,
// StopNCII, Meta's ThreatExchange, hotlines' files, other Safeguard
// instances — into banks.
//
// Each wire format lives in a sub-package and implements Fetcher: it reads
// upstream from a Checkpoint and hands back pages of Records. This package
// does the rest the same way for all of them: it turns records into bank
// entries with provenance, applies each page through a Sink together with the
// checkpoint after it (so a crash never moves the checkpoint past changes
// that were not applied), runs each exchange on its own goroutine so fetches
// never slow lookups, keeps one fetcher per exchange across nodes through a
// Lock, retries what is worth retrying, and keeps a Status per exchange.
//
// The package knows nothing of SQL or of how banks are written: the server
// implements Sink, Checkpoints and Lock over its store and its bank-change
// use case; exchangetest has in-memory ones.
package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
)

// Fetcher reads one upstream list. Each wire format implements it.
type Fetcher interface {
	// Fetch reads upstream changes from the position in from, calling page
	// for each page in upstream order, and returns nil once it has caught up
	// with upstream. A page's Checkpoint is the position after it; Fetch
	// stops at page's first error and returns it. Fetch may return an
	// error after some pages: those stay applied, and the next Fetch starts
	// from the last page's checkpoint.
	Fetch(ctx context.Context, from Checkpoint, page func(Page) error) error
}

// Checkpoint is where an exchange's next fetch starts.
type Checkpoint struct {
	// Position is the format's own cursor, in a form only its Fetcher reads
	// (a time, a paging link, a sequence number). Empty means from the
	// beginning.
	Position string `json:"position"`
	// UpdatedAt is when the checkpoint was written; set by the Runner.
	UpdatedAt time.Time `json:"updated_at"`
}

// Page is one page of upstream records and the position after it.
type Page struct {
	Records []Record
	// Checkpoint is the position after this page. A format whose window is
	// not in order (NCMEC) moves its window start only when a window is
	// exhausted; a page inside the window carries the link to the next page.
	Checkpoint Checkpoint
	// Complete says Records are the exchange's whole list (a file list):
	// whatever the bank holds from this exchange under another record ID is
	// removed.
	Complete bool
	// Malformed counts upstream records of this page that could not be read
	// and were skipped; Problems says why, for the first few.
	Malformed int
	Problems  []string
}

// MaxProblems bounds the reasons a Page or a Status keeps for malformed
// records: the count says how many there were, a few reasons say why.
const MaxProblems = 5

// Skip notes a malformed record on the page.
func (p *Page) Skip(format string, args ...any) {
	p.Malformed++
	if len(p.Problems) < MaxProblems {
		p.Problems = append(p.Problems, Clip(fmt.Sprintf(format, args...)))
	}
}

// Record is one upstream record: an image, a video or a hash with its
// upstream id. A record may carry several fingerprints (NCMEC gives MD5,
// SHA-1, PDQ ... of one image); it replaces whatever an earlier record with
// the same ID said.
type Record struct {
	// ID is the record's upstream id, unique within the exchange. It is
	// kept as the entries' ExternalID, and tombstones name it.
	ID string
	// Deleted marks a tombstone: the record's entries are removed.
	Deleted bool
	// Classification is upstream's category for the record (NCMEC's "A1",
	// a ThreatExchange tag); kept as the entries' Category.
	Classification string
	// Note is kept with each entry: upstream facts worth showing a
	// reviewer (who submitted it, case numbers).
	Note         string
	Fingerprints []Fingerprint
}

// Fingerprint is one hash of a record, of any kind upstream sends; those a
// bank cannot hold are carried in the Change and counted as skipped.
type Fingerprint struct {
	Kind  Kind
	Value string
}

// Kind names a kind of fingerprint. The kinds a bank holds are spelled as
// bank.Signal spells them; the rest are carried and counted, so a list's
// video hashes are ready once the matcher supports them.
type Kind string

// Fingerprint kinds upstream lists send. PDQ, MD5, SHA256 and VPDQ are
// bank signals; the others are not (yet).
const (
	PDQ      Kind = Kind(bank.PDQ)
	MD5      Kind = Kind(bank.MD5)
	SHA256   Kind = Kind(bank.SHA256)
	SHA1     Kind = "sha1"
	PhotoDNA Kind = "pdna"
	TMK      Kind = "tmk"
	VPDQ     Kind = Kind(bank.VPDQ)
)

// Signal returns the bank signal of the kind, and whether a bank holds it.
func (k Kind) Signal() (bank.Signal, bool) {
	s := bank.Signal(k)
	return s, s.Valid()
}

// Change sets what a bank holds under one record ID from an exchange.
type Change struct {
	ID string // the record's upstream ID
	// Entries are the record's entries, normalised, with provenance. None
	// means the record is gone: a tombstone, or a record whose every
	// fingerprint was unusable.
	Entries []bank.Entry
	// Unsupported are the record's fingerprints of kinds a bank cannot
	// hold yet, carried so a store may keep them for later.
	Unsupported []Fingerprint
}

// Batch is one page's changes to a bank and the checkpoint after them.
type Batch struct {
	Exchange string // the exchange's name
	Bank     string // the bank it fills
	Changes  []Change
	// Complete: the bank's entries from this exchange under an ID not in
	// Changes are removed (see Page.Complete).
	Complete   bool
	Checkpoint Checkpoint
}

// Sink applies fetched changes to banks.
type Sink interface {
	// Apply makes the bank hold, for each Change's ID, exactly the Change's
	// entries from this exchange (removing what that ID held before and is
	// no longer there, leaving what is unchanged untouched), and stores the
	// checkpoint, in one step: either all of it happens or none. Applying
	// the same batch twice must change nothing the second time, because
	// after a crash between Apply and the caller learning of it, the page
	// is fetched and applied again.
	Apply(ctx context.Context, b Batch) error
}

// Checkpoints reads the checkpoints a Sink stored.
type Checkpoints interface {
	// Load returns the exchange's checkpoint, or the zero Checkpoint if it
	// has none yet.
	Load(ctx context.Context, exchange string) (Checkpoint, error)
}

// Lock keeps one fetcher per exchange running across all nodes.
type Lock interface {
	// TryLock takes the exchange's lock if no one holds it. ok is false if
	// another holder has it; otherwise release must be called when the
	// fetch ends. A lock whose holder dies (its connection drops) must free
	// itself.
	TryLock(ctx context.Context, exchange string) (release func(), ok bool, err error)
}

// ErrAuth is wrapped by errors of credentials upstream refused. It is
// permanent: retrying with the same credentials only risks a lock-out, so
// the Runner stops the exchange until it is reconfigured.
var ErrAuth = errors.New("upstream refused the credentials")

// PermanentError marks an error that retrying cannot fix (a refused
// request, a bad configuration); the Runner stops polling the exchange.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports whether err is one that retrying cannot fix.
func Permanent(err error) bool {
	var p *PermanentError
	return errors.Is(err, ErrAuth) || errors.As(err, &p)
}

// Clip keeps error messages short when upstream sends long garbage.
func Clip(s string) string {
	if len(s) > 200 {
		return s[:197] + "..."
	}
	return s
}

// ReadPosition decodes a checkpoint's Position, which the format wrote as
// JSON with PositionOf, into v; an empty Position leaves v as it is. A
// Position that does not decode is a permanent error: fetching from a guess
// could skip upstream changes.
func ReadPosition(cp Checkpoint, v any) error {
	if cp.Position == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(cp.Position), v); err != nil {
		return &PermanentError{Err: fmt.Errorf("checkpoint %q: %v", Clip(cp.Position), err)}
	}
	return nil
}

// PositionOf is the checkpoint of a format's position, as JSON.
func PositionOf(v any) Checkpoint {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("exchange: a position that does not encode: %v", err)) // positions are plain structs
	}
	return Checkpoint{Position: string(b)}
}
