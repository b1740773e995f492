package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ scan.Store = (*Store)(nil)

const scanCols = `id, time, kind, actor, content_id, account_id, surface, visibility,
	pdq, quality, low_quality, md5, sha256, matches, decision, evidence, evidence_error`

// RecordScan implements scan.Store; the insert commits before it returns.
func (s *Store) RecordScan(ctx context.Context, rec scan.Record) error {
	tag, err := s.db.Exec(ctx, `INSERT INTO scans (`+scanCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (id) DO NOTHING`,
		rec.ID, stored(rec.Time), rec.Kind, rec.Actor, rec.ContentID, rec.AccountID, rec.Surface, rec.Visibility,
		rec.PDQ, rec.Quality, rec.LowQuality, rec.MD5, rec.SHA256, rec.Matches, rec.Decision, rec.Evidence, rec.EvidenceError)
	if err != nil {
		return fmt.Errorf("recording scan %s: %w", rec.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("scan %s: %w", rec.ID, store.ErrExists)
	}
	return nil
}

// ScanRecord implements scan.Store.
func (s *Store) ScanRecord(ctx context.Context, id string) (scan.Record, error) {
	var rec scan.Record
	err := s.db.QueryRow(ctx, `SELECT `+scanCols+` FROM scans WHERE id = $1`, id).Scan(
		&rec.ID, &rec.Time, &rec.Kind, &rec.Actor, &rec.ContentID, &rec.AccountID, &rec.Surface, &rec.Visibility,
		&rec.PDQ, &rec.Quality, &rec.LowQuality, &rec.MD5, &rec.SHA256, &rec.Matches, &rec.Decision, &rec.Evidence, &rec.EvidenceError)
	if errors.Is(err, pgx.ErrNoRows) {
		return scan.Record{}, fmt.Errorf("scan %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return scan.Record{}, fmt.Errorf("reading scan %s: %w", id, err)
	}
	rec.Time = rec.Time.UTC()
	return rec, nil
}
