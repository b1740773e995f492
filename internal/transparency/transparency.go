// Package transparency computes the figures of a transparency report for
// a period: reports received by source, decided and undecided, actioned
// and dismissed, time to action, overdue, appeals, law-enforcement
// reports, data requests, content found again after a dismissal, and the
// proactive share over everything found. Each figure has one definition
// (Definitions) and says its denominator in words; docs/transparency.md
// is the same table for readers.
//
// The figures are computed from what the stores keep (Gather reads them,
// Compute counts) and are about a period's reports as they stand when the
// report is made (Input.AsOf): a report received in the period and decided
// after it counts as decided.
package transparency

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// Channel is how a report reached Safeguard, as the figures name it. A
// rule's report is proactive detection by a bank match, or by a text
// signal when it carries one; the network detector's is a network signal.
type Channel string

const (
	Users           Channel = "users"
	TrustedFlaggers Channel = "trusted_flaggers"
	ProactiveBank   Channel = "proactive_bank"
	ProactiveText   Channel = "proactive_text"
	ProactiveNet    Channel = "proactive_network"
)

// Channels lists every channel, people first.
var Channels = []Channel{Users, TrustedFlaggers, ProactiveBank, ProactiveText, ProactiveNet}

// ChannelOf is the channel report r came through.
func ChannelOf(r review.Report) Channel {
	switch r.Source {
	case review.Flagger:
		return TrustedFlaggers
	case review.Rule:
		if r.TextSignal != nil {
			return ProactiveText
		}
		return ProactiveBank
	case review.Detector:
		return ProactiveNet
	}
	return Users
}

// Proactive reports whether ch is Safeguard's own detection.
func (ch Channel) Proactive() bool { return ch != Users && ch != TrustedFlaggers }

// Period is the half-open interval [From, To).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// MaxPeriod bounds a report's period, so that one request cannot ask the
// stores for every row they hold many times over.
const MaxPeriod = 366 * 24 * time.Hour

// ErrPeriod is wrapped by a period that is empty, reversed or too long.
var ErrPeriod = derrors.New(derrors.Invalid, "invalid period")

// Check reports what is wrong with p.
func (p Period) Check() error {
	switch {
	case p.From.IsZero() || p.To.IsZero():
		return fmt.Errorf("transparency: a period needs from and to: %w", ErrPeriod)
	case !p.From.Before(p.To):
		return fmt.Errorf("transparency: from %s is not before to %s: %w", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), ErrPeriod)
	case p.To.Sub(p.From) > MaxPeriod:
		return fmt.Errorf("transparency: the period is longer than %d days: %w", MaxPeriod/(24*time.Hour), ErrPeriod)
	}
	return nil
}

// DefaultPeriod is the length of a period given no start: a quarter.
const DefaultPeriod = 91 * 24 * time.Hour

// ParsePeriod reads a period as the API and the CLI take it: from and to
// as RFC 3339 times or dates (2026-07-01, midnight UTC); to defaults to
// now, from to DefaultPeriod before to. The period is checked.
func ParsePeriod(from, to string, now time.Time) (Period, error) {
	at := func(name, s string, def time.Time) (time.Time, error) {
		if s == "" {
			return def, nil
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC(), nil
		}
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("transparency: %s %q: want an RFC 3339 time such as 2026-07-01T00:00:00Z or a date such as 2026-07-01: %w", name, clip(s), ErrPeriod)
	}
	var p Period
	var err error
	if p.To, err = at("to", to, now.UTC()); err != nil {
		return Period{}, err
	}
	if p.From, err = at("from", from, p.To.Add(-DefaultPeriod)); err != nil {
		return Period{}, err
	}
	return p, p.Check()
}

// clip shortens s for an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func (p Period) has(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// Input is what the figures are computed from: Gather reads it.
type Input struct {
	// Reports are the reports received at or after the period's start.
	Reports []review.Report
	// Cases holds, by ID, the cases of those reports and every case
	// opened at or after the period's start.
	Cases      map[int64]review.Case
	LEReports  []lereport.Report
	LERequests []lerequest.Request
	// AsOf is when the figures are made: undecided reports' ages and
	// overdue waits run to it.
	AsOf time.Time
}

