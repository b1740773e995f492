package audit

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
)

// Kind classifies a break in the chain.
type Kind string

// The kinds of problem Verify finds. Each names what most likely happened;
// the Problem's message says where.
const (
	Edited    Kind = "edited"    // an entry's hash does not match its contents
	Unlinked  Kind = "unlinked"  // an entry's prev is not the hash of the entry before it
	Missing   Kind = "missing"   // a gap in the sequence numbers
	Inserted  Kind = "inserted"  // a sequence number appears twice
	Reordered Kind = "reordered" // a sequence number lower than the one before it
	Anchored  Kind = "anchor"    // an entry differs from, or is missing for, a published anchor
)

// Problem is one break in the chain.
type Problem struct {
	Seq     int64  `json:"seq"` // the entry where the break shows
	Kind    Kind   `json:"kind"`
	Message string `json:"message"` // names the entries involved, e.g. "entry 42 follows 40: entry 41 missing"
}

func (p Problem) String() string { return p.Message }

// maxProblems bounds a report, so a log that was rewritten wholesale does
// not cost a Problem per entry; the rest are only counted.
const maxProblems = 1000

// Report is what Verify found.
type Report struct {
	Entries  int64     `json:"entries"`  // entries read
	First    int64     `json:"first"`    // sequence number of the first entry read
	Last     int64     `json:"last"`     // sequence number of the last entry in the chain
	Head     Sum       `json:"head"`     // the last entry's hash: publish it as an Anchor
	Anchors  int       `json:"anchors"`  // anchors checked against an entry
	Problems []Problem `json:"problems"` // the first maxProblems, in log order
	Omitted  int       `json:"omitted"`  // problems found beyond those listed
}

// OK reports whether the chain verified.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// ErrBroken is wrapped by the error Verify returns when the chain does not
// verify; the Report lists why.
var ErrBroken = errors.New("audit chain broken")

// Verify reads a log in order and checks that it is one unbroken chain from
// entry 1: every hash matches its entry's contents, every prev matches the
// hash before it, and sequence numbers run 1, 2, 3, … without gaps, repeats
// or reversals. Anchors, if given, are heads published earlier; each must
// match the entry it names, which also catches a log re-hashed from some
// point on, or cut short, after that anchor was published. Entries may
// instead start just after an anchor (Store.AuditEntries(ctx, a.Seq+1) with a):
// the anchor vouches for what came before, so a long log can be verified
// from its last checked anchor on.
//
// The error wraps ErrBroken if the chain does not verify (the Report says
// where and how), or is the error met reading the entries. Verify keeps only
// the entry before the current one, so it runs in constant memory.
func Verify(entries iter.Seq2[Entry, error], anchors ...Anchor) (Report, error) {
	var r Report
	add := func(seq int64, kind Kind, format string, args ...any) {
		if len(r.Problems) == maxProblems {
			r.Omitted++
			return
		}
		r.Problems = append(r.Problems, Problem{Seq: seq, Kind: kind, Message: fmt.Sprintf(format, args...)})
	}
	want := make(map[int64]Sum, len(anchors))
	for _, a := range anchors {
		want[a.Seq] = a.Hash
	}

	var prev Entry  // the entry the next must follow; Seq 0 before the first
	var twin *Entry // another entry numbered prev.Seq, which the next may follow instead
	for e, err := range entries {
		if err != nil {
			return r, fmt.Errorf("audit: reading the log after entry %d: %w", prev.Seq, err)
		}
		if r.Entries == 0 {
			r.First = e.Seq
			if h, ok := want[e.Seq-1]; ok && e.Seq > 1 {
				// Verifying from an anchor on: it vouches for the
				// entries before, so start the chain from it.
				prev = Entry{Seq: e.Seq - 1, Hash: h}
				r.Anchors++
				for seq := range want {
					if seq < e.Seq {
						delete(want, seq) // earlier anchors are vouched for too
					}
				}
			}
		}
		r.Entries++
		if e.Sum() != e.Hash {
			add(e.Seq, Edited, "entry %d: hash does not match its contents (edited)", e.Seq)
		}
		if h, ok := want[e.Seq]; ok {
			r.Anchors++
			delete(want, e.Seq)
			if h != e.Hash {
				add(e.Seq, Anchored, "entry %d: hash %.12s… is not the %.12s… published in an anchor (the log was rewritten from here or before)", e.Seq, e.Hash, h)
			}
		}
		switch {
		case e.Seq < 1:
			add(e.Seq, Reordered, "entry %d: sequence numbers start at 1", e.Seq)
			continue
		case e.Seq == prev.Seq+1:
			if e.Prev != prev.Hash && (twin == nil || e.Prev != twin.Hash) {
				if prev.Seq == 0 {
					add(e.Seq, Unlinked, "entry 1: prev is not zero (the start of the log was replaced)")
				} else {
					add(e.Seq, Unlinked, "entry %d: prev does not match entry %d's hash", e.Seq, prev.Seq)
				}
			}
		case e.Seq > prev.Seq+1:
			switch {
			case prev.Seq == 0:
				add(e.Seq, Missing, "the log starts at entry %d: %s missing", e.Seq, span(1, e.Seq-1))
			default:
				add(e.Seq, Missing, "entry %d follows %d: %s missing", e.Seq, prev.Seq, span(prev.Seq+1, e.Seq-1))
			}
		case e.Seq == prev.Seq:
			add(e.Seq, Inserted, "entry %d appears twice (one was inserted)", e.Seq)
			twin = &e // the next entry may follow either of the two
			continue
		default:
			add(e.Seq, Reordered, "entry %d follows %d: out of order (moved)", e.Seq, prev.Seq)
			continue
		}
		prev, twin = e, nil
	}
	r.Last, r.Head = prev.Seq, prev.Hash
	for _, seq := range slices.Sorted(maps.Keys(want)) {
		if seq > prev.Seq {
			add(seq, Anchored, "an anchor names entry %d but the log ends at entry %d: %s missing (cut short)", seq, prev.Seq, span(prev.Seq+1, seq))
		} else {
			add(seq, Anchored, "an anchor names entry %d, which is missing", seq)
		}
	}
	if !r.OK() {
		return r, fmt.Errorf("audit: %d problems, the first: %s: %w", len(r.Problems)+r.Omitted, r.Problems[0], ErrBroken)
	}
	return r, nil
}

// span names a run of missing entries.
func span(from, to int64) string {
	if from == to {
		return fmt.Sprintf("entry %d", from)
	}
	return fmt.Sprintf("entries %d–%d", from, to)
}
