package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/lereport"
)

var _ lereport.Store = (*Store)(nil)

// scanLEReport reads a stored report (pgx decodes json with
// encoding/json). The ID is the row's, whatever the document says.
func scanLEReport(row pgx.CollectableRow) (lereport.Report, error) {
	var id int64
	var r lereport.Report
	if err := row.Scan(&id, &r); err != nil {
		return r, err
	}
	r.ID = id
	return r, nil
}

// writeLEReport stores r's document and the columns copied from it, and
// returns the report as a later read will (what JSON keeps of it).
func writeLEReport(ctx context.Context, tx pgx.Tx, r lereport.Report) (lereport.Report, error) {
	doc, err := json.Marshal(r)
	if err != nil {
		return lereport.Report{}, err
	}
	_, err = tx.Exec(ctx, `UPDATE le_reports SET state = $1, case_id = $2, recipient = $3, created_at = $4, updated_at = $5, doc = $6
		WHERE id = $7`, r.State, r.CaseID, r.Recipient, r.Created, r.Updated, json.RawMessage(doc), r.ID)
	if err != nil {
		return lereport.Report{}, err
	}
	var back lereport.Report
	err = json.Unmarshal(doc, &back)
	return back, err
}

// CreateLEReport implements lereport.Store.
func (s *Store) CreateLEReport(ctx context.Context, r lereport.Report) (lereport.Report, error) {
	var created lereport.Report
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		// The id is the row's, so the row comes first and its document
		// second, in the same transaction.
		err := tx.QueryRow(ctx, `INSERT INTO le_reports (state, case_id, recipient, created_at, updated_at, doc)
			VALUES ($1, $2, $3, $4, $5, '{}') RETURNING id`, r.State, r.CaseID, r.Recipient, r.Created, r.Updated).Scan(&r.ID)
		if err != nil {
			return err
		}
		created, err = writeLEReport(ctx, tx, r)
		return err
	})
	if err != nil {
		return lereport.Report{}, fmt.Errorf("creating a law-enforcement report for case %q: %w", r.CaseID, err)
	}
	return created, nil
}

// LEReport implements lereport.Store.
func (s *Store) LEReport(ctx context.Context, id int64) (lereport.Report, error) {
	rows, _ := s.db.Query(ctx, `SELECT id, doc FROM le_reports WHERE id = $1`, id)
	r, err := pgx.CollectExactlyOneRow(rows, scanLEReport)
	if errors.Is(err, pgx.ErrNoRows) {
		return lereport.Report{}, fmt.Errorf("report %d: %w", id, lereport.ErrNotFound)
	}
	if err != nil {
		return lereport.Report{}, fmt.Errorf("reading law-enforcement report %d: %w", id, err)
	}
	return r, nil
}

// UpdateLEReport implements lereport.Store. SELECT ... FOR UPDATE holds
// the row until the transaction ends, so concurrent updates of one report
// apply one after the other, each reading the last one's result.
func (s *Store) UpdateLEReport(ctx context.Context, id int64, update func(*lereport.Report) error) (lereport.Report, error) {
	var r lereport.Report
	var updateErr error
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT id, doc FROM le_reports WHERE id = $1 FOR UPDATE`, id)
		var err error
		if r, err = pgx.CollectExactlyOneRow(rows, scanLEReport); errors.Is(err, pgx.ErrNoRows) {
			return lereport.ErrNotFound
		} else if err != nil {
			return err
		}
		if updateErr = update(&r); updateErr != nil {
			return updateErr
		}
		r.ID = id
		r, err = writeLEReport(ctx, tx, r)
		return err
	})
	if updateErr != nil {
		return lereport.Report{}, updateErr // the caller's own error, as it gave it
	}
	if err != nil {
		return lereport.Report{}, fmt.Errorf("updating report %d: %w", id, err)
	}
	return r, nil
}

// LEReports implements lereport.Store.
func (s *Store) LEReports(ctx context.Context, state lereport.State) ([]lereport.Report, error) {
	rows, _ := s.db.Query(ctx, `SELECT id, doc FROM le_reports WHERE state = $1 ORDER BY id`, state)
	rs, err := pgx.CollectRows(rows, scanLEReport)
	if err != nil {
		return nil, fmt.Errorf("%s law-enforcement reports: %w", state, err)
	}
	return rs, nil
}
