package vpdq

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// randomVideo makes n frames drifting from a random start: neighbours a few
// bits apart, as in a real shot, with every so often a cut to a new shot.
func randomVideo(r *rand.Rand, n int) []Frame {
	var h pdq.Hash
	frames := make([]Frame, n)
	for i := range frames {
		if i%40 == 0 {
			for j := range h {
				h[j] = byte(r.Uint32())
			}
		} else {
			h[r.IntN(32)] ^= 1 << r.IntN(8)
		}
		frames[i] = Frame{Number: i, Quality: 30 + r.IntN(71), Hash: h, Timestamp: float64(i) / 30}
	}
	return frames
}

// perturb flips k random bits of every frame.
func perturb(r *rand.Rand, frames []Frame, k int) []Frame {
	out := make([]Frame, len(frames))
	for i, f := range frames {
		for j := 0; j < k; j++ {
			f.Hash[r.IntN(32)] ^= 1 << r.IntN(8)
		}
		out[i] = f
	}
	return out
}

// TestIndexAgreesWithCompare: for random banks and queries (some derived
// from banked videos), Index finds exactly the videos brute-force Compare
// says match, with the same percentages.
func TestIndexAgreesWithCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rule := Rule{Quality: 50, Distance: 31, QueryPercent: 30, ComparedPercent: 10}
	x := NewIndex(rule)
	bank := map[uint64][]Frame{}
	for k := uint64(0); k < 60; k++ {
		v := randomVideo(r, 20+r.IntN(200))
		bank[k<<40|k] = v
		if err := x.Add(k<<40|k, v); err != nil {
			t.Fatal(err)
		}
	}
	for q := 0; q < 40; q++ {
		var query []Frame
		if q%2 == 0 {
			src := bank[uint64(q)<<40|uint64(q)]
			lo := r.IntN(len(src) / 2)
			query = perturb(r, src[lo:lo+1+r.IntN(len(src)-lo)], r.IntN(20))
		} else {
			query = randomVideo(r, 50)
		}
		want := map[uint64]Result{}
		for k, v := range bank {
			if res := rule.Compare(query, v); rule.Matches(res) {
				want[k] = res
			}
		}
		got := x.Search(query)
		if len(got) != len(want) {
			t.Fatalf("query %d: %d matches, brute force finds %d", q, len(got), len(want))
		}
		for i, m := range got {
			if w, ok := want[m.Key]; !ok || !near(w.QueryPercent, m.QueryPercent) || !near(w.ComparedPercent, m.ComparedPercent) {
				t.Fatalf("query %d: match %+v, brute force %+v (found %v)", q, m, w, ok)
			}
			if i > 0 && got[i-1].QueryPercent < m.QueryPercent {
				t.Fatalf("query %d: matches not sorted by query percentage", q)
			}
		}
	}
}

func TestIndexReplaceAndRemove(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b := randomVideo(r, 100), randomVideo(r, 100)
	for i := range a {
		a[i].Quality, b[i].Quality = 100, 100
	}
	x := NewIndex(DefaultRule)
	if err := x.Add(7, a); err != nil {
		t.Fatal(err)
	}
	if m := x.Search(a); len(m) != 1 || m[0].Key != 7 || m[0].QueryPercent != 100 {
		t.Fatalf("search for a banked video: %+v", m)
	}
	if err := x.Add(7, b); err != nil { // replaces a
		t.Fatal(err)
	}
	if m := x.Search(a); len(m) != 0 {
		t.Fatalf("replaced video still found: %+v", m)
	}
	if n := len(DefaultRule.Prepare(b)); x.Len() != 1 || x.Frames() != n {
		t.Fatalf("after replace: %d videos, %d frames; want 1, %d", x.Len(), x.Frames(), n)
	}
	if !x.Remove(7) || x.Remove(7) || x.Len() != 0 || x.Frames() != 0 {
		t.Fatal("Remove did not drop the video exactly once")
	}
	low := []Frame{{Quality: 49}}
	if err := x.Add(8, low); !errors.Is(err, ErrNoUsableFrames) {
		t.Fatalf("Add of a video with no usable frame: %v", err)
	}
}

// TestSearchRule applies a bank's own thresholds to the same index.
func TestSearchRule(t *testing.T) {
	chair20, logo := readRef(t, "chair-20-sd-bar"), readRef(t, "chair-22-with-large-logo-bar")
	x := NewIndex(DefaultRule)
	if err := x.Add(1, logo); err != nil {
		t.Fatal(err)
	}
	if m := x.Search(chair20); len(m) != 0 {
		t.Fatalf("10.53%% matched at the default 80%%: %+v", m)
	}
	if m := x.SearchRule(chair20, Rule{QueryPercent: 10}); len(m) != 1 {
		t.Fatalf("10.53%% did not match a 10%% threshold: %+v", m)
	}
}
