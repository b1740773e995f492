package usecase

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/signal"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Review takes reports in and carries out decisions: each change to a case
// is written with its audit entries, its bank changes and its webhook
// deliveries in one transaction, whichever way it came in (the API, the
// console, a rule's enqueue action, the escalation timer).
type Review struct {
	Tx  Tx // its stores: Review, ReviewIndex, Audit, Banks, Webhooks
	Log *audit.Log
	// Desk holds the review policy and the intake lock; its stores are
	// replaced by the transaction's for every change.
	Desk *review.Desk
	// Banks carries out bank.add and its reversal in the same transaction.
	Banks *Banks
	// Matcher looks reports' hashes up; nil leaves reports unmatched.
	Matcher *match.Matcher
	// ReviewBank is the service's own bank, where a decision's bank action
	// adds the case's hashes (created on first use); empty leaves bank.add
	// to the review webhook's receiver.
	ReviewBank string
	// ReviewWebhook names the webhook that gets review events; none are
	// sent while no webhook of that name is registered.
	ReviewWebhook string
	Wake          func() // the dispatcher's, after deliveries are queued
	// Drafts, if set, opens the law-enforcement report a person's
	// confirmation asks for, in the decision's transaction.
	Drafts *Drafts
}

// Match looks a report's signals up in the banks, with the one call scans
// use. Matches of a claimed set come back Claimed.
func (u *Review) Match(ctx context.Context, set signal.Set) ([]match.Match, error) {
	if u.Matcher == nil || set.Empty() {
		return nil, nil
	}
	res, err := u.Matcher.Match(ctx, match.Query{Set: set, Radius: -1})
	if err != nil {
		return nil, fmt.Errorf("looking up a report's hashes: %w", err)
	}
	return res.Matches[:min(len(res.Matches), review.MaxMatches)], nil
}

// File files one report for actor (the key that sent it).
func (u *Review) File(ctx context.Context, actor string, r review.Report) (review.Report, error) {
	var rep review.Report
	err := u.change(ctx, actor, func(d *review.Desk) (review.Effects, error) {
		var fx review.Effects
		var err error
		rep, _, fx, err = d.File(ctx, r)
		return fx, err
	})
	return rep, err
}

// fileThen is File with then run in the filing's transaction on the filed
// report, so that what records the filing elsewhere commits with it or
// not at all.
func (u *Review) fileThen(ctx context.Context, actor string, r review.Report, then func(tx Stores, filed review.Report) error) (review.Report, error) {
	var rep review.Report
	err := u.changeIn(ctx, actor, func(d *review.Desk, _ Stores) (review.Effects, error) {
		var fx review.Effects
		var err error
		rep, _, fx, err = d.File(ctx, r)
		return fx, err
	}, func(tx Stores, _ *review.Desk) error { return then(tx, rep) })
	return rep, err
}

// FileBulk files a trusted flagger's batch: all, or none if any is invalid
// or the store fails part way.
func (u *Review) FileBulk(ctx context.Context, actor string, rs []review.Report) ([]review.Report, error) {
	var filed []review.Report
	err := u.change(ctx, actor, func(d *review.Desk) (review.Effects, error) {
		var fx review.Effects
		var err error
		filed, fx, err = d.FileBulk(ctx, rs)
		return fx, err
	})
	return filed, err
}