// Stores are what Gather reads; store.Store is all of them.
type Stores interface {
	Reports(ctx context.Context, since time.Time) ([]review.Report, error)
	CasesSince(ctx context.Context, since time.Time) ([]review.Case, error)
	Case(ctx context.Context, id int64) (review.Case, error)
	LEReports(ctx context.Context, state lereport.State) ([]lereport.Report, error)
	LERequests(ctx context.Context, state lerequest.State) ([]lerequest.Request, error)
}

// Gather reads what the figures of a period starting at from need.
func Gather(ctx context.Context, s Stores, from, asOf time.Time) (Input, error) {
	in := Input{Cases: map[int64]review.Case{}, AsOf: asOf}
	var err error
	if in.Reports, err = s.Reports(ctx, from); err != nil {
		return Input{}, fmt.Errorf("transparency: %w", err)
	}
	cs, err := s.CasesSince(ctx, from)
	if err != nil {
		return Input{}, fmt.Errorf("transparency: %w", err)
	}
	for _, c := range cs {
		in.Cases[c.ID] = c
	}
	// A report may have joined a case opened before the period.
	for _, r := range in.Reports {
		if _, ok := in.Cases[r.CaseID]; !ok {
			c, err := s.Case(ctx, r.CaseID)
			if err != nil {
				return Input{}, fmt.Errorf("transparency: case %d of report %d: %w", r.CaseID, r.ID, err)
			}
			in.Cases[c.ID] = c
		}
	}
	// Reports that never left were never sent: drafts and ready ones are
	// not read.
	for _, st := range []lereport.State{lereport.Submitted, lereport.Acknowledged, lereport.Retracted} {
		rs, err := s.LEReports(ctx, st)
		if err != nil {
			return Input{}, fmt.Errorf("transparency: %w", err)
		}
		in.LEReports = append(in.LEReports, rs...)
	}
	for _, st := range lerequest.States {
		rs, err := s.LERequests(ctx, st)
		if err != nil {
			return Input{}, fmt.Errorf("transparency: %w", err)
		}
		in.LERequests = append(in.LERequests, rs...)
	}
	return in, nil
}

// Config is the policy the figures are measured against.
type Config struct {
	// Target is each queue's time-to-action target (review.Desk.Target);
	// nil: review.DefaultTargets.
	Target func(review.Queue) time.Duration
	// JoinDistance is the case-joining rule's PDQ distance (default 31,
	// as review.Config's): content found again within it is the same.
	JoinDistance int
	// Category, if set, restricts the report to one category.
	Category review.Category
	// Reporter, if set, restricts the report's figures to one reporter's
	// reports ("100 sent, 61 actioned, 31 dismissed, 8 undecided, the
	// oldest 13 days"): a trusted flagger's own figures, by the same
	// definitions. Appeals are not a reporter's and count none.
	Reporter string
}

func (c Config) keeps(r *review.Report) bool {
	return (c.Category == "" || r.Category == c.Category) && (c.Reporter == "" || r.Reporter == c.Reporter)
}

func (c Config) join() int {
	if c.JoinDistance == 0 {
		return 31
	}
	return c.JoinDistance
}

func (c Config) target(q review.Queue) time.Duration {
	if c.Target != nil {
		return c.Target(q)
	}
	if d, ok := review.DefaultTargets[q]; ok {
		return d
	}
	return review.DefaultTarget
}

// Figure is one number of the report with its denominator in words.
type Figure struct {
	Name  string  `json:"name"` // one of Definitions
	Value float64 `json:"value"`
	Unit  string  `json:"unit"` // reports, cases, seconds, share, ...
	// Of is the denominator's count for a share or a part ("61 of 100").
	Of          *int   `json:"of,omitempty"`
	Denominator string `json:"denominator"`
}

// Group is the figures of one category, or of all ("all").
type Group struct {
	Category string   `json:"category"`
	Figures  []Figure `json:"figures"`
}

