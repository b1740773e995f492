// Package rules decides what to do about content that matched a bank.
//
// A rule is data: selectors (which banks, which signals, how near, on which
// surface and visibility, which entry categories) and an ordered list of
// actions. Rules are validated before they are stored, and never edited in
// place: an update stores a new version and keeps the old ones, so a
// decision that names rule 7 version 3 can always be explained later.
//
// Decide applies a set of rules to the matches of one piece of content and
// returns the actions in a fixed order, each with the rule and the match
// that caused it. It is pure: storage is the Store interface, which the
// SQLite and PostgreSQL stores implement, and acting on a decision is the
// server's job.
package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/bank"
)

// ActionKind is what an action does.
type ActionKind string

// The kinds of action, in the order a Decision lists them (see Kinds).
const (
	// Block: the platform must not publish the content. Decide's answer is
	// what the platform acts on, so this is first.
	Block ActionKind = "block"
	// Restrict: the platform hides the content from everyone but its
	// uploader until a person has reviewed it (pair it with enqueue). For
	// signals no analyst has confirmed, such as self-reported hashes: a
	// wrong hash then costs a delay, not a removal.
	Restrict ActionKind = "restrict"
	// Quarantine: keep the content as encrypted evidence instead of
	// discarding it. Before report, which needs the evidence preserved.
	Quarantine ActionKind = "quarantine"
	// Report: start a law-enforcement report.
	Report ActionKind = "report"
	// Enqueue: open a case for human review, at Priority.
	Enqueue ActionKind = "enqueue"
	// Notify: send the decision to the webhook named in Webhook. Last, so
	// that what a receiver is told has already been recorded.
	Notify ActionKind = "notify"
)

// Kinds lists every action kind in the order a Decision gives them.
var Kinds = []ActionKind{Block, Restrict, Quarantine, Report, Enqueue, Notify}

// MaxPriority is the highest review priority an enqueue action can ask for.
const MaxPriority = 100

// Action is one thing a rule asks for.
type Action struct {
	Kind ActionKind `json:"kind"`
	// Priority orders the review queue, 0 to MaxPriority, highest first;
	// enqueue only.
	Priority int `json:"priority,omitempty"`
	// Webhook names the webhook to notify; notify only.
	Webhook string `json:"webhook,omitempty"`
}

// Surface is where on the platform content appears.
type Surface string

const (
	Post          Surface = "post"
	Comment       Surface = "comment"
	Profile       Surface = "profile"
	DirectMessage Surface = "direct_message"
)

// Surfaces lists every surface.
var Surfaces = []Surface{Post, Comment, Profile, DirectMessage}

// Visibility is who can see content.
type Visibility string

const (
	Public   Visibility = "public"
	Unlisted Visibility = "unlisted" // anyone with the link
	Private  Visibility = "private"  // the uploader and those they chose
)

// Visibilities lists every visibility.
var Visibilities = []Visibility{Public, Unlisted, Private}

// Content is what Decide knows about the content beyond its matches: the
// context the platform sent with it. Either field may be empty (unknown,
// e.g. a hash lookup without context); a rule that selects on a field then
// does not fire, since it cannot know that its condition holds.
type Content struct {
	Surface    Surface    `json:"surface,omitempty"`
	Visibility Visibility `json:"visibility,omitempty"`
}

// Validate reports an unknown surface or visibility.
func (c Content) Validate() error {
	if c.Surface != "" && !slices.Contains(Surfaces, c.Surface) {
		return fmt.Errorf("unknown surface %q: want one of %s", clip(string(c.Surface)), list(Surfaces))
	}
	if c.Visibility != "" && !slices.Contains(Visibilities, c.Visibility) {
		return fmt.Errorf("unknown visibility %q: want one of %s", clip(string(c.Visibility)), list(Visibilities))
	}
	return nil
}

// Rule is one version of a rule. A match fires it when every selector
// holds; an empty selector holds for anything.
type Rule struct {
	ID      int64  `json:"id"`      // assigned by the store
	Name    string `json:"name"`    // for people: 1-128 characters, no control characters
	Version int    `json:"version"` // 1 when created, +1 on every update
	Enabled bool   `json:"enabled"` // a disabled rule never fires

	Banks   []string      `json:"banks,omitempty"`   // bank names
	Signals []bank.Signal `json:"signals,omitempty"` // pdq, md5, sha256
	// MaxDistance, when set, fires only on PDQ matches at most this far
	// (0..bank.MaxThreshold). It can narrow a bank's threshold, never
	// widen it: the matcher reports nothing beyond the threshold.
	MaxDistance *int         `json:"max_distance,omitempty"`
	Surfaces    []Surface    `json:"surfaces,omitempty"`
	Visibility  []Visibility `json:"visibility,omitempty"`
	// Categories are entry categories (a hotline's A/B/C), compared
	// without regard to case.
	Categories []string `json:"categories,omitempty"`

	// TextLabels and MinTextScore make a text rule: it fires on a text
	// signal (a message or comment scored by POST /v1/text), never on a
	// hash match, when the text carries one of these labels (TextLabels
	// lists) and scores at least MinTextScore (0-1). A rule with neither is
	// a match rule and never fires on text. See DecideText.
	TextLabels   []string `json:"text_labels,omitempty"`
	MinTextScore *float64 `json:"min_text_score,omitempty"`

	Actions []Action `json:"actions"` // at least one; see Decide for the order they run in

	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"` // the API key's name, or "system"
}

// Limits on a rule's text, so that rules stay readable in logs and reports.
const (
	maxNameLen     = 128
	maxCategoryLen = 64
)

