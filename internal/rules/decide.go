package rules

import (
	"cmp"
	"slices"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
)

// RuleRef names one version of a rule.
type RuleRef struct {
	ID      int64  `json:"id"`
	Version int    `json:"version"`
	Name    string `json:"name"`
}

func (r Rule) ref() RuleRef { return RuleRef{ID: r.ID, Version: r.Version, Name: r.Name} }

// Decided is an action a decision calls for, and why.
type Decided struct {
	Action
	// Rule is the rule that asked for the action; when several did, the
	// one with the lowest ID (for enqueue, the one asking the highest
	// priority).
	Rule RuleRef `json:"rule"`
	// Match is the match that fired the rule: the nearest of those it
	// selected (the first listed, among equals).
	Match match.Match `json:"match"`
	// Text is the text signal that fired a text rule (DecideText).
	Text *Text `json:"text,omitempty"`
}

// Decision is what the rules decided about one piece of content.
type Decision struct {
	// Actions, each at most once: block, quarantine and report once;
	// enqueue once, at the highest priority asked; notify once per
	// webhook. Ordered by kind as Kinds lists them, so evidence is kept
	// before it is reported and everything is recorded before a webhook
	// tells anyone; within a kind (notify), by rule ID then by the rule's
	// own order.
	Actions []Decided `json:"actions"`
	// Fired lists every rule that fired, by ID, including those whose
	// actions another rule had already asked for: the audit log records
	// them all.
	Fired []RuleRef `json:"fired"`
	// Skipped are actions a rule asked for that could not be carried out
	// on this content, each with why (Skip).
	Skipped []Skipped `json:"skipped,omitempty"`
}

// Skipped is an action not carried out, and why.
type Skipped struct {
	Decided
	Reason string `json:"reason"`
}

// Skip moves the actions of the given kinds from d.Actions to d.Skipped,
// with reason; the rules stay in Fired (they did fire).
func (d Decision) Skip(reason string, kinds ...ActionKind) Decision {
	kept := make([]Decided, 0, len(d.Actions))
	for _, a := range d.Actions {
		if slices.Contains(kinds, a.Kind) {
			d.Skipped = append(d.Skipped, Skipped{Decided: a, Reason: reason})
		} else {
			kept = append(kept, a)
		}
	}
	d.Actions = kept
	return d
}

// Has reports whether the decision includes an action of kind k.
func (d Decision) Has(k ActionKind) bool {
	return slices.ContainsFunc(d.Actions, func(a Decided) bool { return a.Kind == k })
}

// Decide applies the enabled rules to the matches of content c. Rules are
// taken in ID order; each fires at most once, however many of the matches
// it selects. rules is not modified. Decide assumes the rules are valid
// (stores hold only validated rules) and treats an unknown action kind as
// coming after all the known ones.
func Decide(rules []Rule, c Content, ms []match.Match) Decision {
	if len(ms) == 0 {
		return Decision{Actions: []Decided{}, Fired: []RuleRef{}}
	}
	return decide(rules, func(r *Rule) (match.Match, bool) { return r.fire(c, ms) }, nil)
}

// decide runs the enabled rules in ID order, each fired (or not) by fire,
// and merges their actions; t is the text signal, for text rules.
func decide(rules []Rule, fire func(*Rule) (match.Match, bool), t *Text) Decision {
	d := Decision{Actions: []Decided{}, Fired: []RuleRef{}}
	order := make([]int, 0, len(rules))
	for i, r := range rules {
		if r.Enabled {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rules[a].ID, rules[b].ID) })

	for _, i := range order {
		r := &rules[i]
		m, ok := fire(r)
		if !ok {
			continue
		}
		d.Fired = append(d.Fired, r.ref())
		for _, a := range r.Actions {
			j := slices.IndexFunc(d.Actions, func(b Decided) bool {
				return b.Kind == a.Kind && (a.Kind != Notify || b.Webhook == a.Webhook)
			})
			switch {
			case j < 0:
				d.Actions = append(d.Actions, Decided{Action: a, Rule: r.ref(), Match: m, Text: t})
			case a.Kind == Enqueue && a.Priority > d.Actions[j].Priority:
				d.Actions[j] = Decided{Action: a, Rule: r.ref(), Match: m, Text: t}
			}
		}
	}
	slices.SortStableFunc(d.Actions, func(a, b Decided) int {
		return cmp.Compare(rank(a.Kind), rank(b.Kind))
	})
	return d
}

func rank(k ActionKind) int {
	if i := slices.Index(Kinds, k); i >= 0 {
		return i
	}
	return len(Kinds)
}

// fire reports whether r fires for c and ms, and on which match.
func (r *Rule) fire(c Content, ms []match.Match) (match.Match, bool) {
	if r.IsText() || !r.context(c) {
		return match.Match{}, false
	}
	best := -1
	for i, m := range ms {
		if r.selects(m) && (best < 0 || m.Distance < ms[best].Distance) {
			best = i
		}
	}
	if best < 0 {
		return match.Match{}, false
	}
	return ms[best], true
}

// context reports whether r's surface and visibility selectors hold for c.
func (r *Rule) context(c Content) bool {
	return (len(r.Surfaces) == 0 || slices.Contains(r.Surfaces, c.Surface)) &&
		(len(r.Visibility) == 0 || slices.Contains(r.Visibility, c.Visibility))
}

// selects reports whether the match-level selectors of r hold for m.
func (r *Rule) selects(m match.Match) bool {
	switch {
	case len(r.Banks) > 0 && !slices.Contains(r.Banks, m.Bank):
		return false
	case len(r.Signals) > 0 && !slices.Contains(r.Signals, m.Signal):
		return false
	case r.MaxDistance != nil && m.Signal == bank.PDQ && m.Distance > *r.MaxDistance:
		return false
	case len(r.Categories) > 0 && !slices.ContainsFunc(r.Categories, func(c string) bool { return strings.EqualFold(c, m.Category) }):
		return false
	}
	return true
}
