package rules

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
)

// summary writes a decision compactly: each action as kind[:priority or
// webhook] r<rule id>v<version> e<entry id>, then the rules that fired.
func summary(d Decision) string {
	var s []string
	for _, a := range d.Actions {
		k := string(a.Kind)
		switch {
		case a.Kind == Enqueue:
			k += fmt.Sprintf(":%d", a.Priority)
		case a.Kind == Notify:
			k += ":" + a.Webhook
		}
		s = append(s, fmt.Sprintf("%s r%dv%d e%d", k, a.Rule.ID, a.Rule.Version, a.Match.EntryID))
	}
	var fired []string
	for _, r := range d.Fired {
		fired = append(fired, fmt.Sprint(r.ID))
	}
	return strings.Join(s, ", ") + " | fired " + strings.Join(fired, " ")
}

func TestDecide(t *testing.T) {
	pdqIWF := match.Match{Bank: "iwf", EntryID: 10, Signal: bank.PDQ, Distance: 20, Category: "A"}
	pdqNear := match.Match{Bank: "iwf", EntryID: 11, Signal: bank.PDQ, Distance: 4, Category: "B"}
	md5Own := match.Match{Bank: "own", EntryID: 20, Signal: bank.MD5, Distance: 0, Category: "c"}
	public := Content{Surface: Post, Visibility: Public}

	rule := func(id int64, actions ...Action) Rule {
		return Rule{ID: id, Version: 1, Name: fmt.Sprint("rule ", id), Enabled: true, Actions: actions}
	}
	with := func(r Rule, f func(*Rule)) Rule { f(&r); return r }
	block, quarantine, report := Action{Kind: Block}, Action{Kind: Quarantine}, Action{Kind: Report}
	enqueue := func(p int) Action { return Action{Kind: Enqueue, Priority: p} }
	notify := func(w string) Action { return Action{Kind: Notify, Webhook: w} }

	tests := []struct {
		name  string
		rules []Rule
		c     Content
		ms    []match.Match
		want  string
	}{
		{"no matches, nothing fires", []Rule{rule(1, block)}, public, nil, " | fired "},
		{"no rules", nil, public, []match.Match{pdqIWF}, " | fired "},
		{"an empty rule selects anything, on the nearest match",
			[]Rule{rule(1, block)}, Content{}, []match.Match{pdqIWF, md5Own, pdqNear},
			"block r1v1 e20 | fired 1"},
		{"ties go to the first listed",
			[]Rule{rule(1, block)}, public, []match.Match{pdqNear, {Bank: "x", EntryID: 99, Signal: bank.PDQ, Distance: 4}},
			"block r1v1 e11 | fired 1"},
		{"disabled rules never fire",
			[]Rule{with(rule(1, block), func(r *Rule) { r.Enabled = false }), rule(2, enqueue(5))}, public, []match.Match{pdqIWF},
			"enqueue:5 r2v1 e10 | fired 2"},
		{"bank selector",
			[]Rule{with(rule(1, block), func(r *Rule) { r.Banks = []string{"own"} })}, public, []match.Match{pdqIWF, pdqNear},
			" | fired "},
		{"bank selector picks its bank's match",
			[]Rule{with(rule(1, block), func(r *Rule) { r.Banks = []string{"other", "own"} })}, public, []match.Match{pdqNear, md5Own},
			"block r1v1 e20 | fired 1"},
		{"signal selector",
			[]Rule{with(rule(1, block), func(r *Rule) { r.Signals = []bank.Signal{bank.PDQ} })}, public, []match.Match{md5Own, pdqIWF},
			"block r1v1 e10 | fired 1"},
		{"max distance narrows pdq",
			[]Rule{with(rule(1, block), func(r *Rule) { r.MaxDistance = intp(10) })}, public, []match.Match{pdqIWF},
			" | fired "},
		{"max distance is inclusive",
			[]Rule{with(rule(1, block), func(r *Rule) { r.MaxDistance = intp(20) })}, public, []match.Match{pdqIWF},
			"block r1v1 e10 | fired 1"},
		{"max distance chooses among matches",
			[]Rule{with(rule(1, block), func(r *Rule) { r.MaxDistance = intp(5); r.Signals = []bank.Signal{bank.PDQ} })}, public, []match.Match{pdqIWF, pdqNear},
			"block r1v1 e11 | fired 1"},
		{"max distance leaves exact digests alone",
			[]Rule{with(rule(1, block), func(r *Rule) { r.MaxDistance = intp(0) })}, public, []match.Match{pdqIWF, md5Own},
			"block r1v1 e20 | fired 1"},
		{"category selector ignores case",
			[]Rule{with(rule(1, report), func(r *Rule) { r.Categories = []string{"C"} })}, public, []match.Match{pdqNear, md5Own},
			"report r1v1 e20 | fired 1"},
		{"category selector without a category on the entry",
			[]Rule{with(rule(1, report), func(r *Rule) { r.Categories = []string{"A"} })}, public, []match.Match{{Bank: "x", EntryID: 1, Signal: bank.PDQ}},
			" | fired "},
		{"all selectors must hold on one match",
			[]Rule{with(rule(1, block), func(r *Rule) { r.Banks = []string{"own"}; r.Categories = []string{"A"} })}, public, []match.Match{pdqIWF, md5Own},
			" | fired "},
		{"surface selector",
			[]Rule{with(rule(1, block), func(r *Rule) { r.Surfaces = []Surface{DirectMessage} })}, public, []match.Match{pdqIWF},
			" | fired "},
		{"surface and visibility hold",
			[]Rule{with(rule(1, block), func(r *Rule) { r.Surfaces = []Surface{Comment, Post}; r.Visibility = []Visibility{Public} })}, public, []match.Match{pdqIWF},
			"block r1v1 e10 | fired 1"},
		{"unknown context does not satisfy a context selector",
			[]Rule{with(rule(1, block), func(r *Rule) { r.Visibility = []Visibility{Public, Private, Unlisted} })}, Content{}, []match.Match{pdqIWF},
			" | fired "},
		{"actions in kind order, whatever the rule's order",
			[]Rule{rule(1, notify("ts"), enqueue(50), report, quarantine, block)}, public, []match.Match{pdqIWF},
			"block r1v1 e10, quarantine r1v1 e10, report r1v1 e10, enqueue:50 r1v1 e10, notify:ts r1v1 e10 | fired 1"},
		{"deduplicated: block once, from the lowest rule id",
			[]Rule{rule(3, block), rule(2, block, report), with(rule(1, block), func(r *Rule) { r.Banks = []string{"own"} })},
			public, []match.Match{pdqIWF},
			"block r2v1 e10, report r2v1 e10 | fired 2 3"},
		{"enqueue once, at the highest priority",
			[]Rule{rule(1, enqueue(10)), rule(2, enqueue(90)), rule(3, enqueue(90)), rule(4, enqueue(0))}, public, []match.Match{pdqIWF},
			"enqueue:90 r2v1 e10 | fired 1 2 3 4"},
		{"notify once per webhook, by rule then rule order",
			[]Rule{rule(2, notify("b"), notify("a")), rule(1, notify("c"), notify("b"))}, public, []match.Match{pdqIWF},
			"notify:c r1v1 e10, notify:b r1v1 e10, notify:a r2v1 e10 | fired 1 2"},
		{"each rule names its own match",
			[]Rule{
				with(rule(1, block), func(r *Rule) { r.Banks = []string{"iwf"} }),
				with(rule(2, report, notify("le")), func(r *Rule) { r.Banks = []string{"own"} }),
			}, public, []match.Match{pdqIWF, md5Own, pdqNear},
			"block r1v1 e11, report r2v1 e20, notify:le r2v1 e20 | fired 1 2"},
		{"versions are reported",
			[]Rule{with(rule(5, block), func(r *Rule) { r.Version = 7 })}, public, []match.Match{pdqIWF},
			"block r5v7 e10 | fired 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fmt.Sprintf("%+v", tt.rules)
			got := Decide(tt.rules, tt.c, tt.ms)
			if s := summary(got); s != tt.want {
				t.Errorf("Decide =\n\t%s\nwant\n\t%s", s, tt.want)
			}
			if after := fmt.Sprintf("%+v", tt.rules); after != before {
				t.Errorf("Decide changed its rules:\n\t%s\nto\n\t%s", before, after)
			}
		})
	}
}

