package review

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Outcome is what a reporter is told of one of their reports: its state
// and age, what was decided and when, whether others reported the same
// content or account (counts only), and whether it is past its queue's
// target. It never holds the content, the case's other reports, their
// reporters or the reviewers.
type Outcome struct {
	ID        int64    `json:"id"`
	Category  Category `json:"category"`
	ContentID string   `json:"content_id,omitempty"` // as the reporter sent them
	AccountID string   `json:"account_id,omitempty"`
	Status    Status   `json:"status"`

	ReceivedAt time.Time `json:"received_at"`
	// Age is how long the report has waited: until its decision, or
	// until now while it is pending.
	Age time.Duration `json:"age"`

	// Verdict, Actions and DecidedAt say what was decided, once it was:
	// Actions are only those the reported content or account sees
	// (remove, restrict), never a bank entry or a law-enforcement report.
	Verdict   Verdict   `json:"verdict,omitempty"`
	Actions   []Action  `json:"actions,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`

	// OtherReports and OtherReporters count the reports about the same
	// content or account that came from anyone else (the case's
	// reports and distinct reporters, less this reporter's).
	OtherReports   int `json:"other_reports"`
	OtherReporters int `json:"other_reporters"`

	// DueAt is when its queue's target runs out; Overdue says it is
	// undecided past that, and Escalated that the desk has escalated it
	// (Desk.Escalate), so the reporter sees it was not left waiting.
	DueAt     time.Time `json:"due_at"`
	Overdue   bool      `json:"overdue,omitempty"`
	Escalated bool      `json:"escalated,omitempty"`
}

// Tally is a reporter's own figures: "100 sent, 61 actioned, 31
// dismissed, 8 pending — oldest 13 days". Sent counts every report;
// Actioned those whose status is Actioned; Dismissed those whose status
// is NoAction; Pending the rest (Received or InReview: not yet decided,
// or a decision awaiting a second reviewer or an appeal), of which Overdue
// are past their queue's target and Escalated were escalated. Oldest is
// the age of the oldest pending report (0 when none is pending).
// Sent = Actioned + Dismissed + Pending.
type Tally struct {
	Sent      int           `json:"sent"`
	Actioned  int           `json:"actioned"`
	Dismissed int           `json:"dismissed"`
	Pending   int           `json:"pending"`
	Overdue   int           `json:"overdue"`
	Escalated int           `json:"escalated"`
	Oldest    time.Duration `json:"oldest_pending"`
}

// ReporterView is one reporter's reports, newest first, and their
// figures over all of them.
type ReporterView struct {
	Tally    Tally     `json:"tally"`
	Outcomes []Outcome `json:"reports"`
}

// Reporter is what a reporter may know of their own reports: source and
// reporter say who (a trusted flagger's key id, or the id of a platform's
// user), limit bounds the reports listed (the figures count them all).
func (d *Desk) Reporter(ctx context.Context, source Source, reporter string, limit int) (ReporterView, error) {
	rs, err := d.store.ReporterReports(ctx, source, reporter)
	if err != nil {
		return ReporterView{}, fmt.Errorf("review: reports of %s %q: %w", source, reporter, err)
	}
	now := d.now()
	cases := map[int64]Case{}
	own := map[int64]int{} // case → this reporter's reports in it
	for _, r := range rs {
		own[r.CaseID]++
	}
	view := ReporterView{Outcomes: make([]Outcome, 0, min(len(rs), limit))}
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		c, ok := cases[r.CaseID]
		if !ok {
			if c, err = d.store.Case(ctx, r.CaseID); err != nil {
				return ReporterView{}, fmt.Errorf("review: reports of %s %q: case %d: %w", source, reporter, r.CaseID, err)
			}
			cases[r.CaseID] = c
		}
		o := outcome(r, &c, own[r.CaseID], now)
		view.Tally.add(o)
		if len(view.Outcomes) < limit {
			view.Outcomes = append(view.Outcomes, o)
		}
	}
	return view, nil
}

// outcome is what r's reporter is told of it, in case c (which holds
// mine of the reporter's reports) at now.
func outcome(r Report, c *Case, mine int, now time.Time) Outcome {
	o := Outcome{ID: r.ID, Category: r.Category, ContentID: r.ContentID, AccountID: r.AccountID,
		Status: r.Status, ReceivedAt: r.ReceivedAt, DueAt: c.DueAt,
		OtherReports: max(c.Signals.Reports-mine, 0), OtherReporters: max(c.Signals.Reporters-1, 0)}
	decided := r.Status == Actioned || r.Status == NoAction
	if decided {
		o.DecidedAt = r.DecidedAt
		o.Age = r.DecidedAt.Sub(r.ReceivedAt)
		for _, dec := range slices.Backward(c.Decisions) {
			if !dec.Pending {
				o.Verdict = dec.Verdict
				for _, a := range dec.Actions {
					if a == Remove || a == Restrict {
						o.Actions = append(o.Actions, a)
					}
				}
				break
			}
		}
	} else {
		o.Age = now.Sub(r.ReceivedAt)
		o.Overdue = !now.Before(c.DueAt)
		o.Escalated = c.Escalated
	}
	return o
}

func (t *Tally) add(o Outcome) {
	t.Sent++
	switch o.Status {
	case Actioned:
		t.Actioned++
	case NoAction:
		t.Dismissed++
	default:
		t.Pending++
		t.Oldest = max(t.Oldest, o.Age)
		if o.Overdue {
			t.Overdue++
		}
		if o.Escalated {
			t.Escalated++
		}
	}
}
