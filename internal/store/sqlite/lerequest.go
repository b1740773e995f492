package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

var (
	_ lerequest.Store = (*Store)(nil)
	_ export.Scans    = (*Store)(nil)
)

// leRequest decodes a stored request. The ID is the row's, whatever the
// document says.
func leRequest(id int64, doc string) (lerequest.Request, error) {
	var r lerequest.Request
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return r, fmt.Errorf("data request %d: reading its stored document: %w", id, err)
	}
	r.ID = id
	return r, nil
}

// writeLERequest stores r's document and the columns copied from it.
func writeLERequest(ctx context.Context, tx *sql.Tx, r lerequest.Request) (string, error) {
	doc, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	_, err = tx.ExecContext(ctx, `UPDATE le_requests SET state = ?, emergency = ?, deadline = ?, doc = ? WHERE id = ?`,
		r.State, r.Emergency, micros(r.Deadline), string(doc), r.ID)
	return string(doc), err
}

// CreateLERequest implements lerequest.Store.
func (s *Store) CreateLERequest(ctx context.Context, r lerequest.Request) (lerequest.Request, error) {
	var doc string
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		// The id is the row's, so the row comes first and its document
		// second, in the same transaction.
		err := tx.QueryRowContext(ctx, `INSERT INTO le_requests (state, emergency, deadline, doc) VALUES (?, ?, ?, '{}') RETURNING id`,
			r.State, r.Emergency, micros(r.Deadline)).Scan(&r.ID)
		if err != nil {
			return err
		}
		doc, err = writeLERequest(ctx, tx, r)
		return err
	})
	if err != nil {
		return lerequest.Request{}, fmt.Errorf("entering a data request from %q: %w", r.Agency, err)
	}
	return leRequest(r.ID, doc)
}

// LERequest implements lerequest.Store.
func (s *Store) LERequest(ctx context.Context, id int64) (lerequest.Request, error) {
	var doc string
	err := s.r().QueryRowContext(ctx, `SELECT doc FROM le_requests WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return lerequest.Request{}, fmt.Errorf("data request %d: %w", id, lerequest.ErrNotFound)
	}
	if err != nil {
		return lerequest.Request{}, fmt.Errorf("reading data request %d: %w", id, err)
	}
	return leRequest(id, doc)
}

// UpdateLERequest implements lerequest.Store. Writers are serialised, so
// updates of one request apply one after the other.
func (s *Store) UpdateLERequest(ctx context.Context, id int64, update func(*lerequest.Request) error) (lerequest.Request, error) {
	var doc string
	var updateErr error
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, `SELECT doc FROM le_requests WHERE id = ?`, id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return lerequest.ErrNotFound
		}
		if err != nil {
			return err
		}
		r, err := leRequest(id, old)
		if err != nil {
			return err
		}
		if updateErr = update(&r); updateErr != nil {
			return updateErr
		}
		r.ID = id
		doc, err = writeLERequest(ctx, tx, r)
		return err
	})
	if updateErr != nil {
		return lerequest.Request{}, updateErr // the caller's own error, as it gave it
	}
	if err != nil {
		return lerequest.Request{}, fmt.Errorf("updating data request %d: %w", id, err)
	}
	return leRequest(id, doc)
}

// LERequests implements lerequest.Store.
func (s *Store) LERequests(ctx context.Context, state lerequest.State) ([]lerequest.Request, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id, doc FROM le_requests WHERE ? = '' OR state = ? ORDER BY id`, state, state)
	if err != nil {
		return nil, fmt.Errorf("listing data requests: %w", err)
	}
	defer rows.Close()
	var rs []lerequest.Request
	for rows.Next() {
		var id int64
		var doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("listing data requests: %w", err)
		}
		r, err := leRequest(id, doc)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing data requests: %w", err)
	}
	return rs, nil
}

// AccountScans implements export.Scans. The accounts go in as one JSON
// array, so a request for a thousand accounts is one statement with three
// parameters; scans_account (0008) serves each account's range.
func (s *Store) AccountScans(ctx context.Context, accounts []string, from, to time.Time) ([]scan.Record, error) {
	ids, err := json.Marshal(accounts)
	if err != nil {
		return nil, err
	}
	rows, err := s.r().QueryContext(ctx, `SELECT `+scanCols+` FROM scans
		WHERE account_id IN (SELECT value FROM json_each(?)) AND account_id <> '' AND time >= ? AND time < ?
		ORDER BY time, id`, string(ids), micros(from), micros(to))
	if err != nil {
		return nil, fmt.Errorf("scan records of %d accounts: %w", len(accounts), err)
	}
	defer rows.Close()
	var out []scan.Record
	for rows.Next() {
		var rec scan.Record
		var t int64
		var matches, decision string
		if err := rows.Scan(&rec.ID, &t, &rec.Kind, &rec.Actor, &rec.ContentID, &rec.AccountID, &rec.Surface, &rec.Visibility,
			&rec.PDQ, &rec.Quality, &rec.LowQuality, &rec.MD5, &rec.SHA256, &matches, &decision, &rec.Evidence, &rec.EvidenceError); err != nil {
			return nil, fmt.Errorf("scan records of %d accounts: %w", len(accounts), err)
		}
		rec.Time = fromMicros(t)
		if err := json.Unmarshal([]byte(matches), &rec.Matches); err != nil {
			return nil, fmt.Errorf("scan %s: matches: %w", rec.ID, err)
		}
		if err := json.Unmarshal([]byte(decision), &rec.Decision); err != nil {
			return nil, fmt.Errorf("scan %s: decision: %w", rec.ID, err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan records of %d accounts: %w", len(accounts), err)
	}
	return out, nil
}
