// Package textrisk scores chat messages, comments, captions and bios for
// grooming, sextortion and sexualised comments about children.
//
// Scoring is transparent first: hostile text is normalised (confusables,
// leetspeak, spacing, repeated letters, zero-width characters,
// abbreviations, emoji as tokens with meaning), then phrase rules written
// per language as data files (lang/*.txt) fire families of evidence, each
// with the byte spans of the phrase that fired so a reviewer can see why.
// Context (surface, content that shows a child, the target's declared age)
// scales each family. An optional linear Model, trained on reviewers'
// decisions, refines the rules' score; it never replaces their reasons.
//
// The package knows nothing of HTTP or storage: callers pass a Message and
// get a Result.
package textrisk

import (
	"fmt"
	"strconv"
	"strings"
)

// Surface is where a text was posted.
type Surface string

// The surfaces a text can come from.
const (
	DM      Surface = "dm"      // a direct or group message
	Comment Surface = "comment" // a comment under a post
	Caption Surface = "caption" // the caption of one's own post
	Bio     Surface = "bio"     // an account's profile text
)

// Surfaces lists the surfaces, in the order reports print them.
var Surfaces = []Surface{DM, Comment, Caption, Bio}

// Message is one text with what is known of its context.
type Message struct {
	Text    string
	Surface Surface // "" is scored as a DM, the surface with the least prior
	// OnChildContent says the text is attached to content that shows a
	// child (a comment under a child's photo, for instance).
	OnChildContent bool
	// TargetAge is the declared age of the account addressed; 0 when
	// unknown.
	TargetAge int
	// AuthorAge is the declared age of the sender; 0 when unknown. An
	// adult writing to a declared minor weighs more; a minor writing to a
	// minor does not get the minor-target weighting (peers' banter).
	AuthorAge int
}

// minorTarget reports whether the message is addressed to a declared
// minor by someone not declared a minor.
func (m Message) minorTarget() bool {
	return m.TargetAge > 0 && m.TargetAge < 18 && !m.minorAuthor()
}

func (m Message) minorAuthor() bool { return m.AuthorAge > 0 && m.AuthorAge < 18 }

// adultToMinor reports whether a declared adult writes to a declared minor.
func (m Message) adultToMinor() bool { return m.AuthorAge >= 18 && m.minorTarget() }

// ParseContext reads a surface with optional context, the form the TSV
// files and the command line use: "comment", "comment,child", "dm,age=13",
// "dm,age=13,from=35" (from: the sender's declared age).
func ParseContext(s string) (Message, error) {
	var m Message
	parts := strings.Split(strings.TrimSpace(s), ",")
	switch Surface(parts[0]) {
	case DM, Comment, Caption, Bio:
		m.Surface = Surface(parts[0])
	default:
		return m, fmt.Errorf("surface %q: want dm, comment, caption or bio", truncate(parts[0], 40))
	}
	for _, p := range parts[1:] {
		switch {
		case p == "child":
			m.OnChildContent = true
		case strings.HasPrefix(p, "age="):
			n, err := strconv.Atoi(p[4:])
			if err != nil || n < 1 || n > 130 {
				return m, fmt.Errorf("context %q: want age=N with N from 1 to 130", truncate(p, 40))
			}
			m.TargetAge = n
		case strings.HasPrefix(p, "from="):
			n, err := strconv.Atoi(p[5:])
			if err != nil || n < 1 || n > 130 {
				return m, fmt.Errorf("context %q: want from=N with N from 1 to 130", truncate(p, 40))
			}
			m.AuthorAge = n
		default:
			return m, fmt.Errorf("context %q: want child, age=N or from=N", truncate(p, 40))
		}
	}
	return m, nil
}

// ContextString is the inverse of ParseContext.
func (m Message) ContextString() string {
	s := string(m.Surface)
	if s == "" {
		s = string(DM)
	}
	if m.OnChildContent {
		s += ",child"
	}
	if m.TargetAge > 0 {
		s += ",age=" + strconv.Itoa(m.TargetAge)
	}
	if m.AuthorAge > 0 {
		s += ",from=" + strconv.Itoa(m.AuthorAge)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Span is a byte range [Start, End) of Message.Text.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Reason is one rule that fired: which family of evidence, the rule as the
// language file writes it, its strength after context, and where.
type Reason struct {
	Family   string  `json:"family"`
	Label    string  `json:"label"`
	Rule     string  `json:"rule"`
	Strength float64 `json:"strength"`
	// Phrases are the texts of Spans, for readers without the message.
	Phrases []string `json:"phrases"`
	Spans   []Span   `json:"spans"`
	// Context names what changed the rule's weight into Strength, if
	// anything ("target under 18", "under content showing a child").
	Context string `json:"context,omitempty"`

	disguised bool // the phrase needed undoing a disguise
	support   bool // a support rule's: evidence only beside other evidence
}

// Result is a message's score and why.
type Result struct {
	Score   float64 `json:"score"` // 0 to 1
	Flagged bool    `json:"flagged"`
	// Labels are the categories (grooming, sextortion, sexual_comment)
	// of the evidence, set only when Flagged.
	Labels   []string `json:"labels"`
	Reasons  []Reason `json:"reasons"`
	Language string   `json:"language"`
	// RuleScore is what the rules alone gave; Score differs from it when
	// a Model is used.
	RuleScore float64 `json:"rule_score"`
	// Model holds the learned model's part, when one is used.
	Model *ModelPart `json:"model,omitempty"`
	// Reported says the message reports or quotes what someone else
	// wrote (a parent, a victim, the news): its phrases are reasons, but
	// weigh a tenth, since they are not aimed at the person addressed.
	Reported bool `json:"reported,omitempty"`
}
