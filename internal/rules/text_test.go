package rules

import (
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
)

func TestDecideText(t *testing.T) {
	half, most := 0.5, 0.9
	rs := []Rule{
		{ID: 1, Name: "grooming to review", Enabled: true, TextLabels: []string{"grooming"}, Actions: []Action{{Kind: Enqueue, Priority: 40}}},
		{ID: 2, Name: "strong sextortion", Enabled: true, TextLabels: []string{"sextortion"}, MinTextScore: &most,
			Actions: []Action{{Kind: Report}, {Kind: Enqueue, Priority: 90}, {Kind: Notify, Webhook: "trust"}}},
		{ID: 3, Name: "comments over half", Enabled: true, MinTextScore: &half, Surfaces: []Surface{Comment}, Actions: []Action{{Kind: Block}}},
		{ID: 4, Name: "a match rule", Enabled: true, Actions: []Action{{Kind: Quarantine}}},
		{ID: 5, Name: "disabled", Enabled: false, TextLabels: []string{"grooming"}, Actions: []Action{{Kind: Block}}},
	}
	dm := Content{Surface: DirectMessage}
	for _, tc := range []struct {
		name string
		c    Content
		t    Text
		want string
	}{
		{"grooming dm", dm, Text{Score: 0.7, Labels: []string{"grooming"}}, "enqueue:40 r1v0 e0 | fired 1"},
		{"weak sextortion", dm, Text{Score: 0.6, Labels: []string{"sextortion"}}, " | fired "},
		{"strong sextortion and grooming", dm, Text{Score: 0.95, Labels: []string{"grooming", "sextortion"}},
			"report r2v0 e0, enqueue:90 r2v0 e0, notify:trust r2v0 e0 | fired 1 2"},
		{"comment over half", Content{Surface: Comment}, Text{Score: 0.55, Labels: []string{"sexual_comment"}}, "block r3v0 e0 | fired 3"},
		{"comment under half", Content{Surface: Comment}, Text{Score: 0.45}, " | fired "},
	} {
		d := DecideText(rs, tc.c, tc.t)
		if got := summary(d); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
		for _, a := range d.Actions {
			if a.Text == nil || a.Text.Score != tc.t.Score {
				t.Errorf("%s: action %s carries text %+v", tc.name, a.Kind, a.Text)
			}
		}
	}
	// A text rule never fires on a hash match, and a match rule still does.
	d := Decide(rs, dm, []match.Match{{Bank: "iwf", EntryID: 7, Signal: bank.PDQ}})
	if got := summary(d); got != "quarantine r4v0 e7 | fired 4" {
		t.Errorf("matches: got %q", got)
	}
}

func TestValidateTextRule(t *testing.T) {
	bad, over := -0.1, 1.5
	for _, tc := range []struct {
		r    Rule
		want string
	}{
		{Rule{Name: "x", TextLabels: []string{"spam"}, Actions: []Action{{Kind: Block}}}, `unknown label "spam"`},
		{Rule{Name: "x", TextLabels: []string{"grooming", "grooming"}, Actions: []Action{{Kind: Block}}}, "listed twice"},
		{Rule{Name: "x", MinTextScore: &bad, Actions: []Action{{Kind: Block}}}, "min_text_score -0.1 out of range"},
		{Rule{Name: "x", MinTextScore: &over, Actions: []Action{{Kind: Block}}}, "min_text_score 1.5 out of range"},
		{Rule{Name: "x", TextLabels: []string{"grooming"}, Banks: []string{"iwf"}, Actions: []Action{{Kind: Block}}}, "cannot select on banks"},
	} {
		err := tc.r.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.r, err, tc.want)
		}
	}
	ok := Rule{Name: "x", TextLabels: []string{"sexual_comment"}, Actions: []Action{{Kind: Enqueue}}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid text rule: %v", err)
	}
}
