// Package lerequesttest holds an in-memory lerequest.Store for tests, and
// Run, the conformance suite the SQLite and PostgreSQL stores pass too.
package lerequesttest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/scan/scantest"
)

// Memory is a lerequest.Store, and the scan.Store and export.Scans an
// export reads, in memory; safe for concurrent use, the zero value ready. It keeps
// everything as JSON, as a SQL store would, so callers and the store never
// share memory and what does not survive encoding shows up in tests.
type Memory struct {
	scantest.Memory // the scan records, and AccountScans over them

	mu       sync.Mutex
	requests map[int64][]byte
	lastID   int64
}

var (
	_ lerequest.Store = (*Memory)(nil)
	_ scan.Store      = (*Memory)(nil)
	_ export.Scans    = (*Memory)(nil)
)

func decode[T any](b []byte) (T, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

// CreateLERequest implements lerequest.Store.
func (m *Memory) CreateLERequest(_ context.Context, r lerequest.Request) (lerequest.Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastID++
	r.ID = m.lastID
	b, err := json.Marshal(r)
	if err != nil {
		return lerequest.Request{}, fmt.Errorf("creating request: %w", err)
	}
	if m.requests == nil {
		m.requests = map[int64][]byte{}
	}
	m.requests[r.ID] = b
	return decode[lerequest.Request](b)
}

// LERequest implements lerequest.Store.
func (m *Memory) LERequest(_ context.Context, id int64) (lerequest.Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.requests[id]
	if !ok {
		return lerequest.Request{}, fmt.Errorf("request %d: %w", id, lerequest.ErrNotFound)
	}
	return decode[lerequest.Request](b)
}

// UpdateLERequest implements lerequest.Store.
func (m *Memory) UpdateLERequest(_ context.Context, id int64, update func(*lerequest.Request) error) (lerequest.Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.requests[id]
	if !ok {
		return lerequest.Request{}, fmt.Errorf("request %d: %w", id, lerequest.ErrNotFound)
	}
	r, err := decode[lerequest.Request](b)
	if err != nil {
		return lerequest.Request{}, err
	}
	if err := update(&r); err != nil {
		return lerequest.Request{}, err
	}
	r.ID = id
	if b, err = json.Marshal(r); err != nil {
		return lerequest.Request{}, fmt.Errorf("updating request %d: %w", id, err)
	}
	m.requests[id] = b
	return decode[lerequest.Request](b)
}

// LERequests implements lerequest.Store.
func (m *Memory) LERequests(_ context.Context, state lerequest.State) ([]lerequest.Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rs []lerequest.Request
	for _, b := range m.requests {
		r, err := decode[lerequest.Request](b)
		if err != nil {
			return nil, err
		}
		if state == "" || r.State == state {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b lerequest.Request) int { return cmp.Compare(a.ID, b.ID) })
	return rs, nil
}
