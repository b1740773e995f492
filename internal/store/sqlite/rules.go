package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ rules.Store = (*Store)(nil)

// ruleCols are rule_versions' columns, which queries alias as v.
const ruleCols = `v.rule_id, v.version, v.name, v.enabled, v.spec, v.updated_at, v.updated_by`

func scanRule(row interface{ Scan(...any) error }) (rules.Rule, error) {
	var r rules.Rule
	var spec string
	var updated int64
	if err := row.Scan(&r.ID, &r.Version, &r.Name, &r.Enabled, &spec, &updated, &r.UpdatedBy); err != nil {
		return r, err
	}
	var p store.RuleSpec
	if err := json.Unmarshal([]byte(spec), &p); err != nil {
		return r, fmt.Errorf("rule %d version %d: reading its stored spec: %w", r.ID, r.Version, err)
	}
	p.Into(&r)
	r.UpdatedAt = fromMicros(updated)
	return r, nil
}

// insertVersion stores r as version r.Version of rule r.ID.
func insertVersion(ctx context.Context, tx *sql.Tx, r rules.Rule) error {
	spec, err := json.Marshal(store.RuleSpecOf(r))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO rule_versions (rule_id, version, name, enabled, spec, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Version, r.Name, r.Enabled, string(spec), micros(r.UpdatedAt), r.UpdatedBy)
	return err
}

// ListRules implements rules.Store.
func (s *Store) ListRules(ctx context.Context) ([]rules.Rule, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+ruleCols+` FROM rule_versions v JOIN rules r ON r.id = v.rule_id AND r.version = v.version ORDER BY r.id`)
	if err != nil {
		return nil, fmt.Errorf("listing rules: %w", err)
	}
	defer rows.Close()
	var rs []rules.Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("listing rules: %w", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing rules: %w", err)
	}
	return rs, nil
}

// Rule implements rules.Store.
func (s *Store) Rule(ctx context.Context, id int64) (rules.Rule, error) {
	r, err := scanRule(s.r().QueryRowContext(ctx, `SELECT `+ruleCols+` FROM rule_versions v JOIN rules r ON r.id = v.rule_id AND r.version = v.version WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return rules.Rule{}, fmt.Errorf("rule %d: %w", id, rules.ErrNotFound)
	}
	if err != nil {
		return rules.Rule{}, fmt.Errorf("rule %d: %w", id, err)
	}
	return r, nil
}

// CreateRule implements rules.Store.
func (s *Store) CreateRule(ctx context.Context, r rules.Rule) (rules.Rule, error) {
	r.Version = 1
	r.UpdatedAt = fromMicros(micros(r.UpdatedAt))
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO rules (version) VALUES (1) RETURNING id`).Scan(&r.ID); err != nil {
			return err
		}
		return insertVersion(ctx, tx, r)
	})
	if err != nil {
		return rules.Rule{}, fmt.Errorf("creating rule %q: %w", r.Name, err)
	}
	return r, nil
}

// UpdateRule implements rules.Store. Writers are serialised, so reading the
// latest version and writing the next cannot interleave with another update.
func (s *Store) UpdateRule(ctx context.Context, r rules.Rule) (rules.Rule, error) {
	r.UpdatedAt = fromMicros(micros(r.UpdatedAt))
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var latest int
		err := tx.QueryRowContext(ctx, `SELECT version FROM rules WHERE id = ?`, r.ID).Scan(&latest)
		if errors.Is(err, sql.ErrNoRows) {
			return rules.ErrNotFound
		}
		if err != nil {
			return err
		}
		if latest != r.Version {
			return fmt.Errorf("update of version %d, latest is %d: %w", r.Version, latest, rules.ErrConflict)
		}
		r.Version++
		if _, err := tx.ExecContext(ctx, `UPDATE rules SET version = ? WHERE id = ?`, r.Version, r.ID); err != nil {
			return err
		}
		return insertVersion(ctx, tx, r)
	})
	if err != nil {
		return rules.Rule{}, fmt.Errorf("rule %d: %w", r.ID, err)
	}
	return r, nil
}

// RuleHistory implements rules.Store.
func (s *Store) RuleHistory(ctx context.Context, id int64) ([]rules.Rule, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+ruleCols+` FROM rule_versions v WHERE v.rule_id = ? ORDER BY v.version`, id)
	if err != nil {
		return nil, fmt.Errorf("rule %d: history: %w", id, err)
	}
	defer rows.Close()
	var rs []rules.Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("rule %d: history: %w", id, err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rule %d: history: %w", id, err)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("rule %d: %w", id, rules.ErrNotFound)
	}
	return rs, nil
}
