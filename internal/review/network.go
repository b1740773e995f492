package review

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/network"
)

// Detector is the source of reports the server's own detectors file (the
// account-network detector).
const Detector Source = "detector"

// NetworkTargets tells the platform which children a network's case names
// as its targets, when the case opens and when new ones appear: victims
// to protect (tighten their privacy, tell the parent), never accounts to
// act on.
const NetworkTargets EventKind = "network.targets"

// NetworkCase is what a case about an account network holds beside its
// accounts (the members) and content (their re-posts and comments): the
// latest detection with each member's evidence and the targets, and what
// decisions did to whom. A network that grows keeps its case: new members
// join it, and a decided case opens again for them.
type NetworkCase struct {
	network.Network
	// Acted are the members a confirming decision acted on; a later
	// decision on the grown network acts on the others only.
	Acted []string `json:"acted,omitempty"`
	// Spared are the members a decision excepted (Decision.Except).
	Spared []string `json:"spared,omitempty"`
}

// MaxExcept bounds a decision's exceptions.
const MaxExcept = 1000

// FileNetwork opens the case of a detected network, or updates the case
// that already holds it (the same network ID, or an origin in common, with
// a member in common). A grown network's new members join its case; a
// decided case opens again for them. changed is false when the case
// already held everything (detection re-runs often; nothing is written).
func (d *Desk) FileNetwork(ctx context.Context, nt network.Network) (c Case, fx Effects, changed bool, err error) {
	if len(nt.Members) == 0 || nt.ID == "" {
		return Case{}, Effects{}, false, fmt.Errorf("review: network case: a network needs an id and members: %w", ErrInvalid)
	}
	d.intake.Lock()
	defer d.intake.Unlock()
	if err := d.lockIntake(ctx); err != nil {
		return Case{}, Effects{}, false, fmt.Errorf("review: network %s: %w", nt.ID, err)
	}
	members := memberAccounts(nt.Members)
	related, err := d.store.Related(ctx, nil, members, nil)
	if err != nil {
		return Case{}, Effects{}, false, fmt.Errorf("review: network %s: %w", nt.ID, err)
	}
	found := -1
	for i, rc := range related {
		if rc.Network != nil && (rc.Network.ID == nt.ID || slices.ContainsFunc(nt.Origins, func(o string) bool { return slices.Contains(rc.Network.Origins, o) })) {
			found = i // the newest such case: related is by ID
		}
	}
	now := d.now()
	if found < 0 {
		c = Case{State: Open, Category: SexualisedChild, Queue: Queue(SexualisedChild), OpenedAt: now,
			DueAt: now.Add(d.Target(Queue(SexualisedChild))), AccountIDs: members, ContentIDs: memberContent(nt.Members),
			Network: &NetworkCase{Network: nt}}
		c.Signals = Signals{Reports: 1, Reporters: 1, MinorSuspected: true}
		r := Report{Source: Detector, Reporter: "network-detector", Category: SexualisedChild, AccountID: members[0],
			Text: clipText(strings.Join(nt.Reasons, "; ")), MinorSuspected: true, ReceivedAt: now, Status: Received}
		rep, saved, err := d.store.FileReport(ctx, r, c)
		if err != nil {
			return Case{}, Effects{}, false, fmt.Errorf("review: network %s: %w", nt.ID, err)
		}
		fx.Audit = append(fx.Audit, Audit{Actor: System, Action: "network.case_open", Subject: caseSubject(saved.ID),
			Detail: map[string]any{"network": nt.ID, "report": rep.ID, "members": len(members), "targets": targetAccounts(nt.Targets), "score": nt.Score}})
		fx.Events = append(fx.Events, Event{Kind: NetworkTargets, CaseID: saved.ID, AccountIDs: targetAccounts(nt.Targets), Category: SexualisedChild})
		return saved, fx, true, nil
	}
	c = related[found]
	old := c.Network.Network
	newMembers := slices.DeleteFunc(slices.Clone(members), func(a string) bool { return slices.Contains(c.AccountIDs, a) })
	newTargets := slices.DeleteFunc(targetAccounts(nt.Targets), func(a string) bool { return slices.Contains(targetAccounts(old.Targets), a) })
	content := addAll(slices.Clone(c.ContentIDs), memberContent(nt.Members)...)
	if len(newMembers) == 0 && len(newTargets) == 0 && len(content) == len(c.ContentIDs) {
		return c, Effects{}, false, nil
	}
	// The latest detection's evidence, and every member and target an
	// earlier one named: a member who went quiet stays in the case.
	merged := nt
	for _, m := range old.Members {
		if !slices.Contains(members, m.Account) {
			merged.Members = append(merged.Members, m)
		}
	}
	for _, t := range old.Targets {
		if !slices.Contains(targetAccounts(nt.Targets), t.Account) {
			merged.Targets = append(merged.Targets, t)
		}
	}
	merged.ID = old.ID
	merged.Origins = addAll(slices.Clone(old.Origins), nt.Origins...)
	nc := *c.Network // a copy: a store may hand out what it holds
	nc.Network = merged
	c.Network = &nc
	c.AccountIDs = addAll(c.AccountIDs, newMembers...)
	c.ContentIDs = content
	if c.Decided() && len(newMembers) > 0 {
		c.State, c.Queue, c.OpenedAt = Open, Queue(c.Category), now
		c.DueAt, c.Escalated = now.Add(d.Target(c.Queue)), false
	}
	saved, err := d.store.SaveCase(ctx, c, nil)
	if err != nil {
		return Case{}, Effects{}, false, fmt.Errorf("review: network %s: %w", nt.ID, err)
	}
	fx.Audit = append(fx.Audit, Audit{Actor: System, Action: "network.case_grow", Subject: caseSubject(saved.ID),
		Detail: map[string]any{"network": old.ID, "new_members": newMembers, "new_targets": newTargets, "state": saved.State}})
	if len(newTargets) > 0 {
		fx.Events = append(fx.Events, Event{Kind: NetworkTargets, CaseID: saved.ID, AccountIDs: newTargets, Category: saved.Category})
	}
	return saved, fx, true, nil
}

