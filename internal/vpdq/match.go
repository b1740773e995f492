package vpdq

import "github.com/safeguard-oss/safeguard/internal/pdq"

// Rule is python-threatexchange's vPDQ match rule (vpdq_util, vpdq_index
// and vpdq_brute_matcher), the one Hasher-Matcher-Actioner applies:
// frames below Quality are dropped and repeated identical hashes kept once;
// a frame of one video matches when some frame of the other is within
// Distance (inclusive); the query percentage is the share of the query's
// frames that match the banked video, the compared percentage the share of
// the banked video's frames that match the query; it is a match when both
// reach their thresholds.
//
// The reference C++ tool (matchTwoHash) differs: distance strictly below
// the threshold, no dedupe, and its README names the two percentages the
// other way round. docs/video.md has the details.
type Rule struct {
	Quality         int     // frames of lower quality are ignored (50)
	Distance        int     // largest Hamming distance of matching frames (31)
	QueryPercent    float64 // least query_match_percent that matches (80)
	ComparedPercent float64 // least compared_match_percent that matches (0)
}

// DefaultRule is python-threatexchange's defaults.
var DefaultRule = Rule{Quality: 50, Distance: 31, QueryPercent: 80, ComparedPercent: 0}

// Result is how much two videos share, in percent of their usable frames.
type Result struct {
	QueryPercent    float64 // query_match_percent
	ComparedPercent float64 // compared_match_percent
}

// Matches reports whether r reaches rule's thresholds.
func (rule Rule) Matches(r Result) bool {
	return r.QueryPercent >= rule.QueryPercent && r.ComparedPercent >= rule.ComparedPercent
}

// Prepare returns the distinct hashes of frames of at least rule.Quality,
// in first-seen order: what the rule compares. Python's index filters
// before deduplicating (prepare_vpdq_feature), as here; its brute matcher
// deduplicates first, which differs only when one hash occurs at two
// qualities on both sides of the threshold.
func (rule Rule) Prepare(frames []Frame) []pdq.Hash {
	seen := make(map[pdq.Hash]struct{}, len(frames))
	out := make([]pdq.Hash, 0, len(frames))
	for _, f := range frames {
		if f.Quality < rule.Quality {
			continue
		}
		if _, dup := seen[f.Hash]; dup {
			continue
		}
		seen[f.Hash] = struct{}{}
		out = append(out, f.Hash)
	}
	return out
}

// Compare measures query against one other video by brute force, for two
// videos at hand; Index answers the same against many. A side with no
// usable frames gives 0 percent.
func (rule Rule) Compare(query, compared []Frame) Result {
	q, c := rule.Prepare(query), rule.Prepare(compared)
	return Result{
		QueryPercent:    percentIn(q, c, rule.Distance),
		ComparedPercent: percentIn(c, q, rule.Distance),
	}
}

// percentIn is the share of a's hashes within distance of some hash of b.
func percentIn(a, b []pdq.Hash, distance int) float64 {
	if len(a) == 0 {
		return 0
	}
	n := 0
	for _, x := range a {
		for _, y := range b {
			if pdq.Distance(x, y) <= distance {
				n++
				break
			}
		}
	}
	return float64(n) * 100 / float64(len(a))
}