// Decide decides a case. A non-zero version is the version the reviewer
// looked at: if a report joined since (perhaps a graver one), the decision
// is refused as a conflict, checked in the decision's own transaction.
func (u *Review) Decide(ctx context.Context, actor string, id int64, version int, dec review.Decision) (review.Case, error) {
	var c review.Case
	err := u.changeIn(ctx, actor, func(d *review.Desk, tx Stores) (review.Effects, error) {
		if version != 0 {
			now, _, _, err := d.Case(ctx, id)
			if err != nil {
				return review.Effects{}, err
			}
			if now.Version != version {
				return review.Effects{}, fmt.Errorf("case %d changed since version %d was read (it is at version %d, %s): read it again: %w",
					id, version, now.Version, now.State, review.ErrConflict)
			}
		}
		var fx review.Effects
		var err error
		if c, fx, err = d.Decide(ctx, id, dec); err != nil {
			return fx, err
		}
		// The check above and the desk's read are two statements: a change
		// another server committed between them would be decided over
		// unseen. The desk's save is conditional on the version it read and
		// adds one, so any other version means that happened (rolled back).
		if version != 0 && c.Version != version+1 {
			return review.Effects{}, fmt.Errorf("case %d changed since version %d was read (it is at version %d): read it again: %w",
				id, version, c.Version-1, review.ErrConflict)
		}
		return fx, queueFeedback(ctx, u.Log, tx, actor, c)
	}, func(tx Stores, d *review.Desk) error {
		if u.Drafts == nil || len(c.Decisions) == 0 {
			return nil
		}
		saved, _, rs, err := d.Case(ctx, c.ID)
		if err != nil {
			return err
		}
		last := saved.Decisions[len(saved.Decisions)-1]
		why := wantsReport(ctx, u.Drafts.Scans, saved, rs, last)
		if why == "" {
			return nil
		}
		_, err = u.Drafts.open(ctx, tx, u.Log.In(tx.Audit), audit.System, saved, rs, last, why)
		return err
	})
	return c, err
}

// Appeal re-opens a confirmed case on its uploader's appeal.
func (u *Review) Appeal(ctx context.Context, actor string, id int64, a review.Appeal) (review.Case, error) {
	var c review.Case
	err := u.change(ctx, actor, func(d *review.Desk) (review.Effects, error) {
		var fx review.Effects
		var err error
		c, fx, err = d.Appeal(ctx, id, a)
		return fx, err
	})
	return c, err
}

