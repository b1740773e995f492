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
	"time"

	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/store"
)

// Memory is a lerequest.Store, and the scan.Store and export.Scans an
// export reads, in memory; safe for concurrent use, the zero value ready. It keeps
// everything as JSON, as a SQL store would, so callers and the store never
// share memory and what does not survive encoding shows up in tests.
type Memory struct {
	mu       sync.Mutex
	requests map[int64][]byte
	lastID   int64
	scans    map[string][]byte
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

// AccountScans implements export.Scans.
func (m *Memory) AccountScans(_ context.Context, accounts []string, from, to time.Time) ([]scan.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []scan.Record
	for _, b := range m.scans {
		rec, err := decode[scan.Record](b)
		if err != nil {
			return nil, err
		}
		if rec.AccountID != "" && slices.Contains(accounts, rec.AccountID) && !rec.Time.Before(from) && rec.Time.Before(to) {
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, func(a, b scan.Record) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// RecordScan implements scan.Store.
func (m *Memory) RecordScan(_ context.Context, rec scan.Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.scans[rec.ID]; ok {
		return fmt.Errorf("scan %s: %w", rec.ID, store.ErrExists)
	}
	if m.scans == nil {
		m.scans = map[string][]byte{}
	}
	m.scans[rec.ID] = b
	return nil
}

// ScanRecord implements scan.Store.
func (m *Memory) ScanRecord(_ context.Context, id string) (scan.Record, error) {
	m.mu.Lock()
	b, ok := m.scans[id]
	m.mu.Unlock()
	if !ok {
		return scan.Record{}, fmt.Errorf("scan %s: %w", id, store.ErrNotFound)
	}
	return decode[scan.Record](b)
}
