package review

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/selfreport"
)

// Weights are the priority formula's points; docs/review.md explains each
// and works an example. DefaultWeights are the documented defaults.
type Weights struct {
	Severity          map[Category]int // by the case's category
	KnownMatch        int              // a bank match
	NearConfirmed     int              // a near-duplicate (or copy) of a confirmed item
	MinorSuspected    int              // a reporter suspects a child is involved
	Public            int              // visibility public
	Unlisted          int              // visibility unlisted
	AudiencePerDecade int              // per tenfold audience above 10 people (views or members)
	AudienceMax       int
	Flagger           int // a trusted flagger reported it
	RuleMax           int // a rule's priority 0-100 scaled to 0..RuleMax
	// A user reporter's record: with at least AccuracyMin decided reports,
	// (share confirmed - 1/2) × 2 × Accuracy points, so -Accuracy..+Accuracy.
	Accuracy         int
	AccuracyMin      int
	AccountConfirmed int // the reported account had a case confirmed before
	ExtraReporter    int // per distinct reporter after the first
	ExtraReporterMax int
	// Waiting: Waiting points at the due time, in proportion before it
	// (so each queue's cases rise at the pace of its target), held at
	// Waiting once overdue; overdue cases sort first anyway.
	Waiting int
	// FormAbuseAccounts: a case matching the self-reported bank whose
	// content was uploaded by at least this many distinct accounts is
	// flagged suspected_form_abuse. An image of oneself is shared by few
	// accounts; a meme or a news photo someone wants gone, by many.
	FormAbuseAccounts int
}

// DefaultWeights are the documented weights.
var DefaultWeights = Weights{
	Severity: map[Category]int{
		KnownCSAM: 60, SuspectedCSAM: 50, SelfGenerated: 45, Sextortion: 45,
		Grooming: 40, SexualisedChild: 30, Other: 10,
	},
	KnownMatch: 30, NearConfirmed: 20, MinorSuspected: 10,
	Public: 10, Unlisted: 5, AudiencePerDecade: 2, AudienceMax: 10,
	Flagger: 15, RuleMax: 20, Accuracy: 10, AccuracyMin: 3,
	AccountConfirmed: 10, ExtraReporter: 2, ExtraReporterMax: 10,
	Waiting: 20, FormAbuseAccounts: 5,
}

// Contribution is one term of a priority score.
type Contribution struct {
	Factor string `json:"factor"` // e.g. "severity", "known_match"
	Points int    `json:"points"`
	Why    string `json:"why"` // what made it count, for the reviewer
}

// Priority is a case's score and every term in it: the score is the sum
// of the contributions, so a reviewer can see why a case is where it is.
type Priority struct {
	Score     int            `json:"score"`
	Overdue   bool           `json:"overdue"`
	Breakdown []Contribution `json:"breakdown"`
	// Flags are warnings for the reviewer that change no points, e.g.
	// suspected_form_abuse.
	Flags []Flag `json:"flags,omitempty"`
}

// Flag is a warning on a case.
type Flag struct {
	Flag string `json:"flag"`
	Why  string `json:"why"`
}

// FlagFormAbuse marks a self-reported hash that matches uploads from many
// unrelated accounts: perhaps Report Remove used to get someone else's
// image hidden. The reviewer decides; nothing is blocked meanwhile.
const FlagFormAbuse = "suspected_form_abuse"

// Score computes c's priority at now. Terms that give nothing are left
// out of the breakdown.
func (w Weights) Score(c *Case, now time.Time) Priority {
	var p Priority
	add := func(factor string, points int, why string) {
		if points != 0 {
			p.Breakdown = append(p.Breakdown, Contribution{factor, points, why})
			p.Score += points
		}
	}
	s := &c.Signals
	add("severity", w.Severity[c.Category], "category "+string(c.Category))
	if len(s.Matches) > 0 {
		m := slices.MinFunc(s.Matches, func(a, b match.Match) int { return cmp.Compare(a.Distance, b.Distance) })
		why := "bank " + m.Bank + ", " + string(m.Signal) + " distance " + itoa(m.Distance)
		if m.Claimed {
			why += ", a hash the reporter claimed, not computed here"
		}
		add("known_match", w.KnownMatch, why)
	}
	if i := slices.IndexFunc(s.Earlier, func(e Earlier) bool { return e.Verdict == Confirm }); i >= 0 {
		add("near_confirmed", w.NearConfirmed, "case "+itoa64(s.Earlier[i].CaseID)+" confirmed, distance "+itoa(s.Earlier[i].Distance))
	}
	if s.MinorSuspected {
		add("minor_suspected", w.MinorSuspected, "a reporter suspects a child is involved")
	}
	switch s.Reach.Visibility {
	case rules.Public:
		add("visibility", w.Public, "public")
	case rules.Unlisted:
		add("visibility", w.Unlisted, "unlisted")
	}
	if a := s.Reach.Audience; a > 10 {
		pts := min(w.AudienceMax, int(math.Floor(math.Log10(float64(a))-1))*w.AudiencePerDecade)
		add("audience", pts, "audience "+itoa64(a))
	}
	if s.Flagged {
		add("flagger", w.Flagger, "a trusted flagger reported it")
	}
	if s.RulePriority > 0 {
		add("rule", s.RulePriority*w.RuleMax/MaxPriority, "a rule asked priority "+itoa(s.RulePriority))
	}
	if w.Accuracy > 0 {
		// The best-placed reporter speaks for the case: one reliable
		// reporter is worth hearing whoever else reported it.
		best, who := math.MinInt, ""
		for _, a := range s.Accuracy {
			n := a.Confirmed + a.Dismissed
			if n < w.AccuracyMin || n == 0 {
				continue
			}
			if pts := int(math.Round((float64(a.Confirmed)/float64(n) - 0.5) * 2 * float64(w.Accuracy))); pts > best {
				best, who = pts, a.Reporter+" right "+itoa(a.Confirmed)+" of "+itoa(n)
			}
		}
		if best != math.MinInt {
			add("reporter_accuracy", best, who)
		}
	}
	if s.Account.Confirmed > 0 {
		add("account_history", w.AccountConfirmed, "account had "+itoa(s.Account.Confirmed)+" confirmed case(s)")
	}
	if s.Reporters > 1 {
		add("reporters", min(w.ExtraReporterMax, (s.Reporters-1)*w.ExtraReporter), itoa(s.Reporters)+" distinct reporters")
	}
	if total := c.DueAt.Sub(c.OpenedAt); now.After(c.OpenedAt) {
		waited := now.Sub(c.OpenedAt)
		pts := w.Waiting
		if total > 0 && waited < total {
			pts = int(int64(w.Waiting) * int64(waited) / int64(total))
		}
		add("waiting", pts, "waiting "+waited.Round(time.Minute).String())
	}
	if n := len(c.AccountIDs); w.FormAbuseAccounts > 0 && n >= w.FormAbuseAccounts &&
		slices.ContainsFunc(s.Matches, func(m match.Match) bool { return m.Bank == selfreport.BankName }) {
		p.Flags = append(p.Flags, Flag{FlagFormAbuse, "a self-reported hash matched uploads from " + itoa(n) +
			" distinct accounts: check that the report is of the person themselves, not an image someone wants gone"})
	}
	p.Overdue = !c.Decided() && !now.Before(c.DueAt)
	return p
}

func itoa(i int) string     { return strconv.Itoa(i) }
func itoa64(i int64) string { return strconv.FormatInt(i, 10) }
