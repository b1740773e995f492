package review

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Validate lists every problem with a decision on a case of category
// cat. A confirmation takes exactly one of remove and restrict (on an
// appeal, none: upholding leaves the first decision's actions standing),
// and a classification when the case is about an image of abuse or the
// decision adds to the bank; a dismissal takes a reason and no actions.
func (dec *Decision) Validate(cat Category, onAppeal bool) error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if dec.Reviewer == "" {
		bad("reviewer is required")
	} else if err := checkID(dec.Reviewer); err != nil {
		bad("reviewer %v", err)
	}
	if len(dec.Reason) > MaxText {
		bad("reason is %d bytes, more than %d", len(dec.Reason), MaxText)
	}
	if dec.Classification != "" && !slices.Contains(Classifications, dec.Classification) {
		bad("unknown classification %q: want one of %s", clip(string(dec.Classification)), join(Classifications))
	}
	for i, a := range dec.Actions {
		if !slices.Contains(Actions, a) {
			bad("unknown action %q: want one of %s", clip(string(a)), join(Actions))
		} else if slices.Index(dec.Actions, a) != i {
			bad("action %s given twice", a)
		}
	}
	switch dec.Verdict {
	case Confirm:
		takedown := 0
		for _, a := range dec.Actions {
			if a == Remove || a == Restrict {
				takedown++
			}
		}
		if onAppeal && len(dec.Actions) > 0 {
			bad("upholding on appeal takes no actions: the first decision's stand")
		} else if !onAppeal && takedown != 1 {
			bad("a confirmation takes exactly one of remove and restrict")
		}
		if dec.Classification == "" && !onAppeal && (cat.image() || slices.Contains(dec.Actions, AddToBank)) {
			bad("a confirmation of %s needs a classification (%s)", cat, join(Classifications))
		}
	case Dismiss:
		if strings.TrimSpace(dec.Reason) == "" {
			bad("a dismissal needs a reason")
		}
		if len(dec.Actions) > 0 || dec.Classification != "" {
			bad("a dismissal takes no actions and no classification")
		}
	default:
		bad("unknown verdict %q: want confirm or dismiss", clip(string(dec.Verdict)))
	}
	if len(errs) > 0 {
		return fmt.Errorf("decision: %s: %w", strings.Join(errs, "; "), ErrInvalid)
	}
	return nil
}

// Decide records a reviewer's decision on case id. dec.At and the
// Pending and OnAppeal flags are set here.
//
// A dismissal of a case a trusted flagger reported is only a first
// dismissal: the case waits (PendingSecond) for a second, different
// reviewer, who dismisses it too or confirms it. A decision on an
// appealed case must come from a reviewer who took no part in the
// decision appealed. ErrConflict if another decision came first.
func (d *Desk) Decide(ctx context.Context, id int64, dec Decision) (Case, Effects, error) {
	c, err := d.store.Case(ctx, id)
	if err != nil {
		return Case{}, Effects{}, fmt.Errorf("review: decide case %d: %w", id, err)
	}
	dec.At, dec.Pending, dec.OnAppeal = d.now(), false, c.State == Appealed
	if err := dec.Validate(c.Category, dec.OnAppeal); err != nil {
		return Case{}, Effects{}, fmt.Errorf("review: case %d: %w", id, err)
	}
	if err := c.checkExcept(dec); err != nil {
		return Case{}, Effects{}, fmt.Errorf("review: case %d: %w", id, err)
	}
	switch c.State {
	case Decided:
		return Case{}, Effects{}, fmt.Errorf("review: decide case %d: already decided: %w", id, ErrState)
	case Appealed:
		for _, p := range c.Decisions {
			if p.Reviewer == dec.Reviewer {
				return Case{}, Effects{}, fmt.Errorf("review: decide appeal of case %d: %s took part in the decision appealed: %w", id, dec.Reviewer, ErrSecondReviewer)
			}
		}
	case PendingSecond:
		first := c.Decisions[len(c.Decisions)-1]
		if dec.Verdict == Dismiss && first.Reviewer == dec.Reviewer {
			return Case{}, Effects{}, fmt.Errorf("review: dismiss case %d: %s made the first dismissal; a trusted flagger's report needs a second reviewer: %w", id, dec.Reviewer, ErrSecondReviewer)
		}
	case Open:
		if dec.Verdict == Dismiss && c.Signals.Flagged {
			dec.Pending = true
		}
	}
	return d.decide(ctx, c, dec)
}