// ValidationError lists everything wrong with a rule.
type ValidationError struct {
	Rule     string   // the rule's name, or its id when it has none
	Problems []string // each names the field, e.g. "action 2: unknown kind \"nuke\""
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("rule %s: %s", e.Rule, strings.Join(e.Problems, "; "))
}

// Validate checks a rule as it is about to be stored. The error, if any, is
// a *ValidationError listing every problem, not just the first, so that
// whoever wrote the rule can fix it in one go.
func (r Rule) Validate() error {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }

	switch n := utf8.RuneCountInString(r.Name); {
	case strings.TrimSpace(r.Name) == "":
		bad("name is empty")
	case n > maxNameLen:
		bad("name is %d characters, limit %d", n, maxNameLen)
	case strings.TrimSpace(r.Name) != r.Name:
		bad("name has leading or trailing space")
	default:
		if err := text(r.Name); err != "" {
			bad("name %s", err)
		}
	}
	if r.ID < 0 {
		bad("id %d is negative", r.ID)
	}
	if r.Version < 0 {
		bad("version %d is negative", r.Version)
	}
	for i, b := range r.Banks {
		if err := bank.ValidName(b); err != nil {
			bad("banks: %v", err)
		} else if j := slices.Index(r.Banks, b); j < i {
			bad("banks: %q is listed twice", b)
		}
	}
	for i, s := range r.Signals {
		if !s.Valid() {
			bad("signals: unknown signal %q: want one of %s", clip(string(s)), list(bank.Signals))
		} else if j := slices.Index(r.Signals, s); j < i {
			bad("signals: %q is listed twice", s)
		}
	}
	if d := r.MaxDistance; d != nil {
		if *d < 0 || *d > bank.MaxThreshold {
			bad("max_distance %d out of range 0..%d", *d, bank.MaxThreshold)
		}
		if len(r.Signals) > 0 && !slices.Contains(r.Signals, bank.PDQ) {
			bad("max_distance applies only to pdq, and signals does not include it")
		}
	}
	for i, s := range r.Surfaces {
		if !slices.Contains(Surfaces, s) {
			bad("surfaces: unknown surface %q: want one of %s", clip(string(s)), list(Surfaces))
		} else if j := slices.Index(r.Surfaces, s); j < i {
			bad("surfaces: %q is listed twice", s)
		}
	}
	for i, v := range r.Visibility {
		if !slices.Contains(Visibilities, v) {
			bad("visibility: unknown visibility %q: want one of %s", clip(string(v)), list(Visibilities))
		} else if j := slices.Index(r.Visibility, v); j < i {
			bad("visibility: %q is listed twice", v)
		}
	}
	for i, c := range r.Categories {
		switch {
		case strings.TrimSpace(c) == "":
			bad("categories: entry %d is empty", i+1)
		case utf8.RuneCountInString(c) > maxCategoryLen:
			bad("categories: %q is longer than %d characters", clip(c), maxCategoryLen)
		case text(c) != "":
			bad("categories: %q %s", clip(c), text(c))
		default:
			if j := slices.IndexFunc(r.Categories, func(o string) bool { return strings.EqualFold(o, c) }); j < i {
				bad("categories: %q is listed twice", c)
			}
		}
	}
	r.validateText(bad)
	if len(r.Actions) == 0 {
		bad("no actions: a rule must do something")
	}
	for i, a := range r.Actions {
		at := fmt.Sprintf("action %d", i+1)
		if !slices.Contains(Kinds, a.Kind) {
			bad("%s: unknown kind %q: want one of %s", at, clip(string(a.Kind)), list(Kinds))
			continue
		}
		if a.Kind == Enqueue {
			if a.Priority < 0 || a.Priority > MaxPriority {
				bad("%s: enqueue priority %d out of range 0..%d", at, a.Priority, MaxPriority)
			}
		} else if a.Priority != 0 {
			bad("%s: priority is for enqueue, not %s", at, a.Kind)
		}
		if a.Kind == Notify {
			if err := webhookName(a.Webhook); err != "" {
				bad("%s: notify %s", at, err)
			}
		} else if a.Webhook != "" {
			bad("%s: webhook is for notify, not %s", at, a.Kind)
		}
		// Twice the same action is a mistake (which priority did they
		// mean?); notifying two webhooks is not.
		if j := slices.IndexFunc(r.Actions[:i], func(b Action) bool {
			return b.Kind == a.Kind && (a.Kind != Notify || b.Webhook == a.Webhook)
		}); j >= 0 {
			bad("%s: repeats action %d (%s)", at, j+1, a.Kind)
		}
	}
	if n := utf8.RuneCountInString(r.UpdatedBy); n > maxNameLen {
		bad("updated_by is %d characters, limit %d", n, maxNameLen)
	} else if err := text(r.UpdatedBy); err != "" {
		bad("updated_by %s", err)
	}
	if len(p) == 0 {
		return nil
	}
	name := fmt.Sprintf("%q", clip(r.Name))
	if strings.TrimSpace(r.Name) == "" {
		name = fmt.Sprintf("#%d", r.ID)
	}
	return &ValidationError{Rule: name, Problems: p}
}

// webhookName checks the syntax of a webhook's name (the same as a bank's:
// webhook.ValidName; this package does not import webhook). Whether the
// webhook exists is for the caller, which knows the webhooks, to check.
func webhookName(name string) string {
	if name == "" {
		return "needs a webhook"
	}
	if err := bank.ValidName(name); err != nil {
		return fmt.Sprintf("webhook %q: use 1-64 characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit", clip(name))
	}
	return ""
}

// text reports what is wrong with free text: invalid UTF-8 or control
// characters, which would garble logs and reports.
func text(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return fmt.Sprintf("has a control character at byte %d", i+1)
	}
	return ""
}

// clip keeps error messages short when the input is long garbage.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:77]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s + "..."
	}
	return s
}

func list[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
