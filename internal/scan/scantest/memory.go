// Package scantest has an in-memory scan.Store for tests and the suite every
// scan.Store implementation must pass.
package scantest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/store"
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
		return fmt.Errorf("scan %s: %w", rec.ID, store.ErrExists)
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
		return scan.Record{}, fmt.Errorf("scan %s: %w", id, store.ErrNotFound)
	}
	var rec scan.Record
	err := json.Unmarshal(b, &rec)
	return rec, err
}

// Len returns how many records m holds.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs)
}