// decide applies a valid, allowed decision to c and stores it.
func (d *Desk) decide(ctx context.Context, c Case, dec Decision) (Case, Effects, error) {
	rs, err := d.store.CaseReports(ctx, c.ID)
	if err != nil {
		return Case{}, Effects{}, fmt.Errorf("review: decide case %d: %w", c.ID, err)
	}
	var appealed Decision // the decision an appeal is about
	if dec.OnAppeal {
		appealed = c.Decisions[slices.IndexFunc(c.Decisions, func(x Decision) bool { return !x.Pending && !x.OnAppeal })]
	}
	c.Decisions = append(c.Decisions, dec)
	subject := caseSubject(c.ID)
	detail := map[string]any{"verdict": dec.Verdict, "category": c.Category}
	if dec.Classification != "" {
		detail["classification"] = dec.Classification
	}
	if len(dec.Actions) > 0 {
		detail["actions"] = dec.Actions
	}
	if dec.Reason != "" {
		detail["reason"] = dec.Reason
	}
	action := "case.decide"
	if dec.Pending {
		action = "case.dismiss_first"
		c.State = PendingSecond
		changed := setStatus(rs, InReview, dec)
		saved, err := d.store.SaveCase(ctx, c, changed)
		if err != nil {
			return Case{}, Effects{}, fmt.Errorf("review: decide case %d: %w", c.ID, err)
		}
		return saved, Effects{Audit: []Audit{{Actor: dec.Reviewer, Action: action, Subject: subject, Detail: detail}}}, nil
	}
	if dec.OnAppeal {
		action = "case.decide_appeal"
	}
	c.State = Decided
	status := Actioned
	if dec.Verdict == Dismiss {
		status = NoAction
	}
	changed := setStatus(rs, status, dec)
	contentIDs, accountIDs := c.actOn(dec)
	saved, err := d.store.SaveCase(ctx, c, changed)
	if err != nil {
		return Case{}, Effects{}, fmt.Errorf("review: decide case %d: %w", c.ID, err)
	}
	fx := Effects{Audit: []Audit{{Actor: dec.Reviewer, Action: action, Subject: subject, Detail: detail}}}
	intent := func(k EventKind, actions []Action) Event {
		return Event{
			Kind: k, CaseID: saved.ID, ContentIDs: contentIDs, AccountIDs: accountIDs,
			PDQ: saved.PDQ, Digests: saved.Digests, Category: saved.Category,
			Classification: dec.Classification, Actions: actions, Reviewer: dec.Reviewer,
		}
	}
	switch {
	case dec.OnAppeal && dec.Verdict == Dismiss:
		fx.Events = append(fx.Events, intent(ContentReinstate, appealed.Actions))
	case dec.Verdict == Confirm:
		for _, a := range dec.Actions {
			fx.Events = append(fx.Events, intent(map[Action]EventKind{
				Remove: ContentRemove, Restrict: ContentRestrict, AddToBank: BankAdd, SendToLE: LEReport}[a], nil))
		}
	}
	for _, r := range changed {
		fx.Events = append(fx.Events, Event{Kind: ReportOutcome, CaseID: saved.ID, ReportID: r.ID, Reporter: r.Reporter, Status: r.Status})
	}
	return saved, fx, nil
}

// setStatus sets the status of rs to s and returns those it changed. A
// report's DecidedAt is its first decision's time: time to action counts
// from the report to the first decision on it.
func setStatus(rs []Report, s Status, dec Decision) []Report {
	var changed []Report
	for _, r := range rs {
		if r.Status == s {
			continue
		}
		r.Status = s
		if (s == Actioned || s == NoAction) && r.DecidedAt.IsZero() {
			r.DecidedAt = dec.At
		}
		changed = append(changed, r)
	}
	return changed
}

// Appeal re-opens a confirmed case on its uploader's appeal, into the
// Appeals queue with its own time-to-action clock. A case is appealed at
// most once; a dismissal cannot be appealed (it took nothing down).
func (d *Desk) Appeal(ctx context.Context, id int64, a Appeal) (Case, Effects, error) {
	var errs []string
	if a.Appellant == "" {
		errs = append(errs, "appellant is required")
	} else if err := checkID(a.Appellant); err != nil {
		errs = append(errs, "appellant "+err.Error())
	}
	if len(a.Reason) > MaxText {
		errs = append(errs, fmt.Sprintf("reason is %d bytes, more than %d", len(a.Reason), MaxText))
	}
	if len(errs) > 0 {
		return Case{}, Effects{}, fmt.Errorf("review: appeal of case %d: %s: %w", id, strings.Join(errs, "; "), ErrInvalid)
	}
	c, err := d.store.Case(ctx, id)
	if err != nil {
		return Case{}, Effects{}, fmt.Errorf("review: appeal of case %d: %w", id, err)
	}
	switch {
	case c.Appeal != nil:
		return Case{}, Effects{}, fmt.Errorf("review: appeal of case %d: already appealed: %w", id, ErrState)
	case !c.Decided():
		return Case{}, Effects{}, fmt.Errorf("review: appeal of case %d: not decided: %w", id, ErrState)
	case c.verdict() != Confirm:
		return Case{}, Effects{}, fmt.Errorf("review: appeal of case %d: it was dismissed, nothing to appeal: %w", id, ErrState)
	}
	now := d.now()
	a.At = now
	c.Appeal = &a
	c.State, c.Queue, c.OpenedAt, c.Escalated = Appealed, Appeals, now, false
	c.DueAt = now.Add(d.Target(Appeals))
	rs, err := d.store.CaseReports(ctx, id)
	if err != nil {
		return Case{}, Effects{}, fmt.Errorf("review: appeal of case %d: %w", id, err)
	}
	changed := setStatus(rs, InReview, Decision{})
	saved, err := d.store.SaveCase(ctx, c, changed)
	if err != nil {
		return Case{}, Effects{}, fmt.Errorf("review: appeal of case %d: %w", id, err)
	}
	fx := Effects{Audit: []Audit{{Actor: a.Appellant, Action: "case.appeal", Subject: caseSubject(id),
		Detail: map[string]any{"reason": a.Reason}}}}
	for _, r := range changed {
		fx.Events = append(fx.Events, Event{Kind: ReportOutcome, CaseID: id, ReportID: r.ID, Reporter: r.Reporter, Status: r.Status})
	}
	return saved, fx, nil
}
