package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

var (
	_ lerequest.Store = (*Store)(nil)
	_ export.Scans    = (*Store)(nil)
)

// scanLERequest reads a stored request (pgx decodes json with
// encoding/json). The ID is the row's, whatever the document says.
func scanLERequest(row pgx.CollectableRow) (lerequest.Request, error) {
	var id int64
	var r lerequest.Request
	if err := row.Scan(&id, &r); err != nil {
		return r, err
	}
	r.ID = id
	return r, nil
}

// writeLERequest stores r's document and the columns copied from it, and
// returns the request as a later read will (what JSON keeps of it).
func writeLERequest(ctx context.Context, tx pgx.Tx, r lerequest.Request) (lerequest.Request, error) {
	doc, err := json.Marshal(r)
	if err != nil {
		return lerequest.Request{}, err
	}
	_, err = tx.Exec(ctx, `UPDATE le_requests SET state = $1, emergency = $2, deadline = $3, doc = $4 WHERE id = $5`,
		r.State, r.Emergency, r.Deadline, json.RawMessage(doc), r.ID)
	if err != nil {
		return lerequest.Request{}, err
	}
	var back lerequest.Request
	err = json.Unmarshal(doc, &back)
	return back, err
}

// CreateLERequest implements lerequest.Store.
func (s *Store) CreateLERequest(ctx context.Context, r lerequest.Request) (lerequest.Request, error) {
	var created lerequest.Request
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		// The id is the row's, so the row comes first and its document
		// second, in the same transaction.
		err := tx.QueryRow(ctx, `INSERT INTO le_requests (state, emergency, deadline, doc) VALUES ($1, $2, $3, '{}') RETURNING id`,
			r.State, r.Emergency, r.Deadline).Scan(&r.ID)
		if err != nil {
			return err
		}
		created, err = writeLERequest(ctx, tx, r)
		return err
	})
	if err != nil {
		return lerequest.Request{}, fmt.Errorf("entering a data request from %q: %w", r.Agency, err)
	}
	return created, nil
}

// LERequest implements lerequest.Store.
func (s *Store) LERequest(ctx context.Context, id int64) (lerequest.Request, error) {
	rows, _ := s.db.Query(ctx, `SELECT id, doc FROM le_requests WHERE id = $1`, id)
	r, err := pgx.CollectExactlyOneRow(rows, scanLERequest)
	if errors.Is(err, pgx.ErrNoRows) {
		return lerequest.Request{}, fmt.Errorf("data request %d: %w", id, lerequest.ErrNotFound)
	}
	if err != nil {
		return lerequest.Request{}, fmt.Errorf("reading data request %d: %w", id, err)
	}
	return r, nil
}

// UpdateLERequest implements lerequest.Store. SELECT ... FOR UPDATE holds
// the row until the transaction ends, so concurrent updates of one request
// apply one after the other, each reading the last one's result.
func (s *Store) UpdateLERequest(ctx context.Context, id int64, update func(*lerequest.Request) error) (lerequest.Request, error) {
	var r lerequest.Request
	var updateErr error
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT id, doc FROM le_requests WHERE id = $1 FOR UPDATE`, id)
		var err error
		if r, err = pgx.CollectExactlyOneRow(rows, scanLERequest); errors.Is(err, pgx.ErrNoRows) {
			return lerequest.ErrNotFound
		} else if err != nil {
			return err
		}
		if updateErr = update(&r); updateErr != nil {
			return updateErr
		}
		r.ID = id
		r, err = writeLERequest(ctx, tx, r)
		return err
	})
	if updateErr != nil {
		return lerequest.Request{}, updateErr // the caller's own error, as it gave it
	}
	if err != nil {
		return lerequest.Request{}, fmt.Errorf("updating data request %d: %w", id, err)
	}
	return r, nil
}

// LERequests implements lerequest.Store.
func (s *Store) LERequests(ctx context.Context, state lerequest.State) ([]lerequest.Request, error) {
	rows, _ := s.db.Query(ctx, `SELECT id, doc FROM le_requests WHERE $1 = '' OR state = $1 ORDER BY id`, string(state))
	rs, err := pgx.CollectRows(rows, scanLERequest)
	if err != nil {
		return nil, fmt.Errorf("listing data requests: %w", err)
	}
	return rs, nil
}

// AccountScans implements export.Scans. scans_account (0008) serves
// each account's range.
func (s *Store) AccountScans(ctx context.Context, accounts []string, from, to time.Time) ([]scan.Record, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+scanCols+` FROM scans
		WHERE account_id = ANY($1) AND account_id <> '' AND time >= $2 AND time < $3
		ORDER BY time, id`, accounts, from, to)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (scan.Record, error) {
		var rec scan.Record
		err := row.Scan(&rec.ID, &rec.Time, &rec.Kind, &rec.Actor, &rec.ContentID, &rec.AccountID, &rec.Surface, &rec.Visibility,
			&rec.PDQ, &rec.Quality, &rec.LowQuality, &rec.MD5, &rec.SHA256, &rec.Matches, &rec.Decision, &rec.Evidence, &rec.EvidenceError)
		rec.Time = rec.Time.UTC()
		return rec, err
	})
	if err != nil {
		return nil, fmt.Errorf("scan records of %d accounts: %w", len(accounts), err)
	}
	return out, nil
}
