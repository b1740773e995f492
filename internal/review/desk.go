package review

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/selfreport"
)

// System is the actor of what the Desk does on its own: automatic
// decisions and escalations.
const System = "system"

// Targets are the time-to-action targets per queue. A category missing
// from the map has DefaultTarget.
type Targets map[Queue]time.Duration

// DefaultTarget is the target of a queue Targets does not name.
const DefaultTarget = 24 * time.Hour

// DefaultTargets are the documented targets. Known CSAM with a bank match
// is acted on automatically (see Config.AutoDistance); a report that only
// says "known" without a match is checked within the CSAM hour.
var DefaultTargets = Targets{
	Queue(KnownCSAM):       time.Hour,
	Queue(SuspectedCSAM):   time.Hour,
	Queue(SelfGenerated):   time.Hour,
	Queue(Sextortion):      4 * time.Hour,
	Queue(Grooming):        4 * time.Hour,
	Queue(SexualisedChild): DefaultTarget,
	Queue(Other):           DefaultTarget,
	Appeals:                DefaultTarget,
}

func (t Targets) of(q Queue) time.Duration {
	if d, ok := t[q]; ok {
		return d
	}
	return DefaultTarget
}

// Config sets a Desk's policy. The zero value takes every default.
type Config struct {
	Weights *Weights // nil: DefaultWeights
	Targets Targets  // nil: DefaultTargets
	// JoinDistance: a report joins an open case holding a PDQ hash within
	// this many bits (default 31, the matcher's default threshold).
	JoinDistance int
	// NearDistance: decided cases within this many bits are signals
	// (Signals.Earlier); default 31.
	NearDistance int
	// AutoDistance: a known-CSAM report with a bank match at most this
	// far (PDQ bits; exact digests are 0) is confirmed and acted on with
	// no reviewer. Default 0 (exact, or a PDQ hash equal to the bank's);
	// a negative value turns automatic action off.
	AutoDistance int
	// AutoActions are the automatic decision's actions; nil: remove (the
	// content is already in a bank). Sending to law enforcement is never
	// one of them: no law-enforcement intent leaves without a person's
	// decision, so NewDesk drops it.
	AutoActions []Action
	// Now reads the clock; nil: time.Now. Tests pass a fake clock.
	Now func() time.Time
}

// Desk takes reports in, keeps cases and decides them. It is safe for
// concurrent use: the Store's versioned writes serialise changes to one
// case (a lost race returns ErrConflict, or is retried where safe).
type Desk struct {
	store Store
	index Index
	cfg   Config
	w     Weights
	// intake serialises filing, so that two reports about the same new
	// content arriving together open one case, not two (versioning cannot
	// see that race: neither finds a case to join). Desks made by In share
	// it.
	intake *sync.Mutex
}

// In returns a desk with d's policy and intake lock over other stores: a
// transaction's, so that a change commits with its effects.
func (d *Desk) In(s Store, ix Index) *Desk {
	c := *d
	c.store, c.index = s, ix
	return &c
}

// NewDesk returns a desk over s and ix with policy cfg.
func NewDesk(s Store, ix Index, cfg Config) *Desk {
	if cfg.Targets == nil {
		cfg.Targets = DefaultTargets
	}
	if cfg.JoinDistance == 0 {
		cfg.JoinDistance = 31
	}
	if cfg.NearDistance == 0 {
		cfg.NearDistance = 31
	}
	if cfg.AutoActions == nil {
		cfg.AutoActions = []Action{Remove}
	}
	cfg.AutoActions = slices.DeleteFunc(slices.Clone(cfg.AutoActions), func(a Action) bool { return a == SendToLE })
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := DefaultWeights
	if cfg.Weights != nil {
		w = *cfg.Weights
	}
	return &Desk{store: s, index: ix, cfg: cfg, w: w, intake: new(sync.Mutex)}
}

