package review_test

import (
	"context"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// TestReason: a queue row's reason is the oldest person's text, cut to
// its first words (and 120 characters) with "…", else the rule's name,
// else nothing (also for a case that does not exist).
func TestReason(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		rs   []review.Report
		want string
	}{
		{"none", []review.Report{userReport("u1", review.KnownCSAM, "c")}, ""},
		{"short", []review.Report{withText(userReport("u1", review.KnownCSAM, "c"), "  a   child\tin it ")}, "a child in it"},
		{"cut at five words", []review.Report{withText(userReport("u1", review.KnownCSAM, "c"), "one two three four five six")}, "one two three four five…"},
		{"cut at 120 characters", []review.Report{withText(userReport("u1", review.KnownCSAM, "c"), strings.Repeat("é", 130))}, strings.Repeat("é", 120) + "…"},
		{"the oldest text", []review.Report{userReport("u1", review.KnownCSAM, "c"),
			withText(userReport("u2", review.KnownCSAM, "c"), "first"), withText(userReport("u3", review.KnownCSAM, "c"), "second")}, "first"},
		{"a rule's name, not its scan", []review.Report{{Source: review.Rule, Reporter: "rule:3", Category: review.KnownCSAM, ContentID: "c",
			Text: "scan scn_1", Rule: &rules.RuleRef{ID: 3, Version: 1, Name: "hotline near"}, Priority: 50}}, "rule hotline near"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _, _ := newDesk(t)
			var id int64
			for _, r := range tc.rs {
				_, c, _ := mustFile(t, d, r)
				id = c.ID
			}
			got, err := d.Reason(ctx, id, 5)
			if err != nil || got != tc.want {
				t.Fatalf("Reason = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	d, _, _ := newDesk(t)
	if got, _ := d.Reason(ctx, 99, 5); got != "" {
		t.Errorf("Reason of no case = %q", got)
	}
}

func withText(r review.Report, text string) review.Report { r.Text = text; return r }
