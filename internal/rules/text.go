package rules

import (
	"slices"

	"github.com/safeguard-oss/safeguard/internal/match"
)

// TextLabels are the labels a text signal can carry (internal/textrisk's
// categories), which a text rule's TextLabels select on.
var TextLabels = []string{"grooming", "sextortion", "sexual_comment"}

// Text is a text signal as rules see it: the score and labels of a message
// (or of its conversation, whichever is higher).
type Text struct {
	Score  float64  `json:"score"`
	Labels []string `json:"labels"`
}

// IsText reports whether r is a text rule (selects on text labels or score).
func (r Rule) IsText() bool { return len(r.TextLabels) > 0 || r.MinTextScore != nil }

func (r Rule) validateText(bad func(string, ...any)) {
	for i, l := range r.TextLabels {
		if !slices.Contains(TextLabels, l) {
			bad("text_labels: unknown label %q: want one of %s", clip(l), list(TextLabels))
		} else if j := slices.Index(r.TextLabels, l); j < i {
			bad("text_labels: %q is listed twice", l)
		}
	}
	if m := r.MinTextScore; m != nil && !(*m >= 0 && *m <= 1) {
		bad("min_text_score %v out of range 0..1", *m)
	}
	if r.IsText() && (len(r.Banks) > 0 || len(r.Signals) > 0 || r.MaxDistance != nil || len(r.Categories) > 0) {
		bad("a text rule (text_labels, min_text_score) cannot select on banks, signals, max_distance or categories: text has no hash matches")
	}
}

// DecideText applies the enabled text rules to one text signal t of content
// c, as Decide does for matches: the same ordering and merging of actions.
// A text rule fires when its surface and visibility selectors hold, the
// score is at least MinTextScore and, if TextLabels is set, t carries one
// of them. Each Decided carries t in Text.
func DecideText(rs []Rule, c Content, t Text) Decision {
	return decide(rs, func(r *Rule) (match.Match, bool) {
		if !r.IsText() || !r.context(c) {
			return match.Match{}, false
		}
		if r.MinTextScore != nil && t.Score < *r.MinTextScore {
			return match.Match{}, false
		}
		if len(r.TextLabels) > 0 && !slices.ContainsFunc(r.TextLabels, func(l string) bool { return slices.Contains(t.Labels, l) }) {
			return match.Match{}, false
		}
		return match.Match{}, true
	}, &t)
}
