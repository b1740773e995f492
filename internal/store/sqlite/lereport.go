package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/safeguard-oss/safeguard/internal/lereport"
)

var _ lereport.Store = (*Store)(nil)

// leReport decodes a stored report. The ID is the row's, whatever the
// document says.
func leReport(id int64, doc string) (lereport.Report, error) {
	var r lereport.Report
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return r, fmt.Errorf("law-enforcement report %d: reading its stored document: %w", id, err)
	}
	r.ID = id
	return r, nil
}

// CreateLEReport implements lereport.Store.
func (s *Store) CreateLEReport(ctx context.Context, r lereport.Report) (lereport.Report, error) {
	var doc []byte
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		// The id is the row's, so the row comes first and its document
		// second, in the same transaction.
		err := tx.QueryRowContext(ctx, `INSERT INTO le_reports (state, case_id, recipient, created_at, updated_at, doc)
			VALUES (?, ?, ?, ?, ?, '{}') RETURNING id`,
			r.State, r.CaseID, r.Recipient, micros(r.Created), micros(r.Updated)).Scan(&r.ID)
		if err != nil {
			return err
		}
		if doc, err = json.Marshal(r); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE le_reports SET doc = ? WHERE id = ?`, string(doc), r.ID)
		return err
	})
	if err != nil {
		return lereport.Report{}, fmt.Errorf("creating a law-enforcement report for case %q: %w", r.CaseID, err)
	}
	return leReport(r.ID, string(doc))
}

// LEReport implements lereport.Store.
func (s *Store) LEReport(ctx context.Context, id int64) (lereport.Report, error) {
	var doc string
	err := s.r().QueryRowContext(ctx, `SELECT doc FROM le_reports WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return lereport.Report{}, fmt.Errorf("report %d: %w", id, lereport.ErrNotFound)
	}
	if err != nil {
		return lereport.Report{}, fmt.Errorf("reading law-enforcement report %d: %w", id, err)
	}
	return leReport(id, doc)
}

// UpdateLEReport implements lereport.Store. Writers are serialised, so
// updates of one report apply one after the other, each reading the last
// one's result.
func (s *Store) UpdateLEReport(ctx context.Context, id int64, update func(*lereport.Report) error) (lereport.Report, error) {
	var doc []byte
	var updateErr error
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, `SELECT doc FROM le_reports WHERE id = ?`, id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return lereport.ErrNotFound
		}
		if err != nil {
			return err
		}
		r, err := leReport(id, old)
		if err != nil {
			return err
		}
		if updateErr = update(&r); updateErr != nil {
			return updateErr
		}
		r.ID = id
		if doc, err = json.Marshal(r); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE le_reports SET state = ?, case_id = ?, recipient = ?, created_at = ?, updated_at = ?, doc = ?
			WHERE id = ?`, r.State, r.CaseID, r.Recipient, micros(r.Created), micros(r.Updated), string(doc), id)
		return err
	})
	if updateErr != nil {
		return lereport.Report{}, updateErr // the caller's own error, as it gave it
	}
	if err != nil {
		return lereport.Report{}, fmt.Errorf("updating report %d: %w", id, err)
	}
	return leReport(id, string(doc))
}

// LEReports implements lereport.Store.
func (s *Store) LEReports(ctx context.Context, state lereport.State) ([]lereport.Report, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id, doc FROM le_reports WHERE state = ? ORDER BY id`, state)
	if err != nil {
		return nil, fmt.Errorf("%s law-enforcement reports: %w", state, err)
	}
	defer rows.Close()
	var rs []lereport.Report
	for rows.Next() {
		var id int64
		var doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("%s law-enforcement reports: %w", state, err)
		}
		r, err := leReport(id, doc)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s law-enforcement reports: %w", state, err)
	}
	return rs, nil
}
