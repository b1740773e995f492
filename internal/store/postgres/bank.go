package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/store"
)

const bankCols = `id, name, description, threshold, vpdq_threshold, created_at, live_entries`

func scanBank(row pgx.Row) (bank.Bank, error) {
	var b bank.Bank
	err := row.Scan(&b.ID, &b.Name, &b.Description, &b.Threshold, &b.VPDQThreshold, &b.CreatedAt, &b.Entries)
	b.CreatedAt = b.CreatedAt.UTC()
	return b, err
}

// CreateBank implements bank.Store.
func (s *Store) CreateBank(ctx context.Context, b bank.Bank) (bank.Bank, error) {
	b, err := store.NewBank(b, time.Now())
	if err != nil {
		return bank.Bank{}, err
	}
	err = s.db.QueryRow(ctx, `INSERT INTO banks (name, description, threshold, vpdq_threshold, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) WHERE deleted_at IS NULL DO NOTHING RETURNING id`,
		b.Name, b.Description, b.Threshold, b.VPDQThreshold, b.CreatedAt).Scan(&b.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return bank.Bank{}, fmt.Errorf("creating bank %q: %w", b.Name, bank.ErrExists)
	}
	if err != nil {
		return bank.Bank{}, fmt.Errorf("creating bank %q: %w", b.Name, err)
	}
	return b, nil
}

// Bank implements bank.Store.
func (s *Store) Bank(ctx context.Context, name string) (bank.Bank, error) {
	b, err := scanBank(s.db.QueryRow(ctx, `SELECT `+bankCols+` FROM banks WHERE name = $1 AND deleted_at IS NULL`, name))
	if err != nil {
		return bank.Bank{}, notFound(err, "bank %q", name)
	}
	return b, nil
}

// ListBanks implements bank.Store.
func (s *Store) ListBanks(ctx context.Context) ([]bank.Bank, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+bankCols+` FROM banks WHERE deleted_at IS NULL ORDER BY name`)
	bs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bank.Bank, error) { return scanBank(r) })
	if err != nil {
		return nil, fmt.Errorf("listing banks: %w", err)
	}
	return bs, nil
}

// UpdateBank implements bank.Store.
func (s *Store) UpdateBank(ctx context.Context, b bank.Bank) error {
	if err := b.Validate(); err != nil {
		return err
	}
	tag, err := s.db.Exec(ctx, `UPDATE banks SET description = $1, threshold = $2, vpdq_threshold = $3 WHERE name = $4 AND deleted_at IS NULL`,
		b.Description, b.Threshold, b.VPDQPercent(), b.Name)
	if err != nil {
		return fmt.Errorf("updating bank %q: %w", b.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("bank %q: %w", b.Name, bank.ErrNotFound)
	}
	return nil
}

// DeleteBank implements bank.Store.
func (s *Store) DeleteBank(ctx context.Context, name string) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		last, err := lockSeq(ctx, tx)
		if err != nil {
			return err
		}
		id, err := liveBankID(ctx, tx, name)
		if err != nil {
			return err
		}
		// Each live entry gets a new change number, above all earlier ones.
		tag, err := tx.Exec(ctx, `UPDATE entries e SET removed = true, seq = $1 + n.rn
			FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM entries WHERE bank_id = $2 AND NOT removed) n
			WHERE e.id = n.id`, last, id)
		if err != nil {
			return fmt.Errorf("deleting bank %q: removing entries: %w", name, err)
		}
		if err := setSeq(ctx, tx, last+tag.RowsAffected()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE banks SET deleted_at = now(), live_entries = 0 WHERE id = $1`, id); err != nil {
			return fmt.Errorf("deleting bank %q: %w", name, err)
		}
		return nil
	})
}

// liveBankID returns the id of the live bank of that name.
func liveBankID(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, name string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM banks WHERE name = $1 AND deleted_at IS NULL`, name).Scan(&id)
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
	rows, _ := s.db.Query(ctx, `SELECT source, COUNT(*), MAX(added_at) FROM entries WHERE bank_id = $1 AND NOT removed
		GROUP BY source ORDER BY COUNT(*) DESC, source`, b.ID)
	var sum bank.Summary
	var sc bank.SourceCount
	var last time.Time
	_, err = pgx.ForEachRow(rows, []any{&sc.Source, &sc.Entries, &last}, func() error {
		sum.Sources = append(sum.Sources, sc)
		if last.After(sum.LastAdded) {
			sum.LastAdded = last.UTC()
		}
		return nil
	})
	if err != nil {
		return bank.Summary{}, fmt.Errorf("summarizing bank %q: %w", name, err)
	}
	return sum, nil
}
