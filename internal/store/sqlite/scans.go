package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ scan.Store = (*Store)(nil)

const scanCols = `id, time, kind, actor, content_id, account_id, surface, visibility,
	pdq, quality, low_quality, md5, sha256, matches, decision, evidence, evidence_error`

const insertScan = `INSERT INTO scans (` + scanCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`

// RecordScan implements scan.Store. The insert commits before it returns;
// in WAL mode with synchronous=NORMAL a committed scan survives the
// process being killed (a power cut may lose the last few).
func (s *Store) RecordScan(ctx context.Context, rec scan.Record) error {
	matches, err := json.Marshal(rec.Matches)
	if err != nil {
		return fmt.Errorf("scan %s: %w", rec.ID, err)
	}
	decision, err := json.Marshal(rec.Decision)
	if err != nil {
		return fmt.Errorf("scan %s: %w", rec.ID, err)
	}
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		ins, err := s.stmt(ctx, tx, insertScan)
		if err != nil {
			return fmt.Errorf("recording scan %s: %w", rec.ID, err)
		}
		res, err := ins.ExecContext(ctx, rec.ID, micros(rec.Time), rec.Kind, rec.Actor, rec.ContentID, rec.AccountID, rec.Surface, rec.Visibility,
			rec.PDQ, rec.Quality, rec.LowQuality, rec.MD5, rec.SHA256, string(matches), string(decision), rec.Evidence, rec.EvidenceError)
		if err != nil {
			return fmt.Errorf("recording scan %s: %w", rec.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("scan %s: %w", rec.ID, store.ErrExists)
		}
		return nil
	})
}

// ScanRecord implements scan.Store.
func (s *Store) ScanRecord(ctx context.Context, id string) (scan.Record, error) {
	var rec scan.Record
	var t int64
	var matches, decision string
	err := s.r().QueryRowContext(ctx, `SELECT `+scanCols+` FROM scans WHERE id = ?`, id).Scan(
		&rec.ID, &t, &rec.Kind, &rec.Actor, &rec.ContentID, &rec.AccountID, &rec.Surface, &rec.Visibility,
		&rec.PDQ, &rec.Quality, &rec.LowQuality, &rec.MD5, &rec.SHA256, &matches, &decision, &rec.Evidence, &rec.EvidenceError)
	if err != nil {
		return scan.Record{}, notFound(err, "scan %s", id)
	}
	rec.Time = fromMicros(t)
	if err := json.Unmarshal([]byte(matches), &rec.Matches); err != nil {
		return scan.Record{}, fmt.Errorf("scan %s: matches: %w", id, err)
	}
	if err := json.Unmarshal([]byte(decision), &rec.Decision); err != nil {
		return scan.Record{}, fmt.Errorf("scan %s: decision: %w", id, err)
	}
	return rec, nil
}