// now is the clock in whole microseconds, which every store keeps.
func (d *Desk) now() time.Time { return d.cfg.Now().UTC().Truncate(time.Microsecond) }

// Target is the time-to-action target of queue q.
func (d *Desk) Target(q Queue) time.Duration { return d.cfg.Targets.of(q) }

// Priority is c's priority now.
func (d *Desk) Priority(c *Case) Priority { return d.w.Score(c, d.now()) }

// RuleReport makes the report a rule's enqueue action files: category
// known CSAM (a rule fires on a bank match), the rule's priority and its
// match. The platform's context (content id, account, hashes, reach) is
// the caller's to add.
func RuleReport(a rules.Decided) Report {
	r := a.Rule
	category := KnownCSAM
	if a.Match.Bank == selfreport.BankName {
		// A hash someone sent of an image of themselves, which no
		// analyst has seen: a person confirms it (auto ignores it).
		category = SelfGenerated
	}
	return Report{
		Source: Rule, Reporter: "rule:" + strconv.FormatInt(r.ID, 10), Category: category,
		Rule: &r, Priority: a.Priority, Matches: []match.Match{a.Match},
	}
}

const maxRetries = 5

// File takes one report in: it validates it, joins it to the case it
// belongs to (or opens one), gathers the case's signals and, for known
// CSAM matched in a bank, decides the case at once. The report comes back
// with its ID, case and status.
func (d *Desk) File(ctx context.Context, r Report) (Report, Case, Effects, error) {
	if err := r.Validate(); err != nil {
		return Report{}, Case{}, Effects{}, err
	}
	d.intake.Lock()
	defer d.intake.Unlock()
	var err error
	for range maxRetries {
		var (
			rep Report
			c   Case
			fx  Effects
		)
		rep, c, fx, err = d.file(ctx, r)
		if errors.Is(err, ErrConflict) {
			continue // another report joined the case meanwhile
		}
		return rep, c, fx, err
	}
	return Report{}, Case{}, Effects{}, err
}

// FileBulk files many reports, as a trusted flagger sends them. All are
// validated first and none is filed if any is invalid (the error names
// each by its index), so a flagger never has to work out which of a
// batch went in. If the store fails part way, the reports filed so far
// are returned with the error.
func (d *Desk) FileBulk(ctx context.Context, rs []Report) ([]Report, Effects, error) {
	var errs []string
	for i := range rs {
		if err := rs[i].Validate(); err != nil {
			errs = append(errs, fmt.Sprintf("item %d: %v", i, strings.TrimSuffix(err.Error(), ": "+ErrInvalid.Error())))
		}
	}
	if len(errs) > 0 {
		return nil, Effects{}, fmt.Errorf("%s: %w", strings.Join(errs, "; "), ErrInvalid)
	}
	var fx Effects
	out := make([]Report, 0, len(rs))
	for _, r := range rs {
		rep, _, f, err := d.File(ctx, r)
		if err != nil {
			return out, fx, err
		}
		fx.add(f)
		out = append(out, rep)
	}
	return out, fx, nil
}

// lockIntake takes the store's intake lock, if it has one (IntakeLocker).
func (d *Desk) lockIntake(ctx context.Context) error {
	if l, ok := d.store.(IntakeLocker); ok {
		return l.LockIntake(ctx)
	}
	return nil
}