func TestDecisionJSON(t *testing.T) {
	rs := []Rule{{ID: 3, Version: 2, Name: "csam", Enabled: true, Actions: []Action{{Kind: Block}, {Kind: Enqueue, Priority: 80}}}}
	d := Decide(rs, Content{}, []match.Match{{Bank: "iwf", EntryID: 9, Signal: bank.PDQ, Distance: 3, Category: "A"}})
	if !d.Has(Block) || !d.Has(Enqueue) || d.Has(Report) {
		t.Errorf("Has: block %v enqueue %v report %v; want true true false", d.Has(Block), d.Has(Enqueue), d.Has(Report))
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"actions":[` +
		`{"kind":"block","rule":{"id":3,"version":2,"name":"csam"},"match":{"bank":"iwf","entry_id":9,"signal":"pdq","distance":3,"category":"A"}},` +
		`{"kind":"enqueue","priority":80,"rule":{"id":3,"version":2,"name":"csam"},"match":{"bank":"iwf","entry_id":9,"signal":"pdq","distance":3,"category":"A"}}],` +
		`"fired":[{"id":3,"version":2,"name":"csam"}]}`
	if string(b) != want {
		t.Errorf("JSON\n\t%s\nwant\n\t%s", b, want)
	}
	if b, _ := json.Marshal(Decide(nil, Content{}, nil)); string(b) != `{"actions":[],"fired":[]}` {
		t.Errorf("empty decision JSON %s: want empty arrays, not null", b)
	}
}

// BenchmarkDecide: 100 rules (a few selectors each) against 10 matches, a
// heavy scan for a large deployment.
func BenchmarkDecide(b *testing.B) {
	var rs []Rule
	for i := range 100 {
		r := Rule{ID: int64(i + 1), Version: 1, Name: fmt.Sprint(i), Enabled: true,
			Banks:   []string{fmt.Sprintf("bank%d", i%7), fmt.Sprintf("bank%d", (i+3)%7)},
			Actions: []Action{{Kind: Kinds[i%len(Kinds)], Webhook: "w"}}}
		if r.Actions[0].Kind != Notify {
			r.Actions[0].Webhook = ""
		}
		if i%3 == 0 {
			r.MaxDistance = intp(i % 32)
			r.Categories = []string{"A", "B"}
		}
		rs = append(rs, r)
	}
	var ms []match.Match
	for i := range 10 {
		ms = append(ms, match.Match{Bank: fmt.Sprintf("bank%d", i%7), EntryID: int64(i), Signal: bank.PDQ, Distance: i * 3, Category: "B"})
	}
	if d := Decide(rs, Content{Surface: Post}, ms); len(d.Fired) == 0 || !slices.ContainsFunc(d.Actions, func(a Decided) bool { return a.Kind == Block }) {
		b.Fatalf("benchmark rules do not fire: %s", summary(d))
	}
	b.ReportAllocs()
	for b.Loop() {
		Decide(rs, Content{Surface: Post}, ms)
	}
}

// TestDecideInvariants checks, over many random rule sets and matches, what
// every decision must satisfy whatever the rules say.
func TestDecideInvariants(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	pick := func(n int) int { return rnd.IntN(n) }
	banks := []string{"a", "b", "c"}
	cats := []string{"A", "b", ""}
	for iter := range 2000 {
		var rs []Rule
		for i := range 1 + pick(6) {
			r := Rule{ID: int64(1 + pick(10)), Version: 1 + pick(3), Name: fmt.Sprint(i), Enabled: pick(5) > 0}
			if pick(2) == 0 {
				r.Banks = []string{banks[pick(3)]}
			}
			if pick(3) == 0 {
				r.Signals = []bank.Signal{bank.Signals[pick(3)]}
			}
			if pick(3) == 0 {
				r.MaxDistance = intp(pick(32))
			}
			if pick(4) == 0 {
				r.Categories = []string{cats[pick(2)]}
			}
			if pick(4) == 0 {
				r.Surfaces = []Surface{Surfaces[pick(len(Surfaces))]}
			}
			for range 1 + pick(4) {
				a := Action{Kind: Kinds[pick(len(Kinds))]}
				switch a.Kind {
				case Enqueue:
					a.Priority = pick(MaxPriority + 1)
				case Notify:
					a.Webhook = []string{"w1", "w2"}[pick(2)]
				}
				r.Actions = append(r.Actions, a)
			}
			rs = append(rs, r)
		}
		var ms []match.Match
		for i := range pick(5) {
			ms = append(ms, match.Match{Bank: banks[pick(3)], EntryID: int64(i), Signal: bank.Signals[pick(3)], Distance: pick(32), Category: cats[pick(3)]})
		}
		c := Content{Surface: Surfaces[pick(len(Surfaces))]}
		d := Decide(rs, c, ms)

		fired := map[RuleRef]bool{}
		for i, f := range d.Fired {
			fired[f] = true
			if i > 0 && d.Fired[i-1].ID > f.ID {
				t.Fatalf("case %d: fired rules out of id order: %v", iter, d.Fired)
			}
		}
		seen := map[string]bool{}
		for i, a := range d.Actions {
			key := string(a.Kind) + "/" + a.Webhook
			if seen[key] {
				t.Fatalf("case %d: %s twice: %s", iter, key, summary(d))
			}
			seen[key] = true
			if i > 0 && rank(d.Actions[i-1].Kind) > rank(a.Kind) {
				t.Fatalf("case %d: actions out of kind order: %s", iter, summary(d))
			}
			if !fired[a.Rule] {
				t.Fatalf("case %d: action %s credited to rule %v, which did not fire", iter, key, a.Rule)
			}
			// The credited rule asked for this action, and selects the match.
			j := slices.IndexFunc(rs, func(r Rule) bool { return r.Enabled && r.ref() == a.Rule })
			r := rs[j]
			if !slices.ContainsFunc(r.Actions, func(b Action) bool { return b == a.Action }) {
				t.Fatalf("case %d: %+v credited to rule %v, which does not ask for it", iter, a.Action, a.Rule)
			}
			if !slices.Contains(ms, a.Match) || !r.selects(a.Match) {
				t.Fatalf("case %d: %+v credited to match %+v, which rule %v does not select", iter, a.Action, a.Match, a.Rule)
			}
		}
		// Every action of every fired rule is covered (enqueue at least as urgent).
		for _, r := range rs {
			if !fired[r.ref()] {
				continue
			}
			for _, a := range r.Actions {
				j := slices.IndexFunc(d.Actions, func(b Decided) bool { return b.Kind == a.Kind && b.Webhook == a.Webhook })
				if j < 0 || (a.Kind == Enqueue && d.Actions[j].Priority < a.Priority) {
					t.Fatalf("case %d: rule %v fired but its %+v is not covered: %s", iter, r.ref(), a, summary(d))
				}
			}
		}
	}
}
