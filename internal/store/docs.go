package store

import (
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// The JSON documents both stores keep beside their columns, written once
// so that a field added to a case, report or rule reaches both stores (a
// store that forgot one would drop it silently on the next write).

// CaseDoc is what review_cases.doc holds: the parts of a case no query
// selects on, read and written whole.
type CaseDoc struct {
	ContentIDs []string          `json:"content_ids,omitempty"`
	AccountIDs []string          `json:"account_ids,omitempty"`
	PDQ        []pdq.Hash        `json:"pdq,omitempty"`
	Digests    []string          `json:"digests,omitempty"`
	Signals    review.Signals    `json:"signals"`
	Escalated  bool              `json:"escalated,omitempty"`
	Decisions  []review.Decision `json:"decisions,omitempty"`
	Appeal     *review.Appeal    `json:"appeal,omitempty"`
	// Network: a network case's members, evidence and targets.
	Network *review.NetworkCase `json:"network,omitempty"`
}

// CaseDocOf is c's document.
func CaseDocOf(c review.Case) CaseDoc {
	return CaseDoc{c.ContentIDs, c.AccountIDs, c.PDQ, c.Digests, c.Signals, c.Escalated, c.Decisions, c.Appeal, c.Network}
}

// Into sets the fields of c that d holds.
func (d CaseDoc) Into(c *review.Case) {
	c.ContentIDs, c.AccountIDs, c.PDQ, c.Digests = d.ContentIDs, d.AccountIDs, d.PDQ, d.Digests
	c.Signals, c.Escalated, c.Decisions, c.Appeal = d.Signals, d.Escalated, d.Decisions, d.Appeal
	c.Network = d.Network
}

// ReportDoc is what review_reports.doc holds. The free text is here, not
// in a column: a PostgreSQL text column cannot hold a NUL, and JSON
// escapes it.
type ReportDoc struct {
	Text           string             `json:"text,omitempty"`
	Hashes         review.Hashes      `json:"hashes,omitzero"`
	MinorSuspected bool               `json:"minor_suspected,omitempty"`
	Reach          review.Reach       `json:"reach,omitzero"`
	Rule           *rules.RuleRef     `json:"rule,omitempty"`
	Priority       int                `json:"priority,omitempty"`
	Matches        []match.Match      `json:"matches,omitempty"`
	TextSignal     *review.TextSignal `json:"text_signal,omitempty"`
}

// ReportDocOf is r's document.
func ReportDocOf(r review.Report) ReportDoc {
	return ReportDoc{r.Text, r.Hashes, r.MinorSuspected, r.Reach, r.Rule, r.Priority, r.Matches, r.TextSignal}
}

// Into sets the fields of r that d holds.
func (d ReportDoc) Into(r *review.Report) {
	r.Text, r.Hashes, r.MinorSuspected, r.Reach, r.Rule, r.Priority, r.Matches =
		d.Text, d.Hashes, d.MinorSuspected, d.Reach, d.Rule, d.Priority, d.Matches
	r.TextSignal = d.TextSignal
}

// RuleSpec is what rule_versions.spec holds: a rule's selectors and
// actions, which are read and written only as a whole.
type RuleSpec struct {
	Banks       []string           `json:"banks,omitempty"`
	Signals     []bank.Signal      `json:"signals,omitempty"`
	MaxDistance *int               `json:"max_distance,omitempty"`
	Surfaces    []rules.Surface    `json:"surfaces,omitempty"`
	Visibility  []rules.Visibility `json:"visibility,omitempty"`
	Categories  []string           `json:"categories,omitempty"`
	Actions     []rules.Action     `json:"actions"`
	// A text rule's selectors (rules.Rule.IsText).
	TextLabels   []string `json:"text_labels,omitempty"`
	MinTextScore *float64 `json:"min_text_score,omitempty"`
}

// RuleSpecOf is r's spec.
func RuleSpecOf(r rules.Rule) RuleSpec {
	return RuleSpec{r.Banks, r.Signals, r.MaxDistance, r.Surfaces, r.Visibility, r.Categories, r.Actions, r.TextLabels, r.MinTextScore}
}

// Into sets the fields of r that p holds.
func (p RuleSpec) Into(r *rules.Rule) {
	r.Banks, r.Signals, r.MaxDistance, r.Surfaces, r.Visibility, r.Categories, r.Actions =
		p.Banks, p.Signals, p.MaxDistance, p.Surfaces, p.Visibility, p.Categories, p.Actions
	r.TextLabels, r.MinTextScore = p.TextLabels, p.MinTextScore
}
