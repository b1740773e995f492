package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var (
	_ review.Store = (*Store)(nil)
	_ review.Index = (*Store)(nil)
)

const caseCols = `id, version, state, category, queue, opened_at, due_at, doc`

func scanCase(row pgx.CollectableRow) (review.Case, error) {
	var c review.Case
	var d store.CaseDoc // pgx decodes json with encoding/json
	if err := row.Scan(&c.ID, &c.Version, &c.State, &c.Category, &c.Queue, &c.OpenedAt, &c.DueAt, &d); err != nil {
		return c, err
	}
	c.OpenedAt, c.DueAt = c.OpenedAt.UTC(), c.DueAt.UTC()
	d.Into(&c)
	return c, nil
}

const reportCols = `id, case_id, source, reporter, category, content_id, account_id, status, received_at, decided_at, doc`

func scanReport(row pgx.CollectableRow) (review.Report, error) {
	var r review.Report
	var decided *time.Time
	var d store.ReportDoc
	if err := row.Scan(&r.ID, &r.CaseID, &r.Source, &r.Reporter, &r.Category, &r.ContentID, &r.AccountID,
		&r.Status, &r.ReceivedAt, &decided, &d); err != nil {
		return r, err
	}
	r.ReceivedAt = r.ReceivedAt.UTC()
	if decided != nil {
		r.DecidedAt = decided.UTC()
	}
	d.Into(&r)
	return r, nil
}