func (d *Desk) file(ctx context.Context, r Report) (Report, Case, Effects, error) {
	if err := d.lockIntake(ctx); err != nil {
		return Report{}, Case{}, Effects{}, fmt.Errorf("review: file report: %w", err)
	}
	now := d.now()
	r.ID, r.CaseID, r.ReceivedAt, r.Status, r.DecidedAt = 0, 0, now, Received, time.Time{}
	r.Matches = slices.Clone(r.Matches)

	var contentIDs, accountIDs []string
	if r.ContentID != "" {
		contentIDs = []string{r.ContentID}
	}
	if r.AccountID != "" {
		accountIDs = []string{r.AccountID}
	}
	digests := r.Hashes.digests()
	related, err := d.store.Related(ctx, contentIDs, accountIDs, digests)
	if err != nil {
		return Report{}, Case{}, Effects{}, fmt.Errorf("review: file report: %w", err)
	}
	// near holds the nearest PDQ distance of each case near the report's.
	near := map[int64]int{}
	if r.Hashes.PDQ != nil {
		ns, err := d.index.NearCases(ctx, *r.Hashes.PDQ, max(d.cfg.JoinDistance, d.cfg.NearDistance))
		if err != nil {
			return Report{}, Case{}, Effects{}, fmt.Errorf("review: file report: near-duplicates: %w", err)
		}
		for _, n := range ns {
			near[n.CaseID] = n.Distance
		}
		for id := range near {
			if !slices.ContainsFunc(related, func(c Case) bool { return c.ID == id }) {
				c, err := d.store.Case(ctx, id)
				if err != nil {
					return Report{}, Case{}, Effects{}, fmt.Errorf("review: file report: related case %d: %w", id, err)
				}
				related = append(related, c)
			}
		}
		slices.SortFunc(related, func(a, b Case) int { return cmp.Compare(a.ID, b.ID) })
	}

	// Join the oldest undecided case the report belongs to. A report the
	// Desk acts on by itself opens its own case: joining would decide, with
	// no reviewer, the other reports of a case that shares only an
	// account with it.
	var c Case
	joined := false
	m, auto := d.auto(r)
	for _, rc := range related {
		if rc.Decided() || auto {
			continue
		}
		dist, isNear := near[rc.ID]
		if shares(rc, r) || isNear && dist <= d.cfg.JoinDistance {
			c, joined = rc, true
			break
		}
	}
	if !joined {
		c = Case{State: Open, Category: r.Category, OpenedAt: now}
	}
	c.ContentIDs = addAll(c.ContentIDs, contentIDs...)
	c.AccountIDs = addAll(c.AccountIDs, accountIDs...)
	c.Digests = addAll(c.Digests, digests...)
	if h := r.Hashes.PDQ; h != nil && !slices.Contains(c.PDQ, *h) {
		c.PDQ = append(c.PDQ, *h)
	}
	if graver(r.Category, c.Category) {
		c.Category = r.Category
	}
	if c.State != Appealed {
		c.Queue = Queue(c.Category)
		c.DueAt = c.OpenedAt.Add(d.Target(c.Queue))
	}

	if err := d.gather(ctx, &c, r, related, near); err != nil {
		return Report{}, Case{}, Effects{}, err
	}
	rep, c, err := d.store.FileReport(ctx, r, c)
	if err != nil {
		return Report{}, Case{}, Effects{}, fmt.Errorf("review: file report: %w", err)
	}
	subject := "report:" + strconv.FormatInt(rep.ID, 10)
	fx := Effects{Audit: []Audit{{
		Actor: rep.Reporter, Action: "report.create", Subject: subject,
		Detail: map[string]any{"case": c.ID, "category": rep.Category, "source": rep.Source, "reporter": rep.Reporter, "joined": joined},
	}}}

	if auto {
		dec := Decision{
			Reviewer: System, Verdict: Confirm, Actions: slices.Clone(d.cfg.AutoActions), At: now,
			Reason: fmt.Sprintf("known: bank %s entry %d, %s distance %d", m.Bank, m.EntryID, m.Signal, m.Distance),
		}
		decided, f, err := d.decide(ctx, c, dec)
		if err != nil {
			// The report is filed and its case open in the known-CSAM
			// queue, where a reviewer sees it: an error here would have
			// the client file it again (and File retry a conflict), so
			// the failure goes to the audit log instead.
			fx.Audit = append(fx.Audit, Audit{Actor: System, Action: "case.auto_failed", Subject: caseSubject(c.ID),
				Detail: map[string]any{"error": err.Error()}})
			return rep, c, fx, nil
		}
		fx.add(f)
		if rep, err = d.store.Report(ctx, rep.ID); err != nil {
			return Report{}, decided, fx, fmt.Errorf("review: file report: %w", err)
		}
		return rep, decided, fx, nil
	}
	return rep, c, fx, nil
}