// Escalate marks the cases past their time-to-action target and sends a
// case.escalated event for each; the server runs it every minute. It
// returns how many it escalated.
func (u *Review) Escalate(ctx context.Context) (int, error) {
	n := 0
	err := u.change(ctx, audit.System, func(d *review.Desk) (review.Effects, error) {
		fx, err := d.Escalate(ctx)
		n = len(fx.Events)
		return fx, err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Enqueue files the report a rule's enqueue action asks for on a recorded
// scan (scan.Pipeline.Enqueue). The report carries the scan's content and
// account ids, its hashes (PDQ only if it means something), its visibility
// and every match, so it joins the case of the same or near-duplicate
// content.
func (u *Review) Enqueue(ctx context.Context, rec scan.Record, d rules.Decided) error {
	rep := review.RuleReport(d)
	rep.ContentID, rep.AccountID, rep.Text = rec.ContentID, rec.AccountID, "scan "+rec.ID
	if p := rec.CasePDQ(); p != "" {
		if h, err := pdq.ParseHex(p); err == nil {
			rep.Hashes.PDQ = &h
		}
	}
	rep.Hashes.MD5, rep.Hashes.SHA256 = rec.MD5, rec.SHA256
	rep.Reach.Visibility = rules.Visibility(rec.Visibility)
	for _, m := range rec.Matches {
		if len(rep.Matches) < review.MaxMatches && !slices.ContainsFunc(rep.Matches, func(x match.Match) bool { return sameMatch(x, m) }) {
			rep.Matches = append(rep.Matches, m)
		}
	}
	if _, err := u.File(ctx, audit.System, rep); err != nil {
		return fmt.Errorf("scan %s: filing rule %d's report: %w", rec.ID, d.Rule.ID, err)
	}
	return nil
}

func sameMatch(a, b match.Match) bool {
	return a.Bank == b.Bank && a.EntryID == b.EntryID && a.Distance == b.Distance && a.Claimed == b.Claimed
}

// change runs one change of the desk in a transaction with its effects. A
// change the desk refuses writes nothing.
func (u *Review) change(ctx context.Context, actor string, fn func(*review.Desk) (review.Effects, error)) error {
	return u.changeIn(ctx, actor, func(d *review.Desk, _ Stores) (review.Effects, error) { return fn(d) })
}

// changeIn is change whose fn also writes to the transaction's stores,
// followed by the thens (in the same transaction, after the effects).
func (u *Review) changeIn(ctx context.Context, actor string, fn func(*review.Desk, Stores) (review.Effects, error), then ...func(Stores, *review.Desk) error) error {
	if u.Desk == nil {
		return fmt.Errorf("review is not available on this server: its store keeps no reports: %w", derrors.Unavailable)
	}
	var fx applied
	err := u.Tx(ctx, func(tx Stores) error {
		d := u.Desk
		if tx.Review != nil {
			d = d.In(tx.Review, tx.ReviewIndex)
		}
		effects, err := fn(d, tx)
		if err != nil {
			return err
		}
		if fx, err = u.apply(ctx, tx, actor, effects); err != nil {
			return err
		}
		for _, f := range then {
			if err := f(tx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if fx.queued && u.Wake != nil {
		u.Wake()
	}
	if fx.banked && u.Banks != nil {
		return u.Banks.sync(ctx)
	}
	return nil
}

// applied says what apply wrote besides audit entries.
type applied struct {
	queued bool // webhook deliveries: the dispatcher should wake
	banked bool // review-bank entries: the index should sync
}

// apply writes a change's effects in tx: its audit entries (the acting key
// as actor, with whom it acted for in the detail; the desk's own acts as
// the system's), the bank changes its intents ask for, and its events as
// deliveries to the review webhook.
func (u *Review) apply(ctx context.Context, tx Stores, actor string, fx review.Effects) (applied, error) {
	log := u.Log.In(tx.Audit)
	for _, e := range fx.Audit {
		who, detail := actor, e.Detail
		switch {
		case e.Actor == review.System:
			who = audit.System
		case e.Actor != actor:
			if m, ok := e.Detail.(map[string]any); ok {
				m = maps.Clone(m)
				m["on_behalf_of"] = e.Actor
				detail = m
			} else {
				detail = map[string]any{"on_behalf_of": e.Actor, "detail": e.Detail}
			}
		}
		if err := record(ctx, log, who, e.Action, e.Subject, detail); err != nil {
			return applied{}, err
		}
	}
	var out applied
	for _, ev := range fx.Events {
		var changed bool
		var err error
		switch {
		case ev.Kind == review.BankAdd:
			changed, err = u.bankAdd(ctx, tx, ev)
		case ev.Kind == review.ContentReinstate && slices.Contains(ev.Actions, review.AddToBank):
			changed, err = u.bankRemove(ctx, tx, ev)
		}
		if err != nil {
			return applied{}, err
		}
		out.banked = out.banked || changed
	}
	var err error
	out.queued, err = u.send(ctx, tx, fx.Events)
	return out, err
}

// caseRef is how the review bank's entries name the case that put them
// there, so that overturning the case takes them out again.
func caseRef(id int64) string { return "case:" + strconv.FormatInt(id, 10) }

// caseEntries are the bank entries of a case's hashes.
func caseEntries(ev review.Event) []bank.Entry {
	base := bank.Entry{Source: "review", ExternalID: caseRef(ev.CaseID),
		Category: string(ev.Classification), AddedBy: ev.Reviewer, Note: "confirmed in review"}
	var es []bank.Entry
	for _, h := range ev.PDQ {
		e := base
		e.Signal, e.Value = bank.PDQ, h.String()
		es = append(es, e)
	}
	for _, d := range ev.Digests {
		sig, v, _ := strings.Cut(d, ":") // "md5:<hex>", "sha256:<hex>"
		e := base
		e.Signal, e.Value = bank.Signal(sig), v
		es = append(es, e)
	}
	return es
}

// bankAdd carries out a bank.add intent: the confirmed case's hashes go
// into the service's own bank (created on first use), so the next upload
// of the content or a near-duplicate matches at scan. A case about an
// account alone has no hashes to add. It reports whether it added any.
func (u *Review) bankAdd(ctx context.Context, tx Stores, ev review.Event) (bool, error) {
	es := caseEntries(ev)
	if u.ReviewBank == "" || tx.Banks == nil || len(es) == 0 {
		return false, nil
	}
	if _, err := tx.Banks.Bank(ctx, u.ReviewBank); errors.Is(err, derrors.NotFound) {
		b := bank.Bank{Name: u.ReviewBank, Description: "content confirmed in review", Threshold: bank.DefaultThreshold}
		if _, err := tx.Banks.CreateBank(ctx, b); err != nil {
			return false, fmt.Errorf("creating the review bank %q: %w", u.ReviewBank, err)
		}
		if err := record(ctx, u.Log.In(tx.Audit), audit.System, audit.BankCreate, u.ReviewBank, map[string]any{"for": "bank.add"}); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, fmt.Errorf("review bank %q: %w", u.ReviewBank, err)
	}
	res, err := tx.Banks.AddEntries(ctx, u.ReviewBank, Slice(es), nil)
	if err != nil {
		return false, fmt.Errorf("adding case %d to bank %q: %w", ev.CaseID, u.ReviewBank, err)
	}
	return res.Added > 0, record(ctx, u.Log.In(tx.Audit), audit.System, audit.BankEntries, u.ReviewBank,
		map[string]any{"added": res.Added, "existing": res.Existing, "case": ev.CaseID, "reviewer": ev.Reviewer})
}

// bankRemove undoes bankAdd when an appeal overturns the decision: the
// entries the case put in the review bank are removed, so its hashes stop
// matching and stop raising later cases' priority. An entry another case
// put there (the same hash confirmed twice) stays: that decision stands.
func (u *Review) bankRemove(ctx context.Context, tx Stores, ev review.Event) (bool, error) {
	if u.ReviewBank == "" || tx.Banks == nil {
		return false, nil
	}
	removed := 0
	for _, e := range caseEntries(ev) {
		live, err := tx.Banks.LiveEntry(ctx, u.ReviewBank, e.Signal, e.Value)
		if errors.Is(err, derrors.NotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("overturning case %d: %w", ev.CaseID, err)
		}
		if live.Source != "review" || live.ExternalID != caseRef(ev.CaseID) {
			continue
		}
		if err := tx.Banks.RemoveEntry(ctx, u.ReviewBank, e.Signal, e.Value); err != nil {
			return false, fmt.Errorf("overturning case %d: %w", ev.CaseID, err)
		}
		removed++
	}
	if removed == 0 {
		return false, nil
	}
	return true, record(ctx, u.Log.In(tx.Audit), audit.System, audit.BankEntries, u.ReviewBank,
		map[string]any{"removed": removed, "case": ev.CaseID, "for": "appeal overturned"})
}

// send queues events as deliveries to the review webhook. With no review
// webhook configured or registered, nobody listens: the events are still
// in the audit log and reporters can ask.
func (u *Review) send(ctx context.Context, tx Stores, evs []review.Event) (bool, error) {
	name := u.ReviewWebhook
	if name == "" || len(evs) == 0 || tx.Webhooks == nil {
		return false, nil
	}
	if _, err := tx.Webhooks.Webhook(ctx, name); errors.Is(err, derrors.NotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("review webhook %q: %w", name, err)
	}
	// Deliveries go by the dispatcher's clock, the real one.
	now := time.Now()
	ds := make([]webhook.Delivery, 0, len(evs))
	for _, ev := range evs {
		d, err := webhook.NewDelivery(name, string(ev.Kind), ev, now)
		if err != nil {
			return false, err
		}
		ds = append(ds, d)
	}
	if err := tx.Webhooks.EnqueueDeliveries(ctx, ds...); err != nil {
		return false, fmt.Errorf("queueing %d review events: %w", len(ds), err)
	}
	return true, nil
}
