package tmk

import (
	"cmp"
	"slices"
)

// Index finds the banked videos a query matches. Level 1 is a brute-force
// scan of the banked averages, normalised once on Add so that each costs
// one 256-float dot product (1 KiB a video: 100 MiB at 100,000 videos);
// level 2 runs on the survivors only, with their full features fetched by
// the caller's load function, so the index never holds the 257 KiB of
// cosine/sine features a video has. Not safe for concurrent Add/Remove and
// Search; the zero value is empty and ready.
type Index struct {
	ids  []int64
	avgs []float32 // Dim per id, unit length (zero for a zero average)
	pos  map[int64]int
}

// Len is the number of videos in the index.
func (x *Index) Len() int { return len(x.ids) }

// Add puts (or replaces) video id's average in the index.
func (x *Index) Add(id int64, f *Features) {
	if x.pos == nil {
		x.pos = map[int64]int{}
	}
	v := f.Average
	normalize(v[:])
	if i, ok := x.pos[id]; ok {
		copy(x.avgs[i*Dim:], v[:])
		return
	}
	x.pos[id] = len(x.ids)
	x.ids = append(x.ids, id)
	x.avgs = append(x.avgs, v[:]...)
}

// Remove takes video id out of the index (the last one moves into its
// place, so removal is O(1)).
func (x *Index) Remove(id int64) {
	i, ok := x.pos[id]
	if !ok {
		return
	}
	last := len(x.ids) - 1
	if i != last {
		x.ids[i] = x.ids[last]
		copy(x.avgs[i*Dim:(i+1)*Dim], x.avgs[last*Dim:])
		x.pos[x.ids[i]] = i
	}
	x.ids = x.ids[:last]
	x.avgs = x.avgs[:last*Dim]
	delete(x.pos, id)
}

// Candidate is a banked video whose level-1 score reached the threshold.
type Candidate struct {
	ID     int64
	Level1 float32
}

// Level1 returns the videos whose average's cosine similarity with q's
// reaches threshold, best first.
func (x *Index) Level1(q *Features, threshold float32) []Candidate {
	v := q.Average
	normalize(v[:])
	var out []Candidate
	for i, id := range x.ids {
		if s := dot8((*[Dim]float32)(x.avgs[i*Dim:(i+1)*Dim]), &v); s >= threshold {
			out = append(out, Candidate{id, s})
		}
	}
	slices.SortFunc(out, func(a, b Candidate) int { return cmp.Compare(b.Level1, a.Level1) })
	return out
}

// Hit is a banked video that matched at both levels.
type Hit struct {
	ID    int64
	Score Score
}

// Search is the two-level match: level 1 over the index at
// Level1Threshold, then level 2 on each survivor, whose features load
// returns (from the bank's store). An error from load stops the search.
func (x *Index) Search(q *Features, load func(id int64) (*Features, error)) ([]Hit, error) {
	var hits []Hit
	for _, c := range x.Level1(q, Level1Threshold) {
		f, err := load(c.ID)
		if err != nil {
			return hits, err
		}
		s := Score{Level1: c.Level1, Level2: Level2(q, f)}
		if s.Match = s.Level2 >= Level2Threshold; s.Match {
			hits = append(hits, Hit{c.ID, s})
		}
	}
	return hits, nil
}

// dot8 is dot with eight running sums, which the compiler keeps in
// registers and the CPU overlaps: ~3 times faster than one chain of adds.
// It rounds differently from the reference's dot, by ~1e-7, far below the
// thresholds' precision.
func dot8(u, v *[Dim]float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	for i := 0; i < Dim; i += 8 {
		s0 += u[i] * v[i]
		s1 += u[i+1] * v[i+1]
		s2 += u[i+2] * v[i+2]
		s3 += u[i+3] * v[i+3]
		s4 += u[i+4] * v[i+4]
		s5 += u[i+5] * v[i+5]
		s6 += u[i+6] * v[i+6]
		s7 += u[i+7] * v[i+7]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}
