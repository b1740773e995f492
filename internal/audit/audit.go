// Package audit is Safeguard's append-only, hash-chained audit log: every scan
// decision, rule change, bank change, key change and review decision leaves an
// entry that carries the SHA-256 of the entry before it.
//
// The chain is what lets the log stand up later. Anyone holding the head hash
// (see Anchor) can re-verify every entry up to it, and an entry edited,
// deleted, inserted or moved after the fact breaks the chain at a point that
// Verify names. The hashed encoding is fixed byte for byte (docs/audit.md) so
// an auditor can re-verify with any language, without our code.
//
// The package is the domain only: a Store (SQL under internal/store, an
// in-memory one in audittest) keeps the entries, and Log builds them.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"time"
)

// Sum is a SHA-256 digest: an entry's hash, or the hash of the entry before
// it. In JSON and text it is 64 lower-case hex digits.
type Sum [32]byte

// String returns the 64 lower-case hex digits.
func (s Sum) String() string { return hex.EncodeToString(s[:]) }

// MarshalText implements encoding.TextMarshaler.
func (s Sum) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Sum) UnmarshalText(text []byte) error {
	v, err := ParseSum(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSum reads a digest from its 64 hex digits (either case).
func ParseSum(s string) (Sum, error) {
	var d Sum
	if len(s) != 2*len(d) {
		return d, fmt.Errorf("audit: hash %q: want 64 hex digits, got %d characters", clip(s), len(s))
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, fmt.Errorf("audit: hash %q: %v", clip(s), err)
	}
	return d, nil
}

// clip keeps error messages short when the input is long garbage.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// Entry is one record of the log. Seq numbers entries 1, 2, 3, … with no
// gaps; the first entry's Prev is all zeros.
type Entry struct {
	Seq     int64           `json:"seq"`
	Time    time.Time       `json:"time"`
	Actor   string          `json:"actor"`  // an API key's id, or "system"
	Action  string          `json:"action"` // e.g. "scan.decision"; see the Action constants
	Subject string          `json:"subject"`
	Detail  json.RawMessage `json:"detail,omitempty"` // compact JSON, or empty
	Prev    Sum             `json:"prev"`
	Hash    Sum             `json:"hash"`
}

// tag opens the hashed encoding, so a digest of an audit entry can never be
// mistaken for the digest of anything else, and names the format version.
const tag = "SGAUDIT1"

// Encode appends the canonical encoding of e — the bytes its Hash is the
// SHA-256 of — to b. Every field but Hash is covered, each either of fixed
// size or prefixed with its length, so no two different entries encode alike:
//
//	"SGAUDIT1"                 8 bytes
//	Seq                        8 bytes, big-endian
//	Time                       4-byte big-endian length, then UTC RFC 3339 with
//	                           nanoseconds, trailing zeros trimmed ("…T01:02:03.5Z")
//	Actor, Action, Subject     each a 4-byte big-endian length, then the UTF-8 bytes
//	Detail                     4-byte big-endian length, then the JSON bytes as stored
//	Prev                       32 bytes
func (e *Entry) Encode(b []byte) []byte {
	b = append(b, tag...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = appendField(b, e.Time.UTC().Format(time.RFC3339Nano))
	b = appendField(b, e.Actor)
	b = appendField(b, e.Action)
	b = appendField(b, e.Subject)
	b = appendField(b, string(e.Detail))
	return append(b, e.Prev[:]...)
}

func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Sum returns the hash e's contents call for: the SHA-256 of its encoding.
// It differs from e.Hash only if the entry was changed after it was made.
func (e *Entry) Sum() Sum {
	return sha256.Sum256(e.Encode(make([]byte, 0, 128+len(e.Actor)+len(e.Action)+len(e.Subject)+len(e.Detail))))
}

// Next returns the entry that follows last (nil for the first entry of the
// log), with its Seq, Prev and Hash set. The time is kept to the microsecond,
// since that is all PostgreSQL's timestamptz holds and the hash must survive
// a round trip through any store.
func Next(last *Entry, t time.Time, actor, action, subject string, detail json.RawMessage) Entry {
	e := Entry{
		Seq:     1,
		Time:    t.UTC().Truncate(time.Microsecond),
		Actor:   actor,
		Action:  action,
		Subject: subject,
		Detail:  detail,
	}
	if last != nil {
		e.Seq = last.Seq + 1
		e.Prev = last.Hash
	}
	e.Hash = e.Sum()
	return e
}

// Follows checks that e may be stored after last (nil: the log is empty):
// it has the next Seq, chains to last's hash, and its time survives a
// store's microsecond precision, so that it comes back with the hash it was
// given. Stores call it inside the transaction that appends e.
func Follows(last *Entry, e Entry) error {
	want, prev := int64(1), Sum{}
	if last != nil {
		want, prev = last.Seq+1, last.Hash
	}
	if e.Seq != want || e.Prev != prev {
		return fmt.Errorf("entry %d (prev %s) does not follow entry %d (hash %s)", e.Seq, e.Prev, want-1, prev)
	}
	if !e.Time.Equal(e.Time.Truncate(time.Microsecond)) {
		// Stored, it would come back a different time, with a different
		// hash: refuse rather than break the chain.
		return fmt.Errorf("entry %d: time %s is finer than a microsecond", e.Seq, e.Time.Format(time.RFC3339Nano))
	}
	return nil
}

// Store keeps the entries of one log. Implementations must keep entries
// exactly as given — Detail byte for byte (text or bytea, never jsonb, which
// rewrites JSON) and Time to the microsecond — or the hashes stop matching.
// The method names say "audit" so that one store type can implement this
// and every other domain's interface. audittest.TestStore checks an
// implementation.
type Store interface {
	// AppendAudit calls build with the last entry of the log (nil when the
	// log is empty) and stores the entry build returns, both inside one
	// serialised transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: a
	// transaction-scoped advisory lock), so that concurrent appenders chain
	// one after another and never fork the chain. If build fails, nothing
	// is stored and its error is returned. An entry whose Seq is not one
	// more than the last's is refused (Seq is the primary key).
	AppendAudit(ctx context.Context, build func(last *Entry) (Entry, error)) (Entry, error)

	// AuditEntries yields the entries with Seq ≥ fromSeq in increasing Seq
	// order. A failure to read is yielded as an error, after which
	// iteration stops.
	AuditEntries(ctx context.Context, fromSeq int64) iter.Seq2[Entry, error]

	// LastAudit returns the last entry, or nil when the log is empty.
	LastAudit(ctx context.Context) (*Entry, error)
}

// Finder is a Store that finds the entries about one subject through an
// index (both SQL stores). Readers that ask per subject use it when their
// Store has it, and read the whole log otherwise.
type Finder interface {
	// AuditEntriesAbout returns the entries with the action and subject,
	// in increasing Seq order.
	AuditEntriesAbout(ctx context.Context, action, subject string) ([]Entry, error)
}