// shares reports whether c lists r's content id, account id or a digest.
func shares(c Case, r Report) bool {
	return r.ContentID != "" && slices.Contains(c.ContentIDs, r.ContentID) ||
		r.AccountID != "" && slices.Contains(c.AccountIDs, r.AccountID) ||
		slices.ContainsFunc(r.Hashes.digests(), func(d string) bool { return slices.Contains(c.Digests, d) })
}

// auto returns the bank match that lets r be acted on with no reviewer: a
// match of a hash Safeguard computed itself, never one a reporter claimed.
func (d *Desk) auto(r Report) (match.Match, bool) {
	if r.Category != KnownCSAM || d.cfg.AutoDistance < 0 {
		return match.Match{}, false
	}
	for _, m := range r.Matches {
		// Claimed hashes and self-reported ones have had no analyst look
		// at them: anyone can send one, so a person decides. A vPDQ match
		// is a share of similar frames, not an identical file: its
		// Distance of 0 says nothing, and a person decides.
		if !m.Claimed && m.Bank != selfreport.BankName && m.Signal != bank.VPDQ && m.Distance <= d.cfg.AutoDistance {
			return m, true
		}
	}
	return match.Match{}, false
}

func addAll(list []string, xs ...string) []string {
	for _, x := range xs {
		if !slices.Contains(list, x) {
			list = append(list, x)
		}
	}
	return list
}

// gather adds what report r brings to c's signals: its matches, decided
// cases about the same or near-duplicate content and about the same
// account, the reporter's record, and the report's own claims.
func (d *Desk) gather(ctx context.Context, c *Case, r Report, related []Case, near map[int64]int) error {
	s := &c.Signals
	s.Reports++
	reporters := map[string]bool{r.Reporter: true}
	if c.ID != 0 {
		rs, err := d.store.CaseReports(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("review: file report: %w", err)
		}
		for _, x := range rs {
			reporters[x.Reporter] = true
		}
	}
	s.Reporters = len(reporters)
	for _, m := range r.Matches {
		if len(s.Matches) < MaxMatches && !slices.Contains(s.Matches, m) {
			s.Matches = append(s.Matches, m)
		}
	}
	for _, rc := range related {
		if !rc.Decided() || rc.ID == c.ID {
			continue
		}
		v := rc.verdict()
		if r.AccountID != "" && slices.Contains(rc.AccountIDs, r.AccountID) && !slices.Contains(s.Account.Cases, rc.ID) {
			s.Account.Cases = append(s.Account.Cases, rc.ID)
			if v == Confirm {
				s.Account.Confirmed++
			} else {
				s.Account.Dismissed++
			}
		}
		dist, isNear := near[rc.ID]
		sameContent := r.ContentID != "" && slices.Contains(rc.ContentIDs, r.ContentID) ||
			slices.ContainsFunc(r.Hashes.digests(), func(x string) bool { return slices.Contains(rc.Digests, x) })
		if sameContent {
			dist, isNear = 0, true
		}
		if isNear && dist <= d.cfg.NearDistance {
			if i := slices.IndexFunc(s.Earlier, func(e Earlier) bool { return e.CaseID == rc.ID }); i >= 0 {
				s.Earlier[i].Distance = min(s.Earlier[i].Distance, dist)
			} else {
				s.Earlier = append(s.Earlier, Earlier{CaseID: rc.ID, Distance: dist, Verdict: v})
			}
		}
	}
	if r.Source != Rule {
		a, err := d.store.Reporter(ctx, r.Reporter)
		if err != nil {
			return fmt.Errorf("review: file report: reporter record: %w", err)
		}
		a.Reporter = r.Reporter
		if i := slices.IndexFunc(s.Accuracy, func(x Accuracy) bool { return x.Reporter == r.Reporter }); i >= 0 {
			s.Accuracy[i] = a
		} else {
			s.Accuracy = append(s.Accuracy, a)
		}
	}
	s.Flagged = s.Flagged || r.Source == Flagger
	s.RulePriority = max(s.RulePriority, r.Priority)
	s.MinorSuspected = s.MinorSuspected || r.MinorSuspected
	if wider(r.Reach.Visibility, s.Reach.Visibility) {
		s.Reach.Visibility = r.Reach.Visibility
	}
	s.Reach.Audience = max(s.Reach.Audience, r.Reach.Audience)
	return nil
}

