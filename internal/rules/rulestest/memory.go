// Package rulestest holds an in-memory rules.Store for tests, and Run, the
// conformance suite that the SQLite and PostgreSQL stores pass too.
package rulestest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/rules"
)

// Memory is a rules.Store in memory, safe for concurrent use; the zero
// value is ready.
type Memory struct {
	mu       sync.Mutex
	versions map[int64][]rules.Rule // every version, oldest first
	lastID   int64
}

var _ rules.Store = (*Memory)(nil)

// clone copies r's slices and pointer, so that callers and the store never
// share memory.
func clone(r rules.Rule) rules.Rule {
	r.Banks = slices.Clone(r.Banks)
	r.Signals = slices.Clone(r.Signals)
	r.Surfaces = slices.Clone(r.Surfaces)
	r.Visibility = slices.Clone(r.Visibility)
	r.Categories = slices.Clone(r.Categories)
	r.Actions = slices.Clone(r.Actions)
	r.TextLabels = slices.Clone(r.TextLabels)
	if r.MinTextScore != nil {
		v := *r.MinTextScore
		r.MinTextScore = &v
	}
	if r.MaxDistance != nil {
		d := *r.MaxDistance
		r.MaxDistance = &d
	}
	return r
}

func (m *Memory) ListRules(context.Context) ([]rules.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []rules.Rule{}
	for id := int64(1); id <= m.lastID; id++ {
		if vs := m.versions[id]; len(vs) > 0 {
			out = append(out, clone(vs[len(vs)-1]))
		}
	}
	return out, nil
}

func (m *Memory) Rule(_ context.Context, id int64) (rules.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.versions[id]
	if len(vs) == 0 {
		return rules.Rule{}, fmt.Errorf("rule %d: %w", id, rules.ErrNotFound)
	}
	return clone(vs[len(vs)-1]), nil
}

func (m *Memory) CreateRule(_ context.Context, r rules.Rule) (rules.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.versions == nil {
		m.versions = make(map[int64][]rules.Rule)
	}
	m.lastID++
	r = clone(r)
	r.ID, r.Version = m.lastID, 1
	m.versions[r.ID] = []rules.Rule{r}
	return clone(r), nil
}

func (m *Memory) UpdateRule(_ context.Context, r rules.Rule) (rules.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.versions[r.ID]
	if len(vs) == 0 {
		return rules.Rule{}, fmt.Errorf("rule %d: %w", r.ID, rules.ErrNotFound)
	}
	if latest := vs[len(vs)-1].Version; r.Version != latest {
		return rules.Rule{}, fmt.Errorf("rule %d: update of version %d, latest is %d: %w", r.ID, r.Version, latest, rules.ErrConflict)
	}
	r = clone(r)
	r.Version++
	m.versions[r.ID] = append(vs, r)
	return clone(r), nil
}

func (m *Memory) RuleHistory(_ context.Context, id int64) ([]rules.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.versions[id]
	if len(vs) == 0 {
		return nil, fmt.Errorf("rule %d: %w", id, rules.ErrNotFound)
	}
	out := make([]rules.Rule, len(vs))
	for i, r := range vs {
		out[i] = clone(r)
	}
	return out, nil
}
