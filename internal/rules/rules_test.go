package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
)

func intp(n int) *int { return &n }

func TestValidate(t *testing.T) {
	base := func() Rule {
		return Rule{Name: "block known", Enabled: true, Actions: []Action{{Kind: Block}}}
	}
	tests := []struct {
		name   string
		change func(r *Rule)
		want   []string // problems, in order; none for a valid rule
	}{
		{"minimal", func(r *Rule) {}, nil},
		{"everything", func(r *Rule) {
			r.Banks = []string{"iwf", "self-report"}
			r.Signals = []bank.Signal{bank.PDQ, bank.SHA256}
			r.MaxDistance = intp(0)
			r.Surfaces = Surfaces
			r.Visibility = Visibilities
			r.Categories = []string{"A", "B", "Ünïcode"}
			r.Actions = []Action{{Kind: Block}, {Kind: Quarantine}, {Kind: Report},
				{Kind: Enqueue, Priority: MaxPriority}, {Kind: Notify, Webhook: "a"}, {Kind: Notify, Webhook: "b"}}
			r.UpdatedBy = "admin"
		}, nil},
		{"max distance at the bank limit", func(r *Rule) { r.MaxDistance = intp(bank.MaxThreshold) }, nil},
		{"unicode name", func(r *Rule) { r.Name = "Blocage — catégorie A" }, nil},

		{"empty name", func(r *Rule) { r.Name = " " }, []string{"name is empty"}},
		{"long name", func(r *Rule) { r.Name = strings.Repeat("é", 129) }, []string{"name is 129 characters, limit 128"}},
		{"padded name", func(r *Rule) { r.Name = " x" }, []string{"name has leading or trailing space"}},
		{"control in name", func(r *Rule) { r.Name = "a\nb" }, []string{"name has a control character at byte 2"}},
		{"bad utf-8 name", func(r *Rule) { r.Name = "a\xffb" }, []string{"name is not valid UTF-8"}},
		{"negative id and version", func(r *Rule) { r.ID, r.Version = -1, -2 }, []string{"id -1 is negative", "version -2 is negative"}},
		{"bad bank name", func(r *Rule) { r.Banks = []string{"IWF"} }, []string{`banks: bank name "IWF": 'I' at position 1`}},
		{"bank twice", func(r *Rule) { r.Banks = []string{"iwf", "x", "iwf"} }, []string{`banks: "iwf" is listed twice`}},
		{"unknown signal", func(r *Rule) { r.Signals = []bank.Signal{"tmk"} }, []string{`signals: unknown signal "tmk": want one of pdq, md5, sha256`}},
		{"signal twice", func(r *Rule) { r.Signals = []bank.Signal{bank.MD5, bank.MD5} }, []string{`signals: "md5" is listed twice`}},
		{"distance too far", func(r *Rule) { r.MaxDistance = intp(65) }, []string{"max_distance 65 out of range 0..64"}},
		{"negative distance", func(r *Rule) { r.MaxDistance = intp(-1) }, []string{"max_distance -1 out of range 0..64"}},
		{"distance without pdq", func(r *Rule) { r.Signals = []bank.Signal{bank.MD5}; r.MaxDistance = intp(3) },
			[]string{"max_distance applies only to pdq, and signals does not include it"}},
		{"unknown surface", func(r *Rule) { r.Surfaces = []Surface{"story"} },
			[]string{`surfaces: unknown surface "story": want one of post, comment, profile, direct_message`}},
		{"surface twice", func(r *Rule) { r.Surfaces = []Surface{Post, Post} }, []string{`surfaces: "post" is listed twice`}},
		{"unknown visibility", func(r *Rule) { r.Visibility = []Visibility{"friends"} },
			[]string{`visibility: unknown visibility "friends": want one of public, unlisted, private`}},
		{"visibility twice", func(r *Rule) { r.Visibility = []Visibility{Private, Private} }, []string{`visibility: "private" is listed twice`}},
		{"empty category", func(r *Rule) { r.Categories = []string{"A", ""} }, []string{"categories: entry 2 is empty"}},
		{"category twice, any case", func(r *Rule) { r.Categories = []string{"a", "A"} }, []string{`categories: "A" is listed twice`}},
		{"long category", func(r *Rule) { r.Categories = []string{strings.Repeat("c", 65)} }, []string{"is longer than 64 characters"}},
		{"control in category", func(r *Rule) { r.Categories = []string{"a\tb"} }, []string{`categories: "a\tb" has a control character at byte 2`}},
		{"no actions", func(r *Rule) { r.Actions = nil }, []string{"no actions: a rule must do something"}},
		{"unknown kind", func(r *Rule) { r.Actions = append(r.Actions, Action{Kind: "nuke"}) },
			[]string{`action 2: unknown kind "nuke": want one of block, restrict, quarantine, report, enqueue, notify`}},
		{"priority too high", func(r *Rule) { r.Actions = []Action{{Kind: Enqueue, Priority: 101}} },
			[]string{"action 1: enqueue priority 101 out of range 0..100"}},
		{"negative priority", func(r *Rule) { r.Actions = []Action{{Kind: Enqueue, Priority: -1}} },
			[]string{"action 1: enqueue priority -1 out of range 0..100"}},
		{"priority on block", func(r *Rule) { r.Actions = []Action{{Kind: Block, Priority: 5}} },
			[]string{"action 1: priority is for enqueue, not block"}},
		{"notify without webhook", func(r *Rule) { r.Actions = []Action{{Kind: Notify}} },
			[]string{"action 1: notify needs a webhook"}},
		{"notify bad webhook name", func(r *Rule) { r.Actions = []Action{{Kind: Notify, Webhook: "https://x"}} },
			[]string{`action 1: notify webhook "https://x": use 1-64 characters`}},
		{"webhook on report", func(r *Rule) { r.Actions = []Action{{Kind: Report, Webhook: "a"}} },
			[]string{"action 1: webhook is for notify, not report"}},
		{"block twice", func(r *Rule) { r.Actions = []Action{{Kind: Block}, {Kind: Report}, {Kind: Block}} },
			[]string{"action 3: repeats action 1 (block)"}},
		{"notify same webhook twice", func(r *Rule) { r.Actions = []Action{{Kind: Notify, Webhook: "a"}, {Kind: Notify, Webhook: "a"}} },
			[]string{"action 2: repeats action 1 (notify)"}},
		{"control in updated_by", func(r *Rule) { r.UpdatedBy = "a\x00" }, []string{"updated_by has a control character at byte 2"}},
		{"several problems at once", func(r *Rule) {
			r.Signals = []bank.Signal{"phash"}
			r.Actions = []Action{{Kind: "nuke"}, {Kind: Enqueue, Priority: 200}}
		}, []string{`signals: unknown signal "phash"`, `action 1: unknown kind "nuke"`, "action 2: enqueue priority 200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			tt.change(&r)
			err := r.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			if len(ve.Problems) != len(tt.want) {
				t.Fatalf("problems %q, want %d: %q", ve.Problems, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(ve.Problems[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i+1, ve.Problems[i], w)
				}
			}
		})
	}
}

func TestValidationErrorNamesRule(t *testing.T) {
	r := Rule{Name: "x", Actions: []Action{{Kind: Block}, {Kind: "nuke"}}}
	if got, want := r.Validate().Error(), `rule "x": action 2: unknown kind "nuke": want one of block, restrict, quarantine, report, enqueue, notify`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	r = Rule{ID: 7, Actions: []Action{{Kind: Block}}}
	if got, want := r.Validate().Error(), "rule #7: name is empty"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestContentValidate(t *testing.T) {
	for _, tt := range []struct {
		c    Content
		want string
	}{
		{Content{}, ""},
		{Content{Surface: DirectMessage, Visibility: Private}, ""},
		{Content{Surface: "reel"}, `unknown surface "reel"`},
		{Content{Visibility: "friends"}, `unknown visibility "friends"`},
	} {
		err := tt.c.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: Validate = %v, want %q", tt.c, err, tt.want)
		}
	}
}
