package rules

import (
	"context"

	"github.com/safeguard-oss/safeguard/internal/derrors"
)

// Sentinel errors that implementations of Store wrap, e.g.
// fmt.Errorf("rule %d: %w", id, rules.ErrNotFound).
var (
	ErrNotFound = derrors.New(derrors.NotFound, "not found")
	// ErrConflict: the rule changed since the client read it.
	ErrConflict = derrors.New(derrors.Conflict, "changed since it was read")
)

// Store keeps rules and every version of them. Callers validate a rule
// before they hand it over. rulestest.Run checks an implementation.
type Store interface {
	// ListRules returns the latest version of every rule, by ID.
	ListRules(ctx context.Context) ([]Rule, error)
	// Rule returns the latest version of a rule; ErrNotFound if none.
	Rule(ctx context.Context, id int64) (Rule, error)
	// CreateRule stores a new rule and returns it with its ID assigned
	// and Version 1 (whatever r's ID and Version were).
	CreateRule(ctx context.Context, r Rule) (Rule, error)
	// UpdateRule stores r as the next version of rule r.ID and returns it.
	// r.Version must be the latest version (the one the client read and
	// changed); the new one is r.Version+1. If another update came first,
	// nothing is stored and the error wraps ErrConflict, so two admins
	// editing at once cannot silently undo each other. ErrNotFound if
	// there is no rule r.ID. Old versions are kept.
	UpdateRule(ctx context.Context, r Rule) (Rule, error)
	// RuleHistory returns every version of a rule, oldest first;
	// ErrNotFound if there is no such rule.
	RuleHistory(ctx context.Context, id int64) ([]Rule, error)
}
