package usecase

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// codeInvalidRule is the client code of a rule the server refuses (the
// API's invalid_rule), so that a refusal here answers as a malformed rule
// body does.
const codeInvalidRule = "invalid_rule"

func invalidRule(format string, args ...any) error {
	return derrors.New(derrors.Invalid, fmt.Sprintf(format, args...)).WithCode(codeInvalidRule)
}

// Rules creates and changes rules: it checks what only the server knows
// (that a rule's banks and webhooks exist, and that content it asks to keep
// can be kept), writes the new version with its audit entry, and empties
// the rules cache the scans read.
type Rules struct {
	// Stores are read outside any transaction: Rules for the version a
	// disable starts from, Banks and Webhooks for a rule's references.
	Stores Stores
	Tx     Tx
	Log    *audit.Log
	// KeepsEvidence says whether this server can keep content as evidence;
	// without it an enabled rule may not quarantine or report.
	KeepsEvidence bool
	Now           func() time.Time // time.Now if nil
}

// Create stores a new rule as version 1; the store assigns its id.
func (u *Rules) Create(ctx context.Context, actor, actorName string, rule rules.Rule) (rules.Rule, error) {
	if err := u.checkRefs(ctx, rule); err != nil {
		return rules.Rule{}, err
	}
	if rule.ID != 0 || rule.Version != 0 {
		return rules.Rule{}, invalidRule("a new rule has no id or version: the server assigns them")
	}
	return u.write(ctx, actor, actorName, audit.RuleCreate, rule, createRule)
}

// Update stores rule as the next version of rule id. rule.Version is the
// version its author last read, so that an update made since is a conflict
// (rules.ErrConflict) instead of being undone; rule.ID, if set, must be id.
func (u *Rules) Update(ctx context.Context, actor, actorName string, id int64, rule rules.Rule) (rules.Rule, error) {
	if err := u.checkRefs(ctx, rule); err != nil {
		return rules.Rule{}, err
	}
	if rule.ID != 0 && rule.ID != id {
		return rules.Rule{}, invalidRule("body is rule %d, path is rule %d", rule.ID, id)
	}
	if rule.Version == 0 {
		return rules.Rule{}, invalidRule("send the version you last read, so a concurrent update is not undone")
	}
	rule.ID = id
	return u.write(ctx, actor, actorName, audit.RuleUpdate, rule, updateRule)
}

// Disable stores the latest version of rule id again with enabled false.
// Nothing it refers to is checked again: turning a rule off must work
// even when a bank it names was deleted since.
func (u *Rules) Disable(ctx context.Context, actor, actorName string, id int64) (rules.Rule, error) {
	rule, err := u.Stores.Rules.Rule(ctx, id)
	if err != nil {
		return rules.Rule{}, err
	}
	rule.Enabled = false
	return u.write(ctx, actor, actorName, audit.RuleUpdate, rule, updateRule)
}

func createRule(ctx context.Context, tx Stores, r rules.Rule) (rules.Rule, error) {
	return tx.Rules.CreateRule(ctx, r)
}

func updateRule(ctx context.Context, tx Stores, r rules.Rule) (rules.Rule, error) {
	return tx.Rules.UpdateRule(ctx, r)
}

// write stamps rule with its author and time and stores it with an audit
// entry of action in one transaction.
func (u *Rules) write(ctx context.Context, actor, actorName, action string, rule rules.Rule, store func(context.Context, Stores, rules.Rule) (rules.Rule, error)) (rules.Rule, error) {
	now := time.Now
	if u.Now != nil {
		now = u.Now
	}
	rule.UpdatedAt, rule.UpdatedBy = now().UTC().Truncate(time.Microsecond), actorName
	err := u.Tx(ctx, func(tx Stores) error {
		var err error
		if rule, err = store(ctx, tx, rule); err != nil {
			return err
		}
		detail := map[string]any{"id": rule.ID, "version": rule.Version, "name": rule.Name, "enabled": rule.Enabled, "rule": rule}
		return record(ctx, u.Log.In(tx.Audit), actor, action, strconv.FormatInt(rule.ID, 10), detail)
	})
	// The transaction wrote around the cache (if Stores.Rules is one), so it
	// is emptied once the change is committed, or undone: either way what it
	// holds may be stale.
	if c, ok := u.Stores.Rules.(interface{ Invalidate() }); ok {
		c.Invalidate()
	}
	if err != nil {
		return rules.Rule{}, err
	}
	return rule, nil
}

// checkRefs names every reference of rule the server cannot honour.
func (u *Rules) checkRefs(ctx context.Context, rule rules.Rule) error {
	var problems []string
	for _, b := range rule.Banks {
		if _, err := u.Stores.Banks.Bank(ctx, b); errors.Is(err, derrors.NotFound) {
			problems = append(problems, fmt.Sprintf("bank %q does not exist", b))
		} else if err != nil {
			return err
		}
	}
	for i, act := range rule.Actions {
		switch act.Kind {
		case rules.Notify:
			if _, err := u.Stores.Webhooks.Webhook(ctx, act.Webhook); errors.Is(err, webhook.ErrNotFound) {
				problems = append(problems, fmt.Sprintf("action %d: webhook %q does not exist", i+1, act.Webhook))
			} else if err != nil {
				return err
			}
		case rules.Quarantine, rules.Report:
			if !u.KeepsEvidence && rule.Enabled {
				problems = append(problems, fmt.Sprintf("action %d: %s keeps content as evidence, and this server has no evidence key (set SAFEGUARD_EVIDENCE_KEYS)", i+1, act.Kind))
			}
		}
	}
	if len(problems) > 0 {
		return invalidRule("rule %q: %s", rule.Name, strings.Join(problems, "; "))
	}
	return nil
}
