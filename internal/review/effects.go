package review

import "github.com/safeguard-oss/safeguard/internal/pdq"

// Effects are what a change asks of the server beyond storing it: audit
// entries to record and events to act on or send.
type Effects struct {
	Audit  []Audit `json:"audit,omitempty"`
	Events []Event `json:"events,omitempty"`
}

func (e *Effects) add(o Effects) {
	e.Audit = append(e.Audit, o.Audit...)
	e.Events = append(e.Events, o.Events...)
}

// Audit is one audit-log entry to record (audit.Log.Record's arguments).
type Audit struct {
	// Actor is who acted as the domain knows them: the reviewer, the
	// appellant, the reporter, or System. A server that knows the API key
	// behind a request records the key's id instead where they differ
	// (the detail keeps the reporter).
	Actor   string `json:"actor"`
	Action  string `json:"action"`  // e.g. "report.create", "case.decide"
	Subject string `json:"subject"` // "report:<id>" or "case:<id>"
	Detail  any    `json:"detail,omitempty"`
}

// EventKind names an event.
type EventKind string

// The events. Those ending in an intent (remove, restrict, bank, le,
// reinstate) are actions the server executes; the others it sends as
// webhooks.
const (
	// ReportOutcome tells a reporter what became of their report.
	ReportOutcome EventKind = "report.outcome"
	// CaseEscalated: a case passed its time-to-action target undecided.
	CaseEscalated EventKind = "case.escalated"
	// ContentRemove and ContentRestrict: act on the case's content and
	// accounts.
	ContentRemove   EventKind = "content.remove"
	ContentRestrict EventKind = "content.restrict"
	// BankAdd: add the case's hashes to the service's own bank, so that
	// re-uploads and near-duplicates are stopped at scan.
	BankAdd EventKind = "bank.add"
	// LEReport: start a law-enforcement report about the case.
	LEReport EventKind = "le.report"
	// ContentReinstate: an appeal overturned the decision; undo its
	// actions (Actions lists them).
	ContentReinstate EventKind = "content.reinstate"
)

// Event is one event. Which fields are set depends on Kind.
type Event struct {
	Kind   EventKind `json:"kind"`
	CaseID int64     `json:"case_id"`
	// ReportOutcome: the report, its reporter and its new status.
	ReportID int64  `json:"report_id,omitempty"`
	Reporter string `json:"reporter,omitempty"`
	Status   Status `json:"status,omitempty"`
	// Intents: what to act on, and the decision's details.
	ContentIDs     []string       `json:"content_ids,omitempty"`
	AccountIDs     []string       `json:"account_ids,omitempty"`
	PDQ            []pdq.Hash     `json:"pdq,omitempty"`
	Digests        []string       `json:"digests,omitempty"`
	Category       Category       `json:"category,omitempty"`
	Classification Classification `json:"classification,omitempty"`
	Actions        []Action       `json:"actions,omitempty"`
	Reviewer       string         `json:"reviewer,omitempty"`
}
