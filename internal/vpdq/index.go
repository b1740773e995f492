package vpdq

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/safeguard-oss/safeguard/internal/hamming"
)

// Index holds the frames of many videos, each under a caller's key (the
// matcher's bank<<40|entry id, say), and finds the videos a query video
// matches under its Rule. Each banked frame is one code in a Hamming index,
// so a lookup costs one radius search per query frame, not a scan of every
// banked frame; the hits are then grouped per banked video to give the
// rule's two percentages.
//
// An Index is not safe for concurrent writes; Search is safe alongside
// other Searches when no writer runs (callers hold an RWMutex). The zero
// value is not ready: use NewIndex.
type Index struct {
	rule   Rule
	codes  *hamming.Index
	videos map[uint64]*banked // by slot
	slots  map[uint64]uint64  // key -> slot
	next   uint64             // next slot
}

// banked is one video in the index.
type banked struct {
	key    uint64
	frames int // distinct usable frames: the compared percentage's denominator
}

// A code's id in the Hamming index is slot<<frameBits | frame ordinal, so a
// hit names its video without a side table per frame.
const (
	frameBits = 24
	maxSlot   = 1<<(64-frameBits) - 1
)

// ErrNoUsableFrames says a video has no frame of the rule's quality, so
// there is nothing to bank (python-threatexchange refuses it too).
var ErrNoUsableFrames = errors.New("vpdq: no frame reaches the quality threshold")

// NewIndex returns an empty index that matches under rule.
func NewIndex(rule Rule) *Index {
	return &Index{rule: rule, codes: hamming.New(), videos: map[uint64]*banked{}, slots: map[uint64]uint64{}}
}

// Len returns the number of videos in the index.
func (x *Index) Len() int { return len(x.videos) }

// Frames returns the number of frame codes the index holds.
func (x *Index) Frames() int { return x.codes.Len() }

// Add indexes a video's frames under key, replacing what key had.
func (x *Index) Add(key uint64, frames []Frame) error {
	hashes := x.rule.Prepare(frames)
	if len(hashes) == 0 {
		return ErrNoUsableFrames
	}
	if len(hashes) >= 1<<frameBits {
		return fmt.Errorf("vpdq: %d distinct frames, over the index's limit of %d", len(hashes), 1<<frameBits-1)
	}
	if x.next > maxSlot {
		return errors.New("vpdq: index slots exhausted; rebuild it")
	}
	x.Remove(key)
	slot := x.next
	x.next++
	x.videos[slot] = &banked{key: key, frames: len(hashes)}
	x.slots[key] = slot
	for i, h := range hashes {
		x.codes.Add(slot<<frameBits|uint64(i), hamming.Code(h.Words()))
	}
	return nil
}

// Remove drops key's video and reports whether it was there.
func (x *Index) Remove(key uint64) bool {
	slot, ok := x.slots[key]
	if !ok {
		return false
	}
	v := x.videos[slot]
	for i := 0; i < v.frames; i++ {
		x.codes.Remove(slot<<frameBits | uint64(i))
	}
	delete(x.videos, slot)
	delete(x.slots, key)
	return true
}

// Match is one banked video a query matched.
type Match struct {
	Key uint64
	Result
}

// Search returns the banked videos that query matches under the index's
// rule, best query percentage first (then compared percentage, then key).
func (x *Index) Search(query []Frame) []Match {
	return x.SearchRule(query, x.rule)
}

// SearchRule is Search with other percentage thresholds (a bank's own):
// the quality and distance stay the index's, since they shaped what was
// indexed.
func (x *Index) SearchRule(query []Frame, rule Rule) []Match {
	rule.Quality, rule.Distance = x.rule.Quality, x.rule.Distance
	hashes := rule.Prepare(query)
	if len(hashes) == 0 {
		return nil
	}
	type tally struct {
		lastQuery int      // the query frame counted last, so each counts once
		queryHits int      // query frames with a hit in this video
		seen      []uint64 // bitset of this video's frames hit
		frameHits int
	}
	tallies := map[uint64]*tally{}
	var hits []hamming.Result
	for qi, h := range hashes {
		hits = x.codes.Search(hamming.Code(h.Words()), rule.Distance, hits[:0])
		for _, hit := range hits {
			slot, frame := hit.ID>>frameBits, int(hit.ID&(1<<frameBits-1))
			t := tallies[slot]
			if t == nil {
				t = &tally{lastQuery: -1, seen: make([]uint64, (x.videos[slot].frames+63)/64)}
				tallies[slot] = t
			}
			if t.lastQuery != qi {
				t.lastQuery = qi
				t.queryHits++
			}
			if w, b := frame/64, uint64(1)<<(frame%64); t.seen[w]&b == 0 {
				t.seen[w] |= b
				t.frameHits++
			}
		}
	}
	var out []Match
	for slot, t := range tallies {
		v := x.videos[slot]
		r := Result{
			QueryPercent:    float64(t.queryHits) * 100 / float64(len(hashes)),
			ComparedPercent: float64(t.frameHits) * 100 / float64(v.frames),
		}
		if rule.Matches(r) {
			out = append(out, Match{Key: v.key, Result: r})
		}
	}
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(b.QueryPercent, a.QueryPercent),
			cmp.Compare(b.ComparedPercent, a.ComparedPercent), cmp.Compare(a.Key, b.Key))
	})
	return out
}