// Get returns the figure named name, and whether g has it.
func (g Group) Get(name string) (Figure, bool) {
	i := slices.IndexFunc(g.Figures, func(f Figure) bool { return f.Name == name })
	if i < 0 {
		return Figure{}, false
	}
	return g.Figures[i], true
}

// Report is a period's transparency report.
type Report struct {
	Period   Period    `json:"period"`
	AsOf     time.Time `json:"as_of"`
	Category string    `json:"category,omitempty"` // set when restricted to one
	// Groups: "all" first, then each category with reports or cases in
	// the period, most severe first (only the one asked for if
	// restricted).
	Groups []Group `json:"groups"`
	// Service holds the figures that have no category: law-enforcement
	// reports and data requests.
	Service []Figure `json:"service"`
	Plots   Plots    `json:"plots"`
}

// Group returns the group of category name ("all" for every category).
func (r *Report) Group(name string) (Group, bool) {
	i := slices.IndexFunc(r.Groups, func(g Group) bool { return g.Category == name })
	if i < 0 {
		return Group{}, false
	}
	return r.Groups[i], true
}

// Plots are the distributions the console draws.
type Plots struct {
	// TimeToAction counts decided reports per wait bucket (Buckets).
	TimeToAction []int `json:"time_to_action"`
	// Backlog counts undecided reports per age bucket, at AsOf.
	Backlog []int `json:"backlog"`
	// Weeks are the period's weeks from its start, each with the reports
	// received per channel (in the order of Channels).
	Weeks []Week `json:"weeks"`
}

// Week is seven days of the period from Start (the last may be shorter).
type Week struct {
	Start  time.Time `json:"start"`
	Counts []int     `json:"counts"`
}

