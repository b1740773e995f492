package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/selfreport"
)

var _ selfreport.Store = (*Store)(nil)

// CreateSelfReport implements selfreport.Store.
func (s *Store) CreateSelfReport(ctx context.Context, c selfreport.Case) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO selfreport_cases (code, pin_hash, state, created_at, withdrawn_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
			c.Code, c.PINHash, c.State, micros(c.CreatedAt), withdrawnMicros(c.WithdrawnAt))
		if err != nil {
			return fmt.Errorf("storing case %s: %w", c.Code, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("case %s: %w", c.Code, selfreport.ErrExists)
		}
		for i, im := range c.Images {
			if _, err := tx.ExecContext(ctx, `INSERT INTO selfreport_images (code, pos, pdq, quality, md5, sha256) VALUES (?, ?, ?, ?, ?, ?)`,
				c.Code, i, im.PDQ, im.Quality, im.MD5, im.SHA256); err != nil {
				return fmt.Errorf("storing case %s: image %d: %w", c.Code, i+1, err)
			}
		}
		for i, v := range c.Videos {
			if _, err := tx.ExecContext(ctx, `INSERT INTO selfreport_videos (code, pos, vpdq, md5, sha256) VALUES (?, ?, ?, ?, ?)`,
				c.Code, i, v.VPDQ, v.MD5, v.SHA256); err != nil {
				return fmt.Errorf("storing case %s: video %d: %w", c.Code, i+1, err)
			}
		}
		return nil
	})
}

func withdrawnMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// SelfReport implements selfreport.Store.
func (s *Store) SelfReport(ctx context.Context, code string) (selfreport.Case, error) {
	return readCase(ctx, s.r(), code)
}

func readCase(ctx context.Context, q querier, code string) (selfreport.Case, error) {
	c := selfreport.Case{Code: code}
	var created, withdrawn int64
	err := q.QueryRowContext(ctx, `SELECT pin_hash, state, created_at, withdrawn_at FROM selfreport_cases WHERE code = ?`, code).
		Scan(&c.PINHash, &c.State, &created, &withdrawn)
	if err == sql.ErrNoRows {
		return selfreport.Case{}, fmt.Errorf("case %s: %w", code, selfreport.ErrNoCase)
	}
	if err != nil {
		return selfreport.Case{}, fmt.Errorf("reading case %s: %w", code, err)
	}
	c.CreatedAt = fromMicros(created)
	if withdrawn != 0 {
		c.WithdrawnAt = fromMicros(withdrawn)
	}
	rows, err := q.QueryContext(ctx, `SELECT pdq, quality, md5, sha256 FROM selfreport_images WHERE code = ? ORDER BY pos`, code)
	if err != nil {
		return selfreport.Case{}, fmt.Errorf("reading case %s: %w", code, err)
	}
	defer rows.Close()
	for rows.Next() {
		var im selfreport.Image
		if err := rows.Scan(&im.PDQ, &im.Quality, &im.MD5, &im.SHA256); err != nil {
			return selfreport.Case{}, fmt.Errorf("reading case %s: %w", code, err)
		}
		c.Images = append(c.Images, im)
	}
	if err := rows.Err(); err != nil {
		return selfreport.Case{}, fmt.Errorf("reading case %s: %w", code, err)
	}
	vrows, err := q.QueryContext(ctx, `SELECT vpdq, md5, sha256 FROM selfreport_videos WHERE code = ? ORDER BY pos`, code)
	if err != nil {
		return selfreport.Case{}, fmt.Errorf("reading case %s: %w", code, err)
	}
	defer vrows.Close()
	for vrows.Next() {
		var v selfreport.Video
		if err := vrows.Scan(&v.VPDQ, &v.MD5, &v.SHA256); err != nil {
			return selfreport.Case{}, fmt.Errorf("reading case %s: %w", code, err)
		}
		c.Videos = append(c.Videos, v)
	}
	if err := vrows.Err(); err != nil {
		return selfreport.Case{}, fmt.Errorf("reading case %s: %w", code, err)
	}
	return c, nil
}

// WithdrawSelfReport implements selfreport.Store.
func (s *Store) WithdrawSelfReport(ctx context.Context, code string, at time.Time) (selfreport.Case, error) {
	var c selfreport.Case
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE selfreport_cases SET state = ?, withdrawn_at = ? WHERE code = ? AND state = ?`,
			selfreport.Withdrawn, micros(at), code, selfreport.Active); err != nil {
			return fmt.Errorf("withdrawing case %s: %w", code, err)
		}
		var err error
		c, err = readCase(ctx, tx, code)
		return err
	})
	return c, err
}

// SelfReportHolders implements selfreport.Store.
func (s *Store) SelfReportHolders(ctx context.Context, value string) (int, error) {
	var n int
	err := s.r().QueryRowContext(ctx, `SELECT count(DISTINCT c.code) FROM (
			SELECT code FROM selfreport_images WHERE pdq = ?1 OR md5 = ?1 OR sha256 = ?1
			UNION ALL
			SELECT code FROM selfreport_videos WHERE vpdq = ?1 OR md5 = ?1 OR sha256 = ?1
		) h JOIN selfreport_cases c ON c.code = h.code WHERE c.state = 'active'`, value).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting cases holding a hash: %w", err)
	}
	return n, nil
}
