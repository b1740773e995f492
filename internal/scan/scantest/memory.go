// Package scantest has an in-memory scan.Store for tests and the suite every
// scan.Store implementation must pass.
package scantest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

// Memory is a scan.Store in a map. The zero value is empty and ready; it is
// safe for concurrent use.
type Memory struct {
	mu   sync.Mutex
	recs map[string][]byte // JSON, so callers never share slices with the store
}

var _ scan.Store = (*Memory)(nil)

// RecordScan implements scan.Store.
func (m *Memory) RecordScan(_ context.Context, rec scan.Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.recs[rec.ID]; ok {
		return fmt.Errorf("scan %s: %w", rec.ID, derrors.Exists)
	}
	if m.recs == nil {
		m.recs = map[string][]byte{}
	}
	m.recs[rec.ID] = b
	return nil
}

// ScanRecord implements scan.Store.
func (m *Memory) ScanRecord(_ context.Context, id string) (scan.Record, error) {
	m.mu.Lock()
	b, ok := m.recs[id]
	m.mu.Unlock()
	if !ok {
		return scan.Record{}, fmt.Errorf("scan %s: %w", id, derrors.NotFound)
	}
	var rec scan.Record
	err := json.Unmarshal(b, &rec)
	return rec, err
}

// AccountScans returns the records of the accounts' scans with from <= time
// < to, by time then id: the export of a data request reads them
// (internal/lerequest/export.Scans), as it does from the SQL stores.
func (m *Memory) AccountScans(_ context.Context, accounts []string, from, to time.Time) ([]scan.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []scan.Record
	for _, b := range m.recs {
		var rec scan.Record
		if err := json.Unmarshal(b, &rec); err != nil {
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

// Len returns how many records m holds.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs)
}
