package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ rules.Store = (*Store)(nil)

// ruleCols are rule_versions' columns, which queries alias as v.
const ruleCols = `v.rule_id, v.version, v.name, v.enabled, v.spec, v.updated_at, v.updated_by`

func scanRule(row pgx.CollectableRow) (rules.Rule, error) {
	var r rules.Rule
	var p store.RuleSpec // pgx decodes jsonb with encoding/json
	if err := row.Scan(&r.ID, &r.Version, &r.Name, &r.Enabled, &p, &r.UpdatedAt, &r.UpdatedBy); err != nil {
		return r, err
	}
	p.Into(&r)
	r.UpdatedAt = r.UpdatedAt.UTC()
	return r, nil
}

// insertVersion stores r as version r.Version of rule r.ID.
func insertVersion(ctx context.Context, tx pgx.Tx, r rules.Rule) error {
	_, err := tx.Exec(ctx, `INSERT INTO rule_versions (rule_id, version, name, enabled, spec, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.ID, r.Version, r.Name, r.Enabled,
		store.RuleSpecOf(r),
		r.UpdatedAt, r.UpdatedBy)
	return err
}

// queryRules runs a query of ruleCols.
func (s *Store) queryRules(ctx context.Context, query string, args ...any) ([]rules.Rule, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+ruleCols+` `+query, args...)
	return pgx.CollectRows(rows, scanRule)
}

// ListRules implements rules.Store.
func (s *Store) ListRules(ctx context.Context) ([]rules.Rule, error) {
	rs, err := s.queryRules(ctx, `FROM rule_versions v JOIN rules r ON r.id = v.rule_id AND r.version = v.version ORDER BY r.id`)
	if err != nil {
		return nil, fmt.Errorf("listing rules: %w", err)
	}
	return rs, nil
}

// Rule implements rules.Store.
func (s *Store) Rule(ctx context.Context, id int64) (rules.Rule, error) {
	rs, err := s.queryRules(ctx, `FROM rule_versions v JOIN rules r ON r.id = v.rule_id AND r.version = v.version WHERE r.id = $1`, id)
	if err != nil {
		return rules.Rule{}, fmt.Errorf("rule %d: %w", id, err)
	}
	if len(rs) == 0 {
		return rules.Rule{}, fmt.Errorf("rule %d: %w", id, rules.ErrNotFound)
	}
	return rs[0], nil
}

// CreateRule implements rules.Store.
func (s *Store) CreateRule(ctx context.Context, r rules.Rule) (rules.Rule, error) {
	r.Version = 1
	r.UpdatedAt = stored(r.UpdatedAt)
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO rules (version) VALUES (1) RETURNING id`).Scan(&r.ID); err != nil {
			return err
		}
		return insertVersion(ctx, tx, r)
	})
	if err != nil {
		return rules.Rule{}, fmt.Errorf("creating rule %q: %w", r.Name, err)
	}
	return r, nil
}

// UpdateRule implements rules.Store. The conditional UPDATE of the rule's
// head row is the optimistic lock: a concurrent update of the same version
// waits for the row, then finds the version moved on and changes nothing.
func (s *Store) UpdateRule(ctx context.Context, r rules.Rule) (rules.Rule, error) {
	r.UpdatedAt = stored(r.UpdatedAt)
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE rules SET version = version + 1 WHERE id = $1 AND version = $2`, r.ID, r.Version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var latest int
			err := tx.QueryRow(ctx, `SELECT version FROM rules WHERE id = $1`, r.ID).Scan(&latest)
			if errors.Is(err, pgx.ErrNoRows) {
				return rules.ErrNotFound
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("update of version %d, latest is %d: %w", r.Version, latest, rules.ErrConflict)
		}
		r.Version++
		return insertVersion(ctx, tx, r)
	})
	if err != nil {
		return rules.Rule{}, fmt.Errorf("rule %d: %w", r.ID, err)
	}
	return r, nil
}

// RuleHistory implements rules.Store.
func (s *Store) RuleHistory(ctx context.Context, id int64) ([]rules.Rule, error) {
	rs, err := s.queryRules(ctx, `FROM rule_versions v WHERE v.rule_id = $1 ORDER BY v.version`, id)
	if err != nil {
		return nil, fmt.Errorf("rule %d: history: %w", id, err)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("rule %d: %w", id, rules.ErrNotFound)
	}
	return rs, nil
}