func wider(a, b rules.Visibility) bool {
	order := []rules.Visibility{"", rules.Private, rules.Unlisted, rules.Public}
	return slices.Index(order, a) > slices.Index(order, b)
}

// verdict is the standing verdict of a decided case.
func (c *Case) verdict() Verdict {
	for i := len(c.Decisions) - 1; i >= 0; i-- {
		if !c.Decisions[i].Pending {
			return c.Decisions[i].Verdict
		}
	}
	return ""
}

// Case returns a case, its priority now and its reports.
func (d *Desk) Case(ctx context.Context, id int64) (Case, Priority, []Report, error) {
	c, err := d.store.Case(ctx, id)
	if err != nil {
		return Case{}, Priority{}, nil, fmt.Errorf("review: case %d: %w", id, err)
	}
	rs, err := d.store.CaseReports(ctx, id)
	if err != nil {
		return Case{}, Priority{}, nil, fmt.Errorf("review: case %d: %w", id, err)
	}
	return c, d.Priority(&c), rs, nil
}

// Reason is the first words of a case's reports' reasons, oldest first,
// at most words words (and 120 characters), "…" where cut: a person's
// report's text, else the name of the rule that asked for review (a
// rule's report text only names its scan); empty when there is neither.
// A queue shows it so a reviewer can triage.
func (d *Desk) Reason(ctx context.Context, id int64, words int) (string, error) {
	rs, err := d.store.CaseReports(ctx, id)
	if err != nil {
		return "", fmt.Errorf("review: case %d: %w", id, err)
	}
	texts := make([]string, 0, len(rs)+1)
	for _, r := range rs {
		if r.Source != Rule {
			texts = append(texts, r.Text)
		}
	}
	for _, r := range rs {
		if r.Source == Rule && r.Rule != nil {
			texts = append(texts, "rule "+r.Rule.Name)
			break
		}
	}
	for _, t := range texts {
		if f := strings.Fields(t); len(f) > 0 {
			cut := len(f) > words
			s := strings.Join(f[:min(words, len(f))], " ")
			if rs := []rune(s); len(rs) > 120 {
				s, cut = string(rs[:120]), true
			}
			if cut {
				s += "…"
			}
			return s, nil
		}
	}
	return "", nil
}

// Report returns a report, for its reporter to see its status.
func (d *Desk) Report(ctx context.Context, id int64) (Report, error) {
	r, err := d.store.Report(ctx, id)
	if err != nil {
		return Report{}, fmt.Errorf("review: report %d: %w", id, err)
	}
	return r, nil
}

// Ranked is a case in a queue with its priority.
type Ranked struct {
	Case     Case     `json:"case"`
	Priority Priority `json:"priority"`
}