// Buckets are the upper bounds of the time-to-action and backlog
// buckets; a last bucket holds everything longer.
var Buckets = []time.Duration{
	time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour,
	3 * 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// BucketLabels names Buckets and the last bucket.
var BucketLabels = []string{"≤1m", "≤15m", "≤1h", "≤4h", "≤1d", "≤3d", "≤7d", "≤30d", ">30d"}

// bucket is the index of d's bucket.
func bucket(d time.Duration) int {
	i, _ := slices.BinarySearch(Buckets, d)
	return i
}

// Compute makes the report of period p from in.
func Compute(in Input, p Period, cfg Config) Report {
	out := Report{Period: p, AsOf: in.AsOf, Category: string(cfg.Category)}
	missed, found := laterFound(in.Cases, cfg.join())

	// Pointers: a report is a few hundred bytes, and each is in two
	// groups.
	var rs []*review.Report
	for i := range in.Reports {
		if r := &in.Reports[i]; p.has(r.ReceivedAt) && cfg.keeps(r) {
			rs = append(rs, r)
		}
	}
	var appealed []review.Case
	for _, c := range in.Cases {
		if c.Appeal != nil && p.has(c.Appeal.At) && cfg.Reporter == "" && (cfg.Category == "" || c.Category == cfg.Category) {
			appealed = append(appealed, c)
		}
	}
	slices.SortFunc(appealed, func(a, b review.Case) int { return cmp.Compare(a.ID, b.ID) })

	if cfg.Category == "" {
		out.Groups = append(out.Groups, group("all", rs, appealed, in, cfg, missed, found))
	}
	for _, cat := range review.Categories {
		if cfg.Category != "" && cat != cfg.Category {
			continue
		}
		var crs []*review.Report
		for _, r := range rs {
			if r.Category == cat {
				crs = append(crs, r)
			}
		}
		var cas []review.Case
		for _, c := range appealed {
			if c.Category == cat {
				cas = append(cas, c)
			}
		}
		if len(crs) > 0 || len(cas) > 0 || cfg.Category != "" {
			out.Groups = append(out.Groups, group(string(cat), crs, cas, in, cfg, missed, found))
		}
	}
	out.Service = service(in, p)
	out.Plots = plots(rs, in.AsOf, p)
	return out
}

// laterFound returns the dismissed cases whose content was found again
// in a later case (the Desk lists it in the later case's Signals.Earlier,
// by content id, digest or PDQ within join bits), and of those, the ones
// a later case confirmed (missed).
func laterFound(cases map[int64]review.Case, join int) (missed, found map[int64]bool) {
	missed, found = map[int64]bool{}, map[int64]bool{}
	for _, y := range cases {
		confirmed := y.State == review.Decided && standing(y) == review.Confirm
		for _, e := range y.Signals.Earlier {
			if e.Verdict != review.Dismiss || e.Distance > join {
				continue
			}
			found[e.CaseID] = true
			if confirmed {
				missed[e.CaseID] = true
			}
		}
	}
	return missed, found
}

// firstReviewer is who made c's first decision that was not on appeal.
func firstReviewer(c review.Case) string {
	for _, d := range c.Decisions {
		if !d.OnAppeal {
			return d.Reviewer
		}
	}
	return ""
}

// standing is the verdict of c's last decision that is not pending.
func standing(c review.Case) review.Verdict {
	for i := len(c.Decisions) - 1; i >= 0; i-- {
		if !c.Decisions[i].Pending {
			return c.Decisions[i].Verdict
		}
	}
	return ""
}

func intp(n int) *int { return &n }

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func group(name string, rs []*review.Report, appealed []review.Case, in Input, cfg Config, missed, found map[int64]bool) Group {
	g := Group{Category: name}
	add := func(n string, v float64, unit string, of *int) {
		g.Figures = append(g.Figures, Figure{Name: n, Value: v, Unit: unit, Of: of, Denominator: denominators[n]})
	}
	received := len(rs)
	byCh := map[Channel]int{}
	var decided, auto, actioned, dismissed, overdue, proactive, proactiveActioned, proactiveDecided, missedN, foundN int
	var waits, ages []time.Duration
	for _, r := range rs {
		ch := ChannelOf(*r)
		byCh[ch]++
		target := cfg.target(review.Queue(r.Category))
		var wait time.Duration
		if r.DecidedAt.IsZero() {
			wait = in.AsOf.Sub(r.ReceivedAt)
			ages = append(ages, wait)
		} else {
			decided++
			wait = r.DecidedAt.Sub(r.ReceivedAt)
			waits = append(waits, wait)
			if c, ok := in.Cases[r.CaseID]; ok && firstReviewer(c) == review.System {
				auto++
			}
			if ch.Proactive() {
				proactiveDecided++
			}
		}
		if wait > target {
			overdue++
		}
		switch r.Status {
		case review.Actioned:
			actioned++
			if ch.Proactive() {
				proactiveActioned++
			}
		case review.NoAction:
			dismissed++
			if missed[r.CaseID] {
				missedN++
			}
			if found[r.CaseID] {
				foundN++
			}
		}
		if ch.Proactive() {
			proactive++
		}
	}
	add("received", float64(received), "reports", nil)
	for _, ch := range Channels {
		add("received."+string(ch), float64(byCh[ch]), "reports", intp(received))
	}
	add("decided", float64(decided), "reports", intp(received))
	add("undecided", float64(received-decided), "reports", intp(received))
	slices.Sort(ages)
	slices.Sort(waits)
	add("undecided.median_age", seconds(ages, 50), "seconds", intp(len(ages)))
	add("undecided.oldest_age", seconds(ages, 100), "seconds", intp(len(ages)))
	add("decided_automatically", float64(auto), "reports", intp(decided))
	add("actioned", float64(actioned), "reports", intp(decided))
	add("dismissed", float64(dismissed), "reports", intp(decided))
	add("time_to_action.median", seconds(waits, 50), "seconds", intp(decided))
	add("time_to_action.p90", seconds(waits, 90), "seconds", intp(decided))
	add("overdue", float64(overdue), "reports", intp(received))
	add("proactive_share", share(proactive, received), "share", intp(received))
	add("proactive_share_of_actioned", share(proactiveActioned, actioned), "share", intp(actioned))
	add("proactive_precision", share(proactiveActioned, proactiveDecided), "share", intp(proactiveDecided))
	add("found_again", float64(foundN), "reports", intp(dismissed))
	add("missed", float64(missedN), "reports", intp(dismissed))

	var appealsDecided, overturned int
	var appealWaits []time.Duration
	for _, c := range appealed {
		for _, d := range c.Decisions {
			if d.OnAppeal && !d.Pending {
				appealsDecided++
				appealWaits = append(appealWaits, d.At.Sub(c.Appeal.At))
				if d.Verdict == review.Dismiss {
					overturned++
				}
				break
			}
		}
	}
	add("appeals", float64(len(appealed)), "cases", nil)
	add("appeals.decided", float64(appealsDecided), "cases", intp(len(appealed)))
	add("appeals.overturned", float64(overturned), "cases", intp(appealsDecided))
	slices.Sort(appealWaits)
	add("appeals.time_to_decide.median", seconds(appealWaits, 50), "seconds", intp(appealsDecided))
	add("appeals.overturned_share", share(overturned, appealsDecided), "share", intp(appealsDecided))
	return g
}

// seconds is the p-th percentile of sorted w in seconds, 0 if w is empty.
func seconds(w []time.Duration, p int) float64 {
	if len(w) == 0 {
		return 0
	}
	return review.Percentile(w, p).Seconds()
}

func service(in Input, p Period) []Figure {
	var fs []Figure
	add := func(n string, v float64, unit string, of *int) {
		fs = append(fs, Figure{Name: n, Value: v, Unit: unit, Of: of, Denominator: denominators[n]})
	}
	var sent, acked int
	var ackWaits []time.Duration
	for _, r := range in.LEReports {
		var sentAt, ackAt time.Time
		for _, ch := range r.History {
			if ch.To == lereport.Submitted && sentAt.IsZero() {
				sentAt = ch.At
			}
			if ch.To == lereport.Acknowledged {
				ackAt = ch.At
			}
		}
		if !p.has(sentAt) {
			continue
		}
		sent++
		if !ackAt.IsZero() {
			acked++
			ackWaits = append(ackWaits, ackAt.Sub(sentAt))
		}
	}
	slices.Sort(ackWaits)
	add("le_reports.sent", float64(sent), "reports", nil)
	add("le_reports.acknowledged", float64(acked), "reports", intp(sent))
	add("le_reports.time_to_acknowledge.median", seconds(ackWaits, 50), "seconds", intp(acked))

	var received, answered, refused, late int
	var waits []time.Duration
	for _, r := range in.LERequests {
		if !p.has(r.Created) {
			continue
		}
		received++
		end := in.AsOf
		if r.State != lerequest.Open {
			answered++
			end = r.Closed
			waits = append(waits, r.Closed.Sub(r.Created))
			if r.State == lerequest.Refused {
				refused++
			}
		}
		if !r.Deadline.IsZero() && end.After(r.Deadline) {
			late++
		}
	}
	slices.Sort(waits)
	add("data_requests.received", float64(received), "requests", nil)
	add("data_requests.answered", float64(answered), "requests", intp(received))
	add("data_requests.refused", float64(refused), "requests", intp(answered))
	add("data_requests.time_to_answer.median", seconds(waits, 50), "seconds", intp(answered))
	add("data_requests.time_to_answer.p90", seconds(waits, 90), "seconds", intp(answered))
	add("data_requests.past_deadline", float64(late), "requests", intp(received))
	return fs
}

func plots(rs []*review.Report, asOf time.Time, p Period) Plots {
	pl := Plots{TimeToAction: make([]int, len(Buckets)+1), Backlog: make([]int, len(Buckets)+1)}
	for t := p.From; t.Before(p.To); t = t.Add(7 * 24 * time.Hour) {
		pl.Weeks = append(pl.Weeks, Week{Start: t, Counts: make([]int, len(Channels))})
	}
	for _, r := range rs {
		if r.DecidedAt.IsZero() {
			pl.Backlog[bucket(asOf.Sub(r.ReceivedAt))]++
		} else {
			pl.TimeToAction[bucket(r.DecidedAt.Sub(r.ReceivedAt))]++
		}
		w := int(r.ReceivedAt.Sub(p.From) / (7 * 24 * time.Hour))
		pl.Weeks[w].Counts[slices.Index(Channels, ChannelOf(*r))]++
	}
	return pl
}