// checkExcept checks a decision's exceptions: only a network case has
// them, and each names one of its members.
func (c *Case) checkExcept(dec Decision) error {
	if len(dec.Except) == 0 {
		return nil
	}
	if c.Network == nil {
		return fmt.Errorf("decision: except is for network cases; case %d is not one: %w", c.ID, ErrInvalid)
	}
	if len(dec.Except) > MaxExcept {
		return fmt.Errorf("decision: except lists %d accounts, more than %d: %w", len(dec.Except), MaxExcept, ErrInvalid)
	}
	if dec.Verdict != Confirm {
		return fmt.Errorf("decision: except goes with confirm (a dismissal acts on nobody): %w", ErrInvalid)
	}
	for _, a := range dec.Except {
		if !slices.Contains(c.AccountIDs, a) {
			return fmt.Errorf("decision: except: %q is not a member of the network: %w", clip(a), ErrInvalid)
		}
	}
	return nil
}

// actOn returns what a decision's intents act on. For most cases that is
// the case's content and accounts. For a network case it is the members
// neither spared by this decision or an earlier one nor acted on before, with
// their re-posts and comments; a confirmation records them as acted on
// and the exceptions as spared. An overturning appeal reinstates what was
// acted on.
func (c *Case) actOn(dec Decision) (contentIDs, accountIDs []string) {
	if c.Network == nil {
		return c.ContentIDs, c.AccountIDs
	}
	n := *c.Network // a copy: a store may hand out what it holds
	c.Network = &n
	var ms []network.Member
	for _, m := range n.Members {
		switch {
		case dec.Verdict == Dismiss && dec.OnAppeal:
			if slices.Contains(n.Acted, m.Account) {
				ms = append(ms, m)
			}
		case !slices.Contains(dec.Except, m.Account) && !slices.Contains(n.Acted, m.Account) && !slices.Contains(n.Spared, m.Account):
			ms = append(ms, m)
		}
	}
	accountIDs, contentIDs = memberAccounts(ms), memberContent(ms)
	if dec.Verdict == Confirm && !dec.OnAppeal {
		n.Acted = addAll(n.Acted, accountIDs...)
		n.Spared = addAll(n.Spared, dec.Except...)
	}
	return contentIDs, accountIDs
}

func memberAccounts(ms []network.Member) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Account)
	}
	return out
}

// memberContent lists the members' re-posts of children's images and
// their sexualised comments: what removing the network's content removes.
func memberContent(ms []network.Member) []string {
	var out []string
	for _, m := range ms {
		for _, r := range m.Reposts {
			out = addAll(out, r.Post)
		}
		for _, cm := range m.Comments {
			out = addAll(out, cm.ID)
		}
	}
	return out
}

func targetAccounts(ts []network.Target) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Account)
	}
	return out
}

// clipText cuts s to MaxText bytes, dropping a rune cut in two.
func clipText(s string) string {
	if len(s) <= MaxText {
		return s
	}
	return strings.ToValidUTF8(s[:MaxText], "")
}
