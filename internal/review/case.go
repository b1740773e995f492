package review

import (
	"slices"
	"time"

	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// State is where a case stands.
type State string

const (
	Open          State = "open"           // waiting for a reviewer
	PendingSecond State = "pending_second" // one reviewer dismissed a trusted flagger's report; a second must decide
	Decided       State = "decided"
	Appealed      State = "appealed" // the uploader appealed the decision; in the appeals queue
)

// Queue names a review queue: one per category, and Appeals.
type Queue string

// Appeals is the queue of appealed decisions.
const Appeals Queue = "appeals"

// Queues lists every queue: one per category, most severe first, then
// Appeals.
func Queues() []Queue {
	qs := make([]Queue, 0, len(Categories)+1)
	for _, c := range Categories {
		qs = append(qs, Queue(c))
	}
	return append(qs, Appeals)
}

// Valid reports whether q is one of the Queues.
func (q Queue) Valid() bool { return slices.Contains(Queues(), q) }

// Case is what a reviewer decides on: the reports about one piece of
// content (its copies and near-duplicates included) or one account, and
// the signals gathered about them.
type Case struct {
	ID int64 `json:"id"`
	// Version counts the case's changes; Store.SaveCase refuses a
	// case whose Version is not the stored one (two reviewers deciding at
	// once: the second is told, not silently ignored).
	Version  int      `json:"version"`
	State    State    `json:"state"`
	Category Category `json:"category"` // the most severe of its reports'
	Queue    Queue    `json:"queue"`    // the category's queue, or Appeals

	// What the case is about; reports sharing any of these join it.
	ContentIDs []string   `json:"content_ids,omitempty"`
	AccountIDs []string   `json:"account_ids,omitempty"`
	PDQ        []pdq.Hash `json:"pdq,omitempty"`
	Digests    []string   `json:"digests,omitempty"` // "md5:<hex>", "sha256:<hex>"

	Signals Signals `json:"signals"`

	// OpenedAt starts the time-to-action clock: the first report's
	// arrival, or the appeal's. DueAt is OpenedAt plus the queue's
	// target; a case not decided by then is overdue and escalates.
	OpenedAt  time.Time `json:"opened_at"`
	DueAt     time.Time `json:"due_at"`
	Escalated bool      `json:"escalated,omitempty"` // the escalation event was sent

	// Decisions, oldest first: a pending first dismissal, the decision,
	// and the decision on an appeal.
	Decisions []Decision `json:"decisions,omitempty"`
	Appeal    *Appeal    `json:"appeal,omitempty"`

	// Network is set on the case of an account network (FileNetwork).
	Network *NetworkCase `json:"network,omitempty"`
}

// Signals are what the Desk gathered about a case when its reports came
// in; the priority is computed from them.
type Signals struct {
	Reports   int `json:"reports"`
	Reporters int `json:"reporters"` // distinct

	// Matches are bank matches sent with reports or found by rules.
	Matches []match.Match `json:"matches,omitempty"`
	// Earlier are decided cases about near-duplicates of the content
	// (by PDQ within the Desk's NearDistance) or the same digest.
	Earlier []Earlier `json:"earlier,omitempty"`
	// Flagged: a trusted flagger reported it, so dismissing the case
	// takes two reviewers.
	Flagged bool `json:"flagged,omitempty"`
	// RulePriority is the highest priority a rule asked (0-100).
	RulePriority int `json:"rule_priority,omitempty"`
	// Reporters' records, one per distinct user reporter, as they stood
	// when the report arrived.
	Accuracy []Accuracy `json:"accuracy,omitempty"`
	// Account is the history of the reported accounts.
	Account History `json:"account"`

	MinorSuspected bool  `json:"minor_suspected,omitempty"`
	Reach          Reach `json:"reach,omitzero"` // the widest reported
}

// Earlier is a decided case about a near-duplicate.
type Earlier struct {
	CaseID   int64   `json:"case_id"`
	Distance int     `json:"distance"` // PDQ bits; 0 for the same digest
	Verdict  Verdict `json:"verdict"`
}

// Accuracy is how often a reporter was right: of their reports whose
// cases were decided, how many were confirmed.
type Accuracy struct {
	Reporter  string `json:"reporter"`
	Confirmed int    `json:"confirmed"`
	Dismissed int    `json:"dismissed"`
}

// History is what was decided before about the reported accounts.
type History struct {
	Confirmed int     `json:"confirmed"` // earlier cases confirmed
	Dismissed int     `json:"dismissed"`
	Cases     []int64 `json:"cases,omitempty"` // the cases counted
}

// Decided reports whether the case has a standing decision.
func (c *Case) Decided() bool { return c.State == Decided }

// Verdict is a decision's outcome.
type Verdict string

const (
	Confirm Verdict = "confirm"
	Dismiss Verdict = "dismiss"
)

// Classification is the industry's CSAM classification: A for a
// prepubescent child, B for a pubescent one; 1 for a sexual act, 2 for
// lascivious exhibition.
type Classification string

const (
	A1 Classification = "A1"
	A2 Classification = "A2"
	B1 Classification = "B1"
	B2 Classification = "B2"
)

// Classifications lists every classification.
var Classifications = []Classification{A1, A2, B1, B2}

// Action is what a confirming decision does beyond confirming.
type Action string

const (
	Remove    Action = "remove"    // take the content down
	Restrict  Action = "restrict"  // limit who can see it or the account's reach
	AddToBank Action = "bank"      // add its hashes to the service's own bank
	SendToLE  Action = "le_report" // start a law-enforcement report
)

// Actions lists every action.
var Actions = []Action{Remove, Restrict, AddToBank, SendToLE}

// Decision is one reviewer's decision on a case.
type Decision struct {
	Reviewer       string         `json:"reviewer"` // the reviewer's key id, or "system"
	Verdict        Verdict        `json:"verdict"`
	Classification Classification `json:"classification,omitempty"`
	Actions        []Action       `json:"actions,omitempty"`
	Reason         string         `json:"reason,omitempty"`
	At             time.Time      `json:"at"`
	// OnAppeal: the decision answers the appeal.
	OnAppeal bool `json:"on_appeal,omitempty"`
	// Pending: a first dismissal of a trusted flagger's report, which a
	// second reviewer has not yet agreed to.
	Pending bool `json:"pending,omitempty"`
	// Except, on a network case, names members the decision spares.
	Except []string `json:"except,omitempty"`
}

// Appeal is the uploader's appeal of a decision.
type Appeal struct {
	Appellant string    `json:"appellant"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}