// insertCase stores c as a new case with version 1 and returns its ID.
func insertCase(ctx context.Context, tx pgx.Tx, c review.Case) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO review_cases (version, state, category, queue, opened_at, due_at, doc)
		VALUES (1, $1, $2, $3, $4, $5, $6) RETURNING id`,
		c.State, c.Category, c.Queue, c.OpenedAt, c.DueAt, store.CaseDocOf(c)).Scan(&id)
	if err != nil {
		return 0, err
	}
	return id, writeCaseKeys(ctx, tx, id, c, false)
}

// updateCase stores c as version c.Version+1 if c.Version is the stored
// version. The conditional UPDATE is the optimistic lock: a concurrent
// update of the same version waits for the row, then finds the version
// moved on and changes nothing.
func updateCase(ctx context.Context, tx pgx.Tx, c review.Case) error {
	tag, err := tx.Exec(ctx, `UPDATE review_cases SET version = version + 1, state = $1, category = $2, queue = $3,
		opened_at = $4, due_at = $5, doc = $6 WHERE id = $7 AND version = $8`,
		c.State, c.Category, c.Queue, c.OpenedAt, c.DueAt, store.CaseDocOf(c), c.ID, c.Version)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var latest int
	err = tx.QueryRow(ctx, `SELECT version FROM review_cases WHERE id = $1`, c.ID).Scan(&latest)
	if errors.Is(err, pgx.ErrNoRows) {
		return review.ErrNotFound
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("update of version %d, latest is %d: %w", c.Version, latest, review.ErrConflict)
}

// writeCaseKeys stores what case id is about (its ids, digests and PDQ
// hashes), replacing what was stored unless the case is new.
func writeCaseKeys(ctx context.Context, tx pgx.Tx, id int64, c review.Case, replace bool) error {
	var b pgx.Batch
	if replace {
		b.Queue(`DELETE FROM review_case_keys WHERE case_id = $1`, id)
		b.Queue(`DELETE FROM review_case_pdq WHERE case_id = $1`, id)
	}
	for _, k := range []struct {
		kind string
		keys []string
	}{{"content", c.ContentIDs}, {"account", c.AccountIDs}, {"digest", c.Digests}} {
		if len(k.keys) > 0 {
			b.Queue(`INSERT INTO review_case_keys (kind, key, case_id) SELECT $1, k, $2 FROM unnest($3::text[]) AS k
				ON CONFLICT DO NOTHING`, k.kind, id, k.keys)
		}
	}
	if len(c.PDQ) > 0 {
		hs := make([]string, len(c.PDQ))
		for i, h := range c.PDQ {
			hs[i] = bitHex(h)
		}
		b.Queue(`INSERT INTO review_case_pdq (case_id, hash) SELECT $1, h::bit(256) FROM unnest($2::text[]) AS h
			ON CONFLICT DO NOTHING`, id, hs)
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, &b).Close()
}

// bitHex is h as bit(256)'s text input in hexadecimal.
func bitHex(h pdq.Hash) string { return "x" + h.String() }

func insertReport(ctx context.Context, tx pgx.Tx, r review.Report) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO review_reports (case_id, source, reporter, category, content_id, account_id,
		status, received_at, decided_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		r.CaseID, r.Source, r.Reporter, r.Category, r.ContentID, r.AccountID,
		r.Status, r.ReceivedAt, optTime(r.DecidedAt), store.ReportDocOf(r)).Scan(&id)
	return id, err
}

// FileReport implements review.Store.
func (s *Store) FileReport(ctx context.Context, r review.Report, c review.Case) (review.Report, review.Case, error) {
	r, c = store.StoredReport(r), store.StoredCase(c)
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if c.ID == 0 {
			id, err := insertCase(ctx, tx, c)
			if err != nil {
				return err
			}
			c.ID, c.Version = id, 1
		} else {
			if err := updateCase(ctx, tx, c); err != nil {
				return err
			}
			if err := writeCaseKeys(ctx, tx, c.ID, c, true); err != nil {
				return err
			}
			c.Version++
		}
		r.CaseID = c.ID
		id, err := insertReport(ctx, tx, r)
		r.ID = id
		return err
	})
	if err != nil && c.ID == 0 {
		return review.Report{}, review.Case{}, fmt.Errorf("filing a report in a new case: %w", err)
	}
	if err != nil {
		return review.Report{}, review.Case{}, fmt.Errorf("filing a report in case %d: %w", c.ID, err)
	}
	return r, c, nil
}

// SaveCase implements review.Store.
func (s *Store) SaveCase(ctx context.Context, c review.Case, rs []review.Report) (review.Case, error) {
	c = store.StoredCase(c)
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := updateCase(ctx, tx, c); err != nil {
			return err
		}
		if err := writeCaseKeys(ctx, tx, c.ID, c, true); err != nil {
			return err
		}
		for _, r := range rs {
			r = store.StoredReport(r)
			tag, err := tx.Exec(ctx, `UPDATE review_reports SET source = $1, reporter = $2, category = $3, content_id = $4,
				account_id = $5, status = $6, received_at = $7, decided_at = $8, doc = $9 WHERE id = $10 AND case_id = $11`,
				r.Source, r.Reporter, r.Category, r.ContentID, r.AccountID, r.Status, r.ReceivedAt, optTime(r.DecidedAt),
				store.ReportDocOf(r), r.ID, c.ID)
			if err != nil {
				return fmt.Errorf("report %d: %w", r.ID, err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("report %d of the case: %w", r.ID, review.ErrNotFound)
			}
		}
		return nil
	})
	if err != nil {
		return review.Case{}, err // the caller (review.Desk) names the case
	}
	c.Version++
	return c, nil
}

func (s *Store) queryCases(ctx context.Context, query string, args ...any) ([]review.Case, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+caseCols+` FROM review_cases `+query, args...)
	return pgx.CollectRows(rows, scanCase)
}

func (s *Store) queryReports(ctx context.Context, query string, args ...any) ([]review.Report, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+reportCols+` FROM review_reports `+query, args...)
	return pgx.CollectRows(rows, scanReport)
}

// Case implements review.Store.
func (s *Store) Case(ctx context.Context, id int64) (review.Case, error) {
	cs, err := s.queryCases(ctx, `WHERE id = $1`, id)
	if err != nil {
		return review.Case{}, err // the caller (review.Desk) names the case
	}
	if len(cs) == 0 {
		return review.Case{}, review.ErrNotFound
	}
	return cs[0], nil
}

// Report implements review.Store.
func (s *Store) Report(ctx context.Context, id int64) (review.Report, error) {
	rs, err := s.queryReports(ctx, `WHERE id = $1`, id)
	if err != nil {
		return review.Report{}, fmt.Errorf("report %d: %w", id, err)
	}
	if len(rs) == 0 {
		return review.Report{}, fmt.Errorf("report %d: %w", id, review.ErrNotFound)
	}
	return rs[0], nil
}

// CaseReports implements review.Store.
func (s *Store) CaseReports(ctx context.Context, caseID int64) ([]review.Report, error) {
	rs, err := s.queryReports(ctx, `WHERE case_id = $1 ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("reports of case %d: %w", caseID, err)
	}
	return rs, nil
}

// Related implements review.Store.
func (s *Store) Related(ctx context.Context, contentIDs, accountIDs, digests []string) ([]review.Case, error) {
	if len(contentIDs)+len(accountIDs)+len(digests) == 0 {
		return nil, nil
	}
	cs, err := s.queryCases(ctx, `WHERE id IN (
		SELECT case_id FROM review_case_keys WHERE kind = 'content' AND key = ANY($1::text[])
		UNION SELECT case_id FROM review_case_keys WHERE kind = 'account' AND key = ANY($2::text[])
		UNION SELECT case_id FROM review_case_keys WHERE kind = 'digest' AND key = ANY($3::text[])
	) ORDER BY id`, contentIDs, accountIDs, digests)
	if err != nil {
		return nil, fmt.Errorf("cases related to a report: %w", err)
	}
	return cs, nil
}

