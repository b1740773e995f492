package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ audit.Store = (*Store)(nil)

// auditLock is the advisory lock key that serialises appends to the audit
// log, held to the end of each appending transaction.
const auditLock = 0x5afe_9a4d_0002

const auditCols = `seq, time, actor, action, subject, detail, prev, hash`

func scanAudit(row pgx.Row) (audit.Entry, error) {
	var e audit.Entry
	var detail, prev, hash []byte
	if err := row.Scan(&e.Seq, &e.Time, &e.Actor, &e.Action, &e.Subject, &detail, &prev, &hash); err != nil {
		return e, err
	}
	e.Time = e.Time.UTC()
	if len(detail) > 0 {
		e.Detail = detail
	}
	if len(prev) != len(e.Prev) || len(hash) != len(e.Hash) {
		return e, fmt.Errorf("audit entry %d: stored hashes are %d and %d bytes, want %d", e.Seq, len(prev), len(hash), len(e.Hash))
	}
	copy(e.Prev[:], prev)
	copy(e.Hash[:], hash)
	return e, nil
}

// AppendAudit implements audit.Store. The advisory lock makes appenders
// (in this process or another) take turns from reading the last entry to
// committing the next, so the chain never forks; readers are not blocked.
func (s *Store) AppendAudit(ctx context.Context, build func(last *audit.Entry) (audit.Entry, error)) (audit.Entry, error) {
	var e audit.Entry
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLock)); err != nil {
			return fmt.Errorf("waiting for the audit lock: %w", err)
		}
		last, err := lastAudit(ctx, tx)
		if err != nil {
			return err
		}
		if e, err = build(last); err != nil {
			return err
		}
		if err := audit.Follows(last, e); err != nil {
			return err
		}
		detail := []byte(e.Detail)
		if detail == nil {
			detail = []byte{} // an empty bytea, not NULL
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			e.Seq, stored(e.Time), e.Actor, e.Action, e.Subject, detail, e.Prev[:], e.Hash[:])
		return err
	})
	if err != nil {
		return audit.Entry{}, fmt.Errorf("appending to the audit log: %w", err)
	}
	return e, nil
}

// AuditEntries implements audit.Store.
func (s *Store) AuditEntries(ctx context.Context, fromSeq int64) iter.Seq2[audit.Entry, error] {
	return store.AuditPages(fromSeq, func(from int64, buf []audit.Entry) ([]audit.Entry, error) {
		rows, _ := s.db.Query(ctx, `SELECT `+auditCols+` FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2`, from, store.AuditPage)
		return pgx.AppendRows(buf, rows, func(r pgx.CollectableRow) (audit.Entry, error) { return scanAudit(r) })
	})
}

// AuditEntriesAbout implements audit.Finder with the audit_log_subject
// index.
func (s *Store) AuditEntriesAbout(ctx context.Context, action, subject string) ([]audit.Entry, error) {
	rows, _ := s.db.Query(ctx, `SELECT `+auditCols+` FROM audit_log WHERE subject = $1 AND action = $2 ORDER BY seq`, subject, action)
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.Entry, error) { return scanAudit(r) })
	if err != nil {
		return nil, fmt.Errorf("audit entries %s of %q: %w", action, subject, err)
	}
	return es, nil
}

// LastAudit implements audit.Store.
func (s *Store) LastAudit(ctx context.Context) (*audit.Entry, error) {
	e, err := lastAudit(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("reading the last audit entry: %w", err)
	}
	return e, nil
}

func lastAudit(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (*audit.Entry, error) {
	e, err := scanAudit(q.QueryRow(ctx, `SELECT `+auditCols+` FROM audit_log ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}
