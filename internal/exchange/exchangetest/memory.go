// Package exchangetest has in-memory implementations of the storage an
// exchange.Runner needs, for tests and benchmarks.
package exchangetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// Memory is an exchange.Sink and exchange.Checkpoints in memory, with the
// all-or-nothing Apply the interfaces ask for. The zero value is ready.
type Memory struct {
	// Fail, if set, is called before each batch is applied; an error it
	// returns is Apply's, and nothing is applied (a crash, a full disk).
	Fail func(exchange.Batch) error

	mu          sync.Mutex
	banks       map[string]map[string][]bank.Entry // bank -> record ID -> entries
	checkpoints map[string]exchange.Checkpoint
	applied     int
	changed     int // record IDs whose entries an Apply actually changed
}

// Apply implements exchange.Sink.
func (m *Memory) Apply(ctx context.Context, b exchange.Batch) error {
	if m.Fail != nil {
		if err := m.Fail(b); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, c := range b.Changes { // all or nothing: check before changing anything
		for _, e := range c.Entries {
			if _, err := e.Normalize(); err != nil {
				return fmt.Errorf("record %q: %w", c.ID, err)
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.banks == nil {
		m.banks = map[string]map[string][]bank.Entry{}
		m.checkpoints = map[string]exchange.Checkpoint{}
	}
	recs := m.banks[b.Bank]
	if recs == nil {
		recs = map[string][]bank.Entry{}
		m.banks[b.Bank] = recs
	}
	if b.Complete {
		keep := make(map[string]bool, len(b.Changes))
		for _, c := range b.Changes {
			keep[c.ID] = true
		}
		for id := range recs {
			if !keep[id] {
				delete(recs, id)
				m.changed++
			}
		}
	}
	for _, c := range b.Changes {
		old, had := recs[c.ID]
		if len(c.Entries) == 0 {
			if had {
				delete(recs, c.ID)
				m.changed++
			}
			continue
		}
		if had && sameValues(old, c.Entries) {
			continue // unchanged: a re-fetched page touches nothing
		}
		recs[c.ID] = slices.Clone(c.Entries)
		m.changed++
	}
	m.checkpoints[b.Exchange] = b.Checkpoint
	m.applied++
	return nil
}

func sameValues(a, b []bank.Entry) bool {
	return slices.EqualFunc(a, b, func(x, y bank.Entry) bool {
		return x.Signal == y.Signal && x.Value == y.Value && x.Category == y.Category && x.Note == y.Note
	})
}

// Load implements exchange.Checkpoints.
func (m *Memory) Load(ctx context.Context, name string) (exchange.Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checkpoints[name], ctx.Err()
}

// Entries returns a bank's entries ordered by signal and value.
func (m *Memory) Entries(bankName string) []bank.Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []bank.Entry
	for _, es := range m.banks[bankName] {
		out = append(out, es...)
	}
	slices.SortFunc(out, func(a, b bank.Entry) int {
		if c := strings.Compare(string(a.Signal), string(b.Signal)); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out
}

// Len returns the number of entries a bank holds.
func (m *Memory) Len(bankName string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, es := range m.banks[bankName] {
		n += len(es)
	}
	return n
}

// Has reports whether a bank holds a value of a signal.
func (m *Memory) Has(bankName string, sig bank.Signal, value string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, es := range m.banks[bankName] {
		for _, e := range es {
			if e.Signal == sig && e.Value == value {
				return true
			}
		}
	}
	return false
}

// Applied returns how many batches were applied, and how many record IDs
// those batches actually changed.
func (m *Memory) Applied() (batches, changed int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applied, m.changed
}

// Lock is an exchange.Lock within one process, standing in for the
// cross-node lock a server takes in its database. The zero value is ready.
type Lock struct {
	mu   sync.Mutex
	held map[string]bool
}

// TryLock implements exchange.Lock.
func (l *Lock) TryLock(ctx context.Context, name string) (func(), bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, false, nil
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	l.held[name] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			delete(l.held, name)
		})
	}, true, nil
}

// Statuses is an exchange.StatusStore in memory, standing in for the
// table every node of a server reads. The zero value is ready.
type Statuses struct {
	mu sync.Mutex
	m  map[string][]byte
}

// ExchangeStatus implements exchange.StatusStore.
func (s *Statuses) ExchangeStatus(ctx context.Context, name string) (exchange.Status, bool, error) {
	s.mu.Lock()
	b, ok := s.m[name]
	s.mu.Unlock()
	var st exchange.Status
	if !ok {
		return st, false, nil
	}
	// Kept as JSON, as the SQL stores keep it, so that what does not
	// survive the trip fails here too.
	return st, true, json.Unmarshal(b, &st)
}

// SetExchangeStatus implements exchange.StatusStore.
func (s *Statuses) SetExchangeStatus(ctx context.Context, st exchange.Status) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[st.Name] = b
	return nil
}
