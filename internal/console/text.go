package console

import (
	"cmp"
	"slices"

	"github.com/safeguard-oss/safeguard/internal/review"
)

// segment is a run of a message's text, marked when a phrase that fired
// covers it (Why names the family and label, for the tooltip).
type segment struct {
	Text string
	Mark bool
	Why  string
}

// marked cuts text at its highlights so the template can wrap the phrases
// that fired in <mark>, escaping everything. Overlapping spans merge;
// spans outside the text or splitting a UTF-8 sequence are dropped by
// clamping to the text (the API has validated them).
func marked(text string, hs []review.Highlight) []segment {
	hs = slices.Clone(hs)
	slices.SortFunc(hs, func(a, b review.Highlight) int { return cmp.Compare(a.Start, b.Start) })
	var out []segment
	at := 0
	for _, h := range hs {
		start, end := max(h.Start, at), min(h.End, len(text))
		if start >= end {
			continue
		}
		if start > at {
			out = append(out, segment{Text: text[at:start]})
		}
		out = append(out, segment{Text: text[start:end], Mark: true, Why: h.Family + " (" + h.Label + ")"})
		at = end
	}
	if at < len(text) {
		out = append(out, segment{Text: text[at:]})
	}
	return out
}