// Queue returns the undecided cases of queue q (all queues if q is
// empty) in the order a reviewer should take them: overdue cases first,
// then by score, highest first; among equals the one due soonest, then
// the oldest.
func (d *Desk) Queue(ctx context.Context, q Queue) ([]Ranked, error) {
	cs, err := d.store.OpenCases(ctx)
	if err != nil {
		return nil, fmt.Errorf("review: queue %q: %w", q, err)
	}
	now := d.now()
	out := []Ranked{}
	for _, c := range cs {
		if q == "" || c.Queue == q {
			out = append(out, Ranked{Case: c, Priority: d.w.Score(&c, now)})
		}
	}
	slices.SortFunc(out, func(a, b Ranked) int {
		if a.Priority.Overdue != b.Priority.Overdue {
			if a.Priority.Overdue {
				return -1
			}
			return 1
		}
		return cmp.Or(
			cmp.Compare(b.Priority.Score, a.Priority.Score),
			a.Case.DueAt.Compare(b.Case.DueAt),
			cmp.Compare(a.Case.ID, b.Case.ID))
	})
	return out, nil
}

// QueueStatus is the state of one queue at a glance.
type QueueStatus struct {
	Queue   Queue         `json:"queue"`
	Target  time.Duration `json:"target"`
	Cases   int           `json:"cases"`
	Overdue int           `json:"overdue"`
	// NextDue is the earliest due time among the cases not yet overdue;
	// zero if there are none.
	NextDue time.Time `json:"next_due,omitzero"`
}

// QueueCount is what a store counts of one queue's undecided cases.
type QueueCount struct {
	Queue   Queue
	Cases   int
	Overdue int       // due at or before the time asked about
	NextDue time.Time // the earliest due time after it; zero if none
}

// Queues returns every queue's status, in the order of Queues().
func (d *Desk) Queues(ctx context.Context) ([]QueueStatus, error) {
	counts, err := d.store.CountOpenCases(ctx, d.now())
	if err != nil {
		return nil, fmt.Errorf("review: queues: %w", err)
	}
	qs := Queues()
	out := make([]QueueStatus, len(qs))
	for i, q := range qs {
		out[i] = QueueStatus{Queue: q, Target: d.Target(q)}
	}
	for _, n := range counts {
		if i := slices.Index(qs, n.Queue); i >= 0 {
			out[i].Cases, out[i].Overdue, out[i].NextDue = n.Cases, n.Overdue, n.NextDue
		}
	}
	return out, nil
}

// Escalate marks every undecided case past its target, once each, and
// returns a CaseEscalated event for each so the server can notify. Run it
// every minute or so; a case another change wins the race for is
// escalated on the next run.
func (d *Desk) Escalate(ctx context.Context) (Effects, error) {
	cs, err := d.store.OpenCases(ctx)
	if err != nil {
		return Effects{}, fmt.Errorf("review: escalate: %w", err)
	}
	now := d.now()
	var fx Effects
	for _, c := range cs {
		if c.Escalated || now.Before(c.DueAt) {
			continue
		}
		c.Escalated = true
		saved, err := d.store.SaveCase(ctx, c, nil)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fx, fmt.Errorf("review: escalate case %d: %w", c.ID, err)
		}
		late := now.Sub(saved.DueAt)
		fx.Audit = append(fx.Audit, Audit{Actor: System, Action: "case.escalate", Subject: caseSubject(saved.ID),
			Detail: map[string]any{"queue": saved.Queue, "due_at": saved.DueAt, "late_seconds": int64(late / time.Second)}})
		fx.Events = append(fx.Events, Event{Kind: CaseEscalated, CaseID: saved.ID, Category: saved.Category,
			ContentIDs: saved.ContentIDs, AccountIDs: saved.AccountIDs})
	}
	return fx, nil
}

// Stats is the time to action of the reports received since since.
func (d *Desk) Stats(ctx context.Context, since time.Time) ([]Row, error) {
	rs, err := d.store.Reports(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("review: stats: %w", err)
	}
	return TimeToAction(rs), nil
}

func caseSubject(id int64) string { return "case:" + strconv.FormatInt(id, 10) }
