package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/notice"
)

var _ notice.Store = (*Store)(nil)

// A notice's row: the columns queries select on, and the whole notice as
// JSON (whose id, version, state and next_at the columns override).
const noticeCols = `id, version, state, next_at, doc`

func scanNotice(row interface{ Scan(...any) error }) (notice.Notice, error) {
	var n notice.Notice
	var id int64
	var version int
	var state, doc string
	var next int64
	if err := row.Scan(&id, &version, &state, &next, &doc); err != nil {
		return n, err
	}
	if err := json.Unmarshal([]byte(doc), &n); err != nil {
		return n, err
	}
	n.ID, n.Version, n.State, n.NextAt = id, version, notice.State(state), fromMicros(next)
	return n, nil
}

func noticeDoc(n notice.Notice) (string, error) {
	b, err := json.Marshal(n)
	return string(b), err
}

// CreateNotice implements notice.Store.
func (s *Store) CreateNotice(ctx context.Context, n notice.Notice) (notice.Notice, error) {
	n.Version, n.CreatedAt, n.NextAt = 1, fromMicros(micros(n.CreatedAt)), fromMicros(micros(n.NextAt))
	doc, err := noticeDoc(n)
	if err != nil {
		return notice.Notice{}, err
	}
	err = s.inWrite(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO notices (version, state, host, next_at, created_at, doc) VALUES (1, ?, ?, ?, ?, ?) RETURNING id`,
			n.State, n.Host, micros(n.NextAt), micros(n.CreatedAt), doc).Scan(&n.ID)
	})
	if err != nil {
		return notice.Notice{}, fmt.Errorf("storing notice: %w", err)
	}
	return n, nil
}

// Notice implements notice.Store.
func (s *Store) Notice(ctx context.Context, id int64) (notice.Notice, error) {
	n, err := scanNotice(s.r().QueryRowContext(ctx, `SELECT `+noticeCols+` FROM notices WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return n, fmt.Errorf("notice %d: %w", id, notice.ErrNotFound)
	}
	if err != nil {
		return n, fmt.Errorf("reading notice %d: %w", id, err)
	}
	return n, nil
}

func queryNotices(ctx context.Context, q querier, where string, args ...any) ([]notice.Notice, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+noticeCols+` FROM notices `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notice.Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Notices implements notice.Store.
func (s *Store) Notices(ctx context.Context) ([]notice.Notice, error) {
	ns, err := queryNotices(ctx, s.r(), `ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading notices: %w", err)
	}
	return ns, nil
}

// SaveNotice implements notice.Store.
func (s *Store) SaveNotice(ctx context.Context, n notice.Notice, evs []notice.Event) (notice.Notice, error) {
	n.Version++
	n.NextAt = fromMicros(micros(n.NextAt))
	doc, err := noticeDoc(n)
	if err != nil {
		return notice.Notice{}, err
	}
	err = s.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notices SET version = ?, state = ?, host = ?, next_at = ?, doc = ? WHERE id = ? AND version = ?`,
			n.Version, n.State, n.Host, micros(n.NextAt), doc, n.ID, n.Version-1)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			var v int
			if err := tx.QueryRowContext(ctx, `SELECT version FROM notices WHERE id = ?`, n.ID).Scan(&v); err == sql.ErrNoRows {
				return notice.ErrNotFound
			}
			return notice.ErrConflict
		}
		var seq int
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM notice_events WHERE notice_id = ?`, n.ID).Scan(&seq); err != nil {
			return err
		}
		for _, e := range evs {
			seq++
			e.NoticeID, e.Seq = n.ID, seq
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO notice_events (notice_id, seq, kind, at, doc) VALUES (?, ?, ?, ?, ?)`,
				n.ID, seq, e.Kind, micros(e.At), string(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return notice.Notice{}, fmt.Errorf("saving notice %d: %w", n.ID, err)
	}
	return n, nil
}

// NoticeEvents implements notice.Store.
func (s *Store) NoticeEvents(ctx context.Context, id int64) ([]notice.Event, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT at, doc FROM notice_events WHERE notice_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("reading the events of notice %d: %w", id, err)
	}
	defer rows.Close()
	var out []notice.Event
	for rows.Next() {
		var at int64
		var doc string
		var e notice.Event
		if err := rows.Scan(&at, &doc); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// DueNotices implements notice.Store. Writers are serialised, so
// selecting and leasing in one write transaction hands each notice to one
// worker.
func (s *Store) DueNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]notice.Notice, error) {
	if limit <= 0 {
		return nil, nil
	}
	var due []notice.Notice
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
		var err error
		due, err = queryNotices(ctx, tx, `WHERE state = 'open' AND next_at <= ? ORDER BY next_at, id LIMIT ?`, micros(now), limit)
		if err != nil || len(due) == 0 {
			return err
		}
		until := micros(now.Add(lease))
		args := []any{until}
		for i := range due {
			due[i].NextAt = fromMicros(until)
			args = append(args, due[i].ID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE notices SET next_at = ? WHERE id IN (?`+strings.Repeat(", ?", len(due)-1)+`)`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("leasing due notices: %w", err)
	}
	return due, nil
}