// OpenCases implements review.Store.
func (s *Store) OpenCases(ctx context.Context) ([]review.Case, error) {
	cs, err := s.queryCases(ctx, `WHERE state <> 'decided' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("open cases: %w", err)
	}
	return cs, nil
}

// CountOpenCases implements review.Store.
func (s *Store) CountOpenCases(ctx context.Context, now time.Time) ([]review.QueueCount, error) {
	rows, err := s.db.Query(ctx, `SELECT queue, count(*), count(*) FILTER (WHERE due_at <= $1), min(due_at) FILTER (WHERE due_at > $1)
		FROM review_cases WHERE state <> 'decided' GROUP BY queue`, now)
	if err != nil {
		return nil, fmt.Errorf("counting open cases: %w", err)
	}
	defer rows.Close()
	return store.QueueCounts(rows, func(next *time.Time) time.Time {
		if next == nil {
			return time.Time{}
		}
		return next.UTC()
	})
}

// CasesSince implements review.Store.
func (s *Store) CasesSince(ctx context.Context, since time.Time) ([]review.Case, error) {
	from := stored(since)
	if from.Before(since) {
		from = from.Add(time.Microsecond)
	}
	cs, err := s.queryCases(ctx, `WHERE opened_at >= $1 ORDER BY id`, from)
	if err != nil {
		return nil, fmt.Errorf("cases since %s: %w", since.Format(time.RFC3339Nano), err)
	}
	return cs, nil
}

// Reports implements review.Store.
func (s *Store) Reports(ctx context.Context, since time.Time) ([]review.Report, error) {
	// Round up: pgx would truncate, and a report at since's microsecond
	// with fewer nanoseconds than since was received before it.
	from := stored(since)
	if from.Before(since) {
		from = from.Add(time.Microsecond)
	}
	rs, err := s.queryReports(ctx, `WHERE received_at >= $1 ORDER BY id`, from)
	if err != nil {
		return nil, fmt.Errorf("reports since %s: %w", since.Format(time.RFC3339Nano), err)
	}
	return rs, nil
}

// ReporterReports implements review.Store.
func (s *Store) ReporterReports(ctx context.Context, source review.Source, reporter string) ([]review.Report, error) {
	rs, err := s.queryReports(ctx, `WHERE reporter = $1 AND source = $2 ORDER BY id`, reporter, source)
	if err != nil {
		return nil, fmt.Errorf("reports of reporter %q: %w", reporter, err)
	}
	return rs, nil
}

// Reporter implements review.Store.
func (s *Store) Reporter(ctx context.Context, reporter string) (review.Accuracy, error) {
	a := review.Accuracy{Reporter: reporter}
	err := s.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = $2), count(*) FILTER (WHERE status = $3)
		FROM review_reports WHERE reporter = $1 AND status IN ($2, $3)`,
		reporter, review.Actioned, review.NoAction).Scan(&a.Confirmed, &a.Dismissed)
	if err != nil {
		return review.Accuracy{}, fmt.Errorf("accuracy of reporter %q: %w", reporter, err)
	}
	return a, nil
}

// NearCases implements review.Index with a scan of every case's PDQ
// hashes in the database, bit_count(hash # h) counting the differing bits:
// only the near ones cross the wire. The cost grows with the cases ever
// opened (see BenchmarkNearCases); a server with very many keeps a
// Hamming index instead.
func (s *Store) NearCases(ctx context.Context, h pdq.Hash, d int) ([]review.Near, error) {
	rows, _ := s.db.Query(ctx, `SELECT case_id, min(dist)::int FROM (
			SELECT case_id, bit_count(hash # $1::text::bit(256)) AS dist FROM review_case_pdq
		) AS p WHERE dist <= $2 GROUP BY case_id ORDER BY case_id`, bitHex(h), d)
	ns, err := pgx.CollectRows(rows, pgx.RowToStructByPos[review.Near])
	if err != nil {
		return nil, fmt.Errorf("cases near %s: %w", h, err)
	}
	return ns, nil
}

// intakeLock is the advisory lock key that orders filings across servers.
const intakeLock = 0x5afe_9a4d_0003

// LockIntake implements review.IntakeLocker with a transaction-scoped
// advisory lock: in Atomically's view it lasts until the filing commits.
func (s *Store) LockIntake(ctx context.Context) error {
	if _, err := s.db.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(intakeLock)); err != nil {
		return fmt.Errorf("waiting for the intake lock: %w", err)
	}
	return nil
}
