package textmsg

import (
	"context"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

// Reviewed returns reviewers' decisions on text reports received since
// then (the zero time: all) as learning examples for textrisk's model: a
// confirmed case's messages are positive, a dismissed one's negative.
// Reports still undecided are left out. A case is decided as a whole, so
// every message of a confirmed conversation that fired a rule counts as
// confirmed.
func Reviewed(ctx context.Context, st review.Store, since time.Time) ([]textrisk.Example, error) {
	rs, err := st.Reports(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("reading reviewed text reports: %w", err)
	}
	var ex []textrisk.Example
	for _, r := range rs {
		t, ok := r.TextExample()
		if !ok {
			continue
		}
		e := textrisk.Example{Positive: t.Confirmed, Message: textrisk.Message{
			Text: t.Text, Surface: textrisk.Surface(t.Surface), OnChildContent: t.ChildContent, TargetAge: t.TargetAge, AuthorAge: t.AuthorAge}}
		if t.Confirmed && len(t.Labels) > 0 {
			e.Label = t.Labels[0]
		}
		ex = append(ex, e)
	}
	return ex, nil
}
