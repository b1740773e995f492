package store

import (
	"slices"
	"time"

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
