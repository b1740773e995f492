package store

import (
	"fmt"
	"slices"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// Time is t as both stores keep it: UTC, in whole microseconds (what
// PostgreSQL's timestamptz holds, and SQLite's integer columns are given).
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// StoredCase is c with its times as the stores keep them, sharing no memory
// with c where it had to change them, so that what a store returns from a
// write equals what it reads back later.
func StoredCase(c review.Case) review.Case {
	c.OpenedAt, c.DueAt = Time(c.OpenedAt), Time(c.DueAt)
	c.Decisions = slices.Clone(c.Decisions)
	for i := range c.Decisions {
		c.Decisions[i].At = Time(c.Decisions[i].At)
	}
	if c.Appeal != nil {
		a := *c.Appeal
		a.At = Time(a.At)
		c.Appeal = &a
	}
	return c
}

// StoredReport is r with its times as the stores keep them.
func StoredReport(r review.Report) review.Report {
	r.ReceivedAt, r.DecidedAt = Time(r.ReceivedAt), Time(r.DecidedAt)
	return r
}

// QueueCounts reads the rows of review.Store.CountOpenCases (queue, open
// cases, overdue, least due time still to come) for both stores; next
// converts the store's type of the last column, which is NULL when no case
// is due later, to a time (the zero time for NULL).
func QueueCounts[D any](rows Rows, next func(D) time.Time) ([]review.QueueCount, error) {
	var out []review.QueueCount
	for rows.Next() {
		var n review.QueueCount
		var d D
		if err := rows.Scan(&n.Queue, &n.Cases, &n.Overdue, &d); err != nil {
			return nil, fmt.Errorf("counting open cases: %w", err)
		}
		n.NextDue = next(d)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting open cases: %w", err)
	}
	return out, nil
}

// NewBank is b as CreateBank stores it, created at now: a zero threshold
// takes its default, the bank is validated, and it holds no entries.
func NewBank(b bank.Bank, now time.Time) (bank.Bank, error) {
	if b.Threshold == 0 {
		b.Threshold = bank.DefaultThreshold
	}
	if b.VPDQThreshold == 0 {
		b.VPDQThreshold = bank.DefaultVPDQThreshold
	}
	if err := b.Validate(); err != nil {
		return bank.Bank{}, err
	}
	b.CreatedAt, b.Entries = Time(now), 0
	return b, nil
}
