package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/store"
)

var _ audit.Store = (*Store)(nil)

const auditCols = `seq, time, actor, action, subject, detail, prev, hash`

func scanAudit(row interface{ Scan(...any) error }) (audit.Entry, error) {
	var e audit.Entry
	var t int64
	var detail, prev, hash []byte
	if err := row.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Subject, &detail, &prev, &hash); err != nil {
		return e, err
	}
	e.Time = fromMicros(t)
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

// AppendAudit implements audit.Store. The write transaction (BEGIN
// IMMEDIATE, one writer at a time) spans reading the last entry and
// inserting the next, so appenders chain one after another.
func (s *Store) AppendAudit(ctx context.Context, build func(last *audit.Entry) (audit.Entry, error)) (audit.Entry, error) {
	var e audit.Entry
	err := s.inWrite(ctx, func(tx *sql.Tx) error {
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
			detail = []byte{} // an empty BLOB, not NULL
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, micros(e.Time), e.Actor, e.Action, e.Subject, detail, e.Prev[:], e.Hash[:])
		return err
	})
	if err != nil {
		return audit.Entry{}, fmt.Errorf("appending to the audit log: %w", err)
	}
	return e, nil
}

// AuditEntries implements audit.Store.
func (s *Store) AuditEntries(ctx context.Context, fromSeq int64) iter.Seq2[audit.Entry, error] {
	return store.AuditPages(fromSeq, func(from int64, buf []audit.Entry) ([]audit.Entry, error) { return s.auditPage(ctx, from, buf) })
}

// AuditEntriesAbout implements audit.Finder with the audit_log_subject
// index.
func (s *Store) AuditEntriesAbout(ctx context.Context, action, subject string) ([]audit.Entry, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+auditCols+` FROM audit_log WHERE subject = ? AND action = ? ORDER BY seq`, subject, action)
	if err != nil {
		return nil, fmt.Errorf("audit entries %s of %q: %w", action, subject, err)
	}
	defer rows.Close()
	var es []audit.Entry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

func (s *Store) auditPage(ctx context.Context, from int64, page []audit.Entry) ([]audit.Entry, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+auditCols+` FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`, from, store.AuditPage)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return page, err
		}
		page = append(page, e)
	}
	return page, rows.Err()
}

// LastAudit implements audit.Store.
func (s *Store) LastAudit(ctx context.Context) (*audit.Entry, error) {
	e, err := lastAudit(ctx, s.r())
	if err != nil {
		return nil, fmt.Errorf("reading the last audit entry: %w", err)
	}
	return e, nil
}

func lastAudit(ctx context.Context, q querier) (*audit.Entry, error) {
	e, err := scanAudit(q.QueryRowContext(ctx, `SELECT `+auditCols+` FROM audit_log ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}
