package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/selfreport"
)

var _ selfreport.Store = (*Store)(nil)

// CreateSelfReport implements selfreport.Store.
func (s *Store) CreateSelfReport(ctx context.Context, c selfreport.Case) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO selfreport_cases (code, pin_hash, state, created_at, withdrawn_at)
			VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (code) DO NOTHING`,
			c.Code, c.PINHash, string(c.State), stored(c.CreatedAt))
		if err != nil {
			return fmt.Errorf("storing case %s: %w", c.Code, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("case %s: %w", c.Code, selfreport.ErrExists)
		}
		for i, im := range c.Images {
			if _, err := tx.Exec(ctx, `INSERT INTO selfreport_images (code, pos, pdq, quality, md5, sha256) VALUES ($1, $2, $3, $4, $5, $6)`,
				c.Code, i, im.PDQ, im.Quality, im.MD5, im.SHA256); err != nil {
				return fmt.Errorf("storing case %s: image %d: %w", c.Code, i+1, err)
			}
		}
		for i, v := range c.Videos {
			if _, err := tx.Exec(ctx, `INSERT INTO selfreport_videos (code, pos, vpdq, md5, sha256) VALUES ($1, $2, $3, $4, $5)`,
				c.Code, i, v.VPDQ, v.MD5, v.SHA256); err != nil {
				return fmt.Errorf("storing case %s: video %d: %w", c.Code, i+1, err)
			}
		}
		return nil
	})
}

type pgQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// SelfReport implements selfreport.Store.
func (s *Store) SelfReport(ctx context.Context, code string) (selfreport.Case, error) {
	return readSelfReport(ctx, s.db, code)
}

func readSelfReport(ctx context.Context, q pgQuerier, code string) (selfreport.Case, error) {
	c := selfreport.Case{Code: code}
	var withdrawn *time.Time
	var state string
	err := q.QueryRow(ctx, `SELECT pin_hash, state, created_at, withdrawn_at FROM selfreport_cases WHERE code = $1`, code).
		Scan(&c.PINHash, &state, &c.CreatedAt, &withdrawn)
	if errors.Is(err, pgx.ErrNoRows) {
		return selfreport.Case{}, fmt.Errorf("case %s: %w", code, selfreport.ErrNoCase)
	}
	if err != nil {
		return selfreport.Case{}, fmt.Errorf("reading case %s: %w", code, err)
	}
	c.State = selfreport.State(state)
	c.CreatedAt = c.CreatedAt.UTC()
	if withdrawn != nil {
		c.WithdrawnAt = withdrawn.UTC()
	}
	rows, err := q.Query(ctx, `SELECT pdq, quality, md5, sha256 FROM selfreport_images WHERE code = $1 ORDER BY pos`, code)
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
	vrows, err := q.Query(ctx, `SELECT vpdq, md5, sha256 FROM selfreport_videos WHERE code = $1 ORDER BY pos`, code)
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
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE selfreport_cases SET state = $1, withdrawn_at = $2 WHERE code = $3 AND state = $4`,
			string(selfreport.Withdrawn), stored(at), code, string(selfreport.Active)); err != nil {
			return fmt.Errorf("withdrawing case %s: %w", code, err)
		}
		var err error
		c, err = readSelfReport(ctx, tx, code)
		return err
	})
	return c, err
}

// SelfReportHolders implements selfreport.Store.
func (s *Store) SelfReportHolders(ctx context.Context, value string) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(DISTINCT c.code) FROM (
			SELECT code FROM selfreport_images WHERE pdq = $1 OR md5 = $1 OR sha256 = $1
			UNION ALL
			SELECT code FROM selfreport_videos WHERE (md5(vpdq) = md5($1) AND vpdq = $1) OR md5 = $1 OR sha256 = $1
		) h JOIN selfreport_cases c ON c.code = h.code WHERE c.state = 'active'`, value).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting cases holding a hash: %w", err)
	}
	return n, nil
}
