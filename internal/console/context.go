package console

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// Who did what is shown as people, not key ids: a key's name and role.
// Key ids are never drawn on a review page: a reviewer or auditor has no
// permission to list keys, and a trusted flagger's key id is what a
// request would need to impersonate nobody but is still the flagger's
// identifier, so the pages name the key instead.

// names resolves key ids to "name (role)" for one page, asking the key
// store once per id.
type names struct {
	ctx  context.Context
	keys auth.Store
	seen map[string]string
	// pseudonyms maps the masked flagger ids to their keys, read once a
	// page when a masked id is first met.
	pseudonyms map[string]auth.Key
}

func (c *Console) names(ctx context.Context) *names {
	return &names{ctx: ctx, keys: c.cfg.Keys, seen: map[string]string{}}
}

// key names key id as its name and role; a key no longer on record is "a
// removed key", never its id.
func (n *names) key(id string) string {
	if s, ok := n.seen[id]; ok {
		return s
	}
	s := "a removed key"
	if k, _, err := n.keys.KeyByID(n.ctx, id); err == nil {
		s = fmt.Sprintf("%s (%s)", k.Name, k.Role)
	} else if k, ok := n.flagger(id); ok {
		s = fmt.Sprintf("%s (%s)", k.Name, k.Role)
	}
	n.seen[id] = s
	return s
}

// flagger finds the flagger key whose pseudonym (the API's mask for
// roles other than admin, auth.Pseudonym) is p.
func (n *names) flagger(p string) (auth.Key, bool) {
	if !strings.HasPrefix(p, "flagger-") {
		return auth.Key{}, false
	}
	if n.pseudonyms == nil {
		n.pseudonyms = map[string]auth.Key{}
		keys, err := n.keys.ListKeys(n.ctx)
		if err != nil {
			return auth.Key{}, false
		}
		for _, k := range keys {
			if k.Role == auth.Flagger {
				n.pseudonyms[auth.Pseudonym(k.ID)] = k
			}
		}
	}
	k, ok := n.pseudonyms[p]
	return k, ok
}

// reviewer names a decision's reviewer: a key, or the system.
func (n *names) reviewer(id string) string {
	if id == "system" || id == "" {
		return "the system"
	}
	return n.key(id)
}

// reporter names who filed a report: a flagger's key by its name and
// role, a rule as the rule, a platform's user as the platform's user id
// (which is the platform's, not a key).
func (n *names) reporter(src review.Source, who string) string {
	switch src {
	case review.Flagger:
		return n.key(who)
	case review.Rule:
		return "rule " + strings.TrimPrefix(who, "rule:")
	}
	if who == "" {
		return "a user"
	}
	return "user " + who
}

// anyone names a reporter known only by its identifier (accuracy is
// counted per reporter, without the source): a key by its name and role,
// else a rule or a platform's user.
func (n *names) anyone(who string) string {
	if strings.HasPrefix(who, "rule:") {
		return n.reporter(review.Rule, who)
	}
	if k, _, err := n.keys.KeyByID(n.ctx, who); err == nil {
		return n.key(k.ID)
	}
	return n.reporter(review.User, who)
}

// event is one line of a case's history.
type event struct {
	At   time.Time
	Who  string
	What string // "decided", "appealed"
	// One of these.
	Decision *review.Decision
	Appeal   *review.Appeal
}

// history lists a case's decisions and its appeal in the order they
// happened: an appeal comes after the decision it appeals and before the
// decision on it.
func history(c review.Case, n *names) []event {
	var ev []event
	for i := range c.Decisions {
		d := &c.Decisions[i]
		ev = append(ev, event{At: d.At, Who: n.reviewer(d.Reviewer), What: "decided", Decision: d})
	}
	if a := c.Appeal; a != nil {
		ev = append(ev, event{At: a.At, Who: a.Appellant, What: "appealed", Appeal: a})
	}
	slices.SortStableFunc(ev, func(a, b event) int {
		if a.At.Equal(b.At) {
			// At the same instant, an appeal follows the decision it
			// appeals and precedes the one that answers it.
			return rank(a) - rank(b)
		}
		return a.At.Compare(b.At)
	})
	return ev
}

func rank(e event) int {
	switch {
	case e.Appeal != nil:
		return 1
	case e.Decision.OnAppeal:
		return 2
	}
	return 0
}

// firstOpened is when the case first opened: its earliest report. An
// appeal restarts the clock (Case.OpenedAt), so the page shows both.
func firstOpened(c review.Case, rs []review.Report) time.Time {
	t := c.OpenedAt
	for _, r := range rs {
		if !r.ReceivedAt.IsZero() && r.ReceivedAt.Before(t) {
			t = r.ReceivedAt
		}
	}
	return t
}

// rowContext is what a queue row shows so a reviewer can triage without
// opening the case.
type rowContext struct {
	Strongest string // the strongest signal, in words
	Reason    string // the first words of the reports' reasons
	Account   string // the reported account, and how many more
	Related   int    // other cases about the same content or account
}

// queueContext says what the strongest of a case's signals is: a bank
// match (the nearest), then a trusted flagger, an earlier confirmed
// near-duplicate, a rule's priority, a suspected child, else the number of
// reports.
func queueContext(c review.Case, reason string) rowContext {
	rc := rowContext{Strongest: strongest(c.Signals), Reason: reason}
	if len(c.AccountIDs) > 0 {
		rc.Account = clip(c.AccountIDs[0])
		if more := len(c.AccountIDs) - 1; more > 0 {
			rc.Account += fmt.Sprintf(" +%d", more)
		}
	}
	related := map[int64]bool{}
	for _, e := range c.Signals.Earlier {
		related[e.CaseID] = true
	}
	for _, id := range c.Signals.Account.Cases {
		related[id] = true
	}
	delete(related, c.ID)
	rc.Related = len(related)
	return rc
}

func strongest(s review.Signals) string {
	if len(s.Matches) > 0 {
		best := s.Matches[0]
		for _, m := range s.Matches[1:] {
			if m.Claimed == best.Claimed && m.Distance < best.Distance || best.Claimed && !m.Claimed {
				best = m
			}
		}
		w := fmt.Sprintf("%s match in %s, distance %d", best.Signal, best.Bank, best.Distance)
		if best.Claimed {
			w += " (claimed)"
		}
		return w
	}
	for _, e := range s.Earlier {
		if e.Verdict == review.Confirm {
			return fmt.Sprintf("near-duplicate of confirmed case %d", e.CaseID)
		}
	}
	switch {
	case s.Flagged:
		return "trusted flagger"
	case s.RulePriority > 0:
		return fmt.Sprintf("rule priority %d", s.RulePriority)
	case s.MinorSuspected:
		return "child suspected"
	case s.Account.Confirmed > 0:
		return fmt.Sprintf("account: %d confirmed before", s.Account.Confirmed)
	}
	return fmt.Sprintf("%d report(s)", s.Reports)
}
