package store

import (
	"fmt"
	"iter"

	"github.com/safeguard-oss/safeguard/internal/audit"
)

// AuditPage is how many entries AuditEntries reads per query.
const AuditPage = 1000

// AuditPages is audit.Store.AuditEntries for both stores: the entries from
// fromSeq on, read AuditPage at a time by read (the entries with seq ≥
// from in seq order, at most AuditPage, appended to buf), holding nothing
// open between pages, so that verifying a long log does not hold up
// writers.
func AuditPages(fromSeq int64, read func(from int64, buf []audit.Entry) ([]audit.Entry, error)) iter.Seq2[audit.Entry, error] {
	return func(yield func(audit.Entry, error) bool) {
		page := make([]audit.Entry, 0, AuditPage)
		for next := fromSeq; ; {
			var err error
			if page, err = read(next, page[:0]); err != nil {
				yield(audit.Entry{}, fmt.Errorf("reading the audit log from entry %d: %w", next, err))
				return
			}
			for _, e := range page {
				if !yield(e, nil) {
					return
				}
			}
			if len(page) < AuditPage {
				return
			}
			next = page[len(page)-1].Seq + 1
		}
	}
}
