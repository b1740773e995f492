// Package lereporttest holds an in-memory lereport.Store for tests, and Run,
// the conformance suite the SQLite and PostgreSQL stores must pass too.
package lereporttest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/lereport"
)

// Memory is a lereport.Store in memory, safe for concurrent use; the zero
// value is ready. It keeps each report as JSON, as a SQL store would, so
// callers and the store never share memory and what does not survive
// encoding shows up in tests.
type Memory struct {
	mu      sync.Mutex
	reports map[int64][]byte
	lastID  int64
}

var _ lereport.Store = (*Memory)(nil)

func decode(b []byte) (lereport.Report, error) {
	var r lereport.Report
	err := json.Unmarshal(b, &r)
	return r, err
}

func (m *Memory) CreateLEReport(_ context.Context, r lereport.Report) (lereport.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reports == nil {
		m.reports = map[int64][]byte{}
	}
	m.lastID++
	r.ID = m.lastID
	b, err := json.Marshal(r)
	if err != nil {
		return lereport.Report{}, fmt.Errorf("create report: %w", err)
	}
	m.reports[r.ID] = b
	return decode(b)
}

func (m *Memory) LEReport(_ context.Context, id int64) (lereport.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.reports[id]
	if !ok {
		return lereport.Report{}, fmt.Errorf("report %d: %w", id, lereport.ErrNotFound)
	}
	return decode(b)
}

func (m *Memory) UpdateLEReport(_ context.Context, id int64, update func(*lereport.Report) error) (lereport.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.reports[id]
	if !ok {
		return lereport.Report{}, fmt.Errorf("report %d: %w", id, lereport.ErrNotFound)
	}
	r, err := decode(b)
	if err != nil {
		return lereport.Report{}, err
	}
	if err := update(&r); err != nil {
		return lereport.Report{}, err
	}
	r.ID = id
	if b, err = json.Marshal(r); err != nil {
		return lereport.Report{}, fmt.Errorf("update report %d: %w", id, err)
	}
	m.reports[id] = b
	return decode(b)
}

func (m *Memory) LEReports(_ context.Context, state lereport.State) ([]lereport.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []lereport.Report
	for id := int64(1); id <= m.lastID; id++ {
		b, ok := m.reports[id]
		if !ok {
			continue
		}
		r, err := decode(b)
		if err != nil {
			return nil, err
		}
		if r.State == state {
			out = append(out, r)
		}
	}
	return out, nil
}
