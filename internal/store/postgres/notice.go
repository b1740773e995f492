package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/notice"
)

var _ notice.Store = (*Store)(nil)

// A notice's row: the columns queries select on, and the whole notice as
// JSON (whose id, version, state and next_at the columns override).
const noticeCols = `id, version, state, next_at, doc`

func scanNotice(row pgx.Row) (notice.Notice, error) {
	var n notice.Notice
	var id int64
	var version int
	var state string
	var next time.Time
	var doc []byte
	if err := row.Scan(&id, &version, &state, &next, &doc); err != nil {
		return n, err
	}
	if err := json.Unmarshal(doc, &n); err != nil {
		return n, err
	}
	n.ID, n.Version, n.State, n.NextAt = id, version, notice.State(state), next.UTC()
	return n, nil
}

// CreateNotice implements notice.Store.
func (s *Store) CreateNotice(ctx context.Context, n notice.Notice) (notice.Notice, error) {
	n.Version, n.CreatedAt, n.NextAt = 1, stored(n.CreatedAt), stored(n.NextAt)
	doc, err := json.Marshal(n)
	if err != nil {
		return notice.Notice{}, err
	}
	if err := s.db.QueryRow(ctx, `INSERT INTO notices (version, state, host, next_at, created_at, doc) VALUES (1, $1, $2, $3, $4, $5) RETURNING id`,
		string(n.State), n.Host, n.NextAt, n.CreatedAt, string(doc)).Scan(&n.ID); err != nil {
		return notice.Notice{}, fmt.Errorf("storing notice: %w", err)
	}
	return n, nil
}

// Notice implements notice.Store.
func (s *Store) Notice(ctx context.Context, id int64) (notice.Notice, error) {
	n, err := scanNotice(s.db.QueryRow(ctx, `SELECT `+noticeCols+` FROM notices WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return n, fmt.Errorf("notice %d: %w", id, notice.ErrNotFound)
	}
	if err != nil {
		return n, fmt.Errorf("reading notice %d: %w", id, err)
	}
	return n, nil
}

func (s *Store) queryNotices(ctx context.Context, q conn, query string, args ...any) ([]notice.Notice, error) {
	rows, _ := q.Query(ctx, query, args...)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (notice.Notice, error) { return scanNotice(r) })
}

// Notices implements notice.Store.
func (s *Store) Notices(ctx context.Context) ([]notice.Notice, error) {
	ns, err := s.queryNotices(ctx, s.db, `SELECT `+noticeCols+` FROM notices ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading notices: %w", err)
	}
	return ns, nil
}

// SaveNotice implements notice.Store. The conditional UPDATE is the
// optimistic lock, as updateCase's.
func (s *Store) SaveNotice(ctx context.Context, n notice.Notice, evs []notice.Event) (notice.Notice, error) {
	n.Version++
	n.NextAt = stored(n.NextAt)
	doc, err := json.Marshal(n)
	if err != nil {
		return notice.Notice{}, err
	}
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE notices SET version = $1, state = $2, host = $3, next_at = $4, doc = $5 WHERE id = $6 AND version = $7`,
			n.Version, string(n.State), n.Host, n.NextAt, string(doc), n.ID, n.Version-1)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var v int
			if err := tx.QueryRow(ctx, `SELECT version FROM notices WHERE id = $1`, n.ID).Scan(&v); errors.Is(err, pgx.ErrNoRows) {
				return notice.ErrNotFound
			}
			return notice.ErrConflict
		}
		var seq int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM notice_events WHERE notice_id = $1`, n.ID).Scan(&seq); err != nil {
			return err
		}
		for _, e := range evs {
			seq++
			e.NoticeID, e.Seq, e.At = n.ID, seq, stored(e.At)
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notice_events (notice_id, seq, kind, at, doc) VALUES ($1, $2, $3, $4, $5)`,
				n.ID, seq, string(e.Kind), e.At, string(b)); err != nil {
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
	rows, _ := s.db.Query(ctx, `SELECT at, doc FROM notice_events WHERE notice_id = $1 ORDER BY seq`, id)
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (notice.Event, error) {
		var e notice.Event
		var at time.Time
		var doc []byte
		if err := r.Scan(&at, &doc); err != nil {
			return e, err
		}
		err := json.Unmarshal(doc, &e)
		e.At = at.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the events of notice %d: %w", id, err)
	}
	return evs, nil
}

// DueNotices implements notice.Store, as DueDeliveries: FOR UPDATE SKIP
// LOCKED lets workers on several servers poll at once, each skipping the
// rows another is leasing.
func (s *Store) DueNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]notice.Notice, error) {
	if limit <= 0 {
		return nil, nil
	}
	ns, err := s.queryNotices(ctx, s.db, `WITH due AS (
			SELECT id, next_at AS was FROM notices
			WHERE state = 'open' AND next_at <= $1
			ORDER BY next_at, id LIMIT $2
			FOR UPDATE SKIP LOCKED
		), leased AS (
			UPDATE notices n SET next_at = $3 FROM due WHERE n.id = due.id
			RETURNING n.id, n.version, n.state, n.next_at, n.doc, due.was
		)
		SELECT `+noticeCols+` FROM leased ORDER BY was, id`, stored(now), limit, stored(now.Add(lease)))
	if err != nil {
		return nil, fmt.Errorf("leasing due notices: %w", err)
	}
	return ns, nil
}
