// Package reviewtest holds an in-memory review.Store and review.Index for
// tests, and Run, the conformance suite that the SQLite and PostgreSQL
// stores pass too.
package reviewtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// Memory is a review.Store and review.Index in memory, safe for
// concurrent use; the zero value is ready. NearCases scans every case.
type Memory struct {
	mu      sync.Mutex
	cases   []review.Case   // case i+1 at index i
	reports []review.Report // report i+1 at index i
	byCase  map[int64][]int64
}

var (
	_ review.Store = (*Memory)(nil)
	_ review.Index = (*Memory)(nil)
)

// cloneCase copies c's slices and pointers, so that callers and the store
// never share memory.
func cloneCase(c review.Case) review.Case {
	c.ContentIDs = slices.Clone(c.ContentIDs)
	c.AccountIDs = slices.Clone(c.AccountIDs)
	c.PDQ = slices.Clone(c.PDQ)
	c.Digests = slices.Clone(c.Digests)
	s := &c.Signals
	s.Matches = slices.Clone(s.Matches)
	s.Earlier = slices.Clone(s.Earlier)
	s.Accuracy = slices.Clone(s.Accuracy)
	s.Account.Cases = slices.Clone(s.Account.Cases)
	c.Decisions = slices.Clone(c.Decisions)
	for i := range c.Decisions {
		c.Decisions[i].Actions = slices.Clone(c.Decisions[i].Actions)
	}
	if c.Appeal != nil {
		a := *c.Appeal
		c.Appeal = &a
	}
	return c
}

func cloneReport(r review.Report) review.Report {
	if r.Hashes.PDQ != nil {
		h := *r.Hashes.PDQ
		r.Hashes.PDQ = &h
	}
	if r.Rule != nil {
		x := *r.Rule
		r.Rule = &x
	}
	r.Matches = slices.Clone(r.Matches)
	return r
}

func (m *Memory) FileReport(_ context.Context, r review.Report, c review.Case) (review.Report, review.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.ID != 0 {
		if err := m.check(c); err != nil {
			return review.Report{}, review.Case{}, err
		}
		c.Version++
		m.cases[c.ID-1] = cloneCase(c)
	} else {
		c.ID, c.Version = int64(len(m.cases)+1), 1
		m.cases = append(m.cases, cloneCase(c))
	}
	r.ID, r.CaseID = int64(len(m.reports)+1), c.ID
	m.reports = append(m.reports, cloneReport(r))
	if m.byCase == nil {
		m.byCase = map[int64][]int64{}
	}
	m.byCase[c.ID] = append(m.byCase[c.ID], r.ID)
	return cloneReport(r), cloneCase(c), nil
}

// check reports whether c may replace the stored case c.ID.
func (m *Memory) check(c review.Case) error {
	if c.ID < 1 || c.ID > int64(len(m.cases)) {
		return review.ErrNotFound // the caller (review.Desk) names the case
	}
	if v := m.cases[c.ID-1].Version; v != c.Version {
		return fmt.Errorf("update of version %d, latest is %d: %w", c.Version, v, review.ErrConflict)
	}
	return nil
}

func (m *Memory) SaveCase(_ context.Context, c review.Case, rs []review.Report) (review.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(c); err != nil {
		return review.Case{}, err
	}
	for _, r := range rs {
		if r.ID < 1 || r.ID > int64(len(m.reports)) || m.reports[r.ID-1].CaseID != c.ID {
			return review.Case{}, fmt.Errorf("report %d of case %d: %w", r.ID, c.ID, review.ErrNotFound)
		}
	}
	for _, r := range rs {
		m.reports[r.ID-1] = cloneReport(r)
	}
	c.Version++
	m.cases[c.ID-1] = cloneCase(c)
	return cloneCase(c), nil
}

func (m *Memory) Case(_ context.Context, id int64) (review.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.cases)) {
		return review.Case{}, review.ErrNotFound
	}
	return cloneCase(m.cases[id-1]), nil
}

func (m *Memory) Report(_ context.Context, id int64) (review.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.reports)) {
		return review.Report{}, fmt.Errorf("report %d: %w", id, review.ErrNotFound)
	}
	return cloneReport(m.reports[id-1]), nil
}

func (m *Memory) CaseReports(_ context.Context, caseID int64) ([]review.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []review.Report
	for _, id := range m.byCase[caseID] {
		out = append(out, cloneReport(m.reports[id-1]))
	}
	return out, nil
}

func (m *Memory) Related(_ context.Context, contentIDs, accountIDs, digests []string) ([]review.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	overlap := func(have, want []string) bool {
		return slices.ContainsFunc(want, func(x string) bool { return slices.Contains(have, x) })
	}
	var out []review.Case
	for _, c := range m.cases {
		if overlap(c.ContentIDs, contentIDs) || overlap(c.AccountIDs, accountIDs) || overlap(c.Digests, digests) {
			out = append(out, cloneCase(c))
		}
	}
	return out, nil
}

func (m *Memory) OpenCases(context.Context) ([]review.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []review.Case
	for _, c := range m.cases {
		if c.State != review.Decided {
			out = append(out, cloneCase(c))
		}
	}
	return out, nil
}

func (m *Memory) CountOpenCases(_ context.Context, now time.Time) ([]review.QueueCount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	by := map[review.Queue]*review.QueueCount{}
	var out []review.QueueCount
	for _, c := range m.cases {
		if c.State == review.Decided {
			continue
		}
		n := by[c.Queue]
		if n == nil {
			n = &review.QueueCount{Queue: c.Queue}
			by[c.Queue] = n
		}
		n.Cases++
		if !now.Before(c.DueAt) {
			n.Overdue++
		} else if n.NextDue.IsZero() || c.DueAt.Before(n.NextDue) {
			n.NextDue = c.DueAt
		}
	}
	for _, n := range by {
		out = append(out, *n)
	}
	return out, nil
}

func (m *Memory) CasesSince(_ context.Context, since time.Time) ([]review.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []review.Case
	for _, c := range m.cases {
		if !c.OpenedAt.Before(since) {
			out = append(out, cloneCase(c))
		}
	}
	return out, nil
}

func (m *Memory) Reports(_ context.Context, since time.Time) ([]review.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []review.Report
	for _, r := range m.reports {
		if !r.ReceivedAt.Before(since) {
			out = append(out, cloneReport(r))
		}
	}
	return out, nil
}

func (m *Memory) ReporterReports(_ context.Context, source review.Source, reporter string) ([]review.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []review.Report
	for _, r := range m.reports {
		if r.Source == source && r.Reporter == reporter {
			out = append(out, cloneReport(r))
		}
	}
	return out, nil
}

func (m *Memory) Reporter(_ context.Context, reporter string) (review.Accuracy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := review.Accuracy{Reporter: reporter}
	for _, r := range m.reports {
		if r.Reporter != reporter {
			continue
		}
		switch r.Status {
		case review.Actioned:
			a.Confirmed++
		case review.NoAction:
			a.Dismissed++
		}
	}
	return a, nil
}

func (m *Memory) NearCases(_ context.Context, h pdq.Hash, d int) ([]review.Near, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []review.Near
	for _, c := range m.cases {
		best := -1
		for _, x := range c.PDQ {
			if dist := pdq.Distance(h, x); dist <= d && (best < 0 || dist < best) {
				best = dist
			}
		}
		if best >= 0 {
			out = append(out, review.Near{CaseID: c.ID, Distance: best})
		}
	}
	return out, nil
}
