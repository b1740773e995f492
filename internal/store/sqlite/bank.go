package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/store"
)

const bankCols = `id, name, description, threshold, vpdq_threshold, created_at, live_entries`

func scanBank(row interface{ Scan(...any) error }) (bank.Bank, error) {
	var b bank.Bank
	var created int64
	err := row.Scan(&b.ID, &b.Name, &b.Description, &b.Threshold, &b.VPDQThreshold, &created, &b.Entries)
	b.CreatedAt = fromMicros(created)
	return b, err
}

// CreateBank implements bank.Store.
func (s *Store) CreateBank(ctx context.Context, b bank.Bank) (bank.Bank, error) {
	b, err := store.NewBank(b, time.Now())
	if err != nil {
		return bank.Bank{}, err
	}
	err = s.inWrite(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM banks WHERE name = ? AND deleted_at IS NULL)`, b.Name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return bank.ErrExists
		}
		return tx.QueryRowContext(ctx, `INSERT INTO banks (name, description, threshold, vpdq_threshold, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			b.Name, b.Description, b.Threshold, b.VPDQThreshold, micros(b.CreatedAt)).Scan(&b.ID)
	})
	if err != nil {
		return bank.Bank{}, fmt.Errorf("creating bank %q: %w", b.Name, err)
	}
	return b, nil
}

// Bank implements bank.Store.
func (s *Store) Bank(ctx context.Context, name string) (bank.Bank, error) {
	b, err := scanBank(s.r().QueryRowContext(ctx, `SELECT `+bankCols+` FROM banks WHERE name = ? AND deleted_at IS NULL`, name))
	if err != nil {
		return bank.Bank{}, notFound(err, "bank %q", name)
	}
	return b, nil
}

// ListBanks implements bank.Store.
func (s *Store) ListBanks(ctx context.Context) ([]bank.Bank, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+bankCols+` FROM banks WHERE deleted_at IS NULL ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing banks: %w", err)
	}
	defer rows.Close()
	var bs []bank.Bank
	for rows.Next() {
		b, err := scanBank(rows)
		if err != nil {
			return nil, fmt.Errorf("listing banks: %w", err)
		}
		bs = append(bs, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing banks: %w", err)
	}
	return bs, nil
}

// UpdateBank implements bank.Store.
func (s *Store) UpdateBank(ctx context.Context, b bank.Bank) error {
	if err := b.Validate(); err != nil {
		return err
	}
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE banks SET description = ?, threshold = ?, vpdq_threshold = ? WHERE name = ? AND deleted_at IS NULL`,
			b.Description, b.Threshold, b.VPDQPercent(), b.Name)
		if err != nil {
			return fmt.Errorf("updating bank %q: %w", b.Name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("bank %q: %w", b.Name, bank.ErrNotFound)
		}
		return nil
	})
}

// DeleteBank implements bank.Store.
func (s *Store) DeleteBank(ctx context.Context, name string) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		id, err := liveBankID(ctx, tx, name)
		if err != nil {
			return err
		}
		// Each live entry needs a new, distinct change number above all
		// earlier ones: number them by their distance from the smallest id.
		var lo, hi sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT min(id), max(id) FROM entries WHERE bank_id = ? AND removed = 0`, id).Scan(&lo, &hi); err != nil {
			return fmt.Errorf("deleting bank %q: %w", name, err)
		}
		if lo.Valid {
			first, err := nextSeqs(ctx, tx, hi.Int64-lo.Int64+1)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE entries SET removed = 1, seq = ? + id - ? WHERE bank_id = ? AND removed = 0`,
				first, lo.Int64, id); err != nil {
				return fmt.Errorf("deleting bank %q: removing entries: %w", name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE banks SET deleted_at = ?, live_entries = 0 WHERE id = ?`, micros(time.Now()), id); err != nil {
			return fmt.Errorf("deleting bank %q: %w", name, err)
		}
		return nil
	})
}

// liveBankID returns the id of the live bank of that name.
func liveBankID(ctx context.Context, q querier, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM banks WHERE name = ? AND deleted_at IS NULL`, name).Scan(&id)
	if err != nil {
		return 0, notFound(err, "bank %q", name)
	}
	return id, nil
}

// Summarize implements bank.Summarizer.
func (s *Store) Summarize(ctx context.Context, name string) (bank.Summary, error) {
	b, err := s.Bank(ctx, name)
	if err != nil {
		return bank.Summary{}, err
	}
	rows, err := s.r().QueryContext(ctx, `SELECT source, COUNT(*), MAX(added_at) FROM entries WHERE bank_id = ? AND removed = 0
		GROUP BY source ORDER BY COUNT(*) DESC, source`, b.ID)
	if err != nil {
		return bank.Summary{}, fmt.Errorf("summarizing bank %q: %w", name, err)
	}
	defer rows.Close()
	var sum bank.Summary
	for rows.Next() {
		var sc bank.SourceCount
		var last int64
		if err := rows.Scan(&sc.Source, &sc.Entries, &last); err != nil {
			return bank.Summary{}, fmt.Errorf("summarizing bank %q: %w", name, err)
		}
		sum.Sources = append(sum.Sources, sc)
		if t := fromMicros(last); t.After(sum.LastAdded) {
			sum.LastAdded = t
		}
	}
	if err := rows.Err(); err != nil {
		return bank.Summary{}, fmt.Errorf("summarizing bank %q: %w", name, err)
	}
	return sum, nil
}
