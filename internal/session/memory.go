package session

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Memory is a Store in this process's memory: sessions end when it
// stops, and other processes do not see them. The zero value is empty.
type Memory struct {
	mu      sync.Mutex
	byID    map[ID]*Session
	offered map[ID]map[int64][]string
}

var _ Store = (*Memory)(nil)

func (m *Memory) CreateSession(_ context.Context, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byID == nil {
		m.byID, m.offered = map[ID]*Session{}, map[ID]map[int64][]string{}
	}
	s.Sealed = slices.Clone(s.Sealed)
	m.byID[s.ID] = &s
	return nil
}

func (m *Memory) Session(_ context.Context, id ID) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byID[id]
	if !ok {
		return Session{}, fmt.Errorf("session %s: %w", id, ErrNotFound)
	}
	return *s, nil
}

func (m *Memory) update(id ID, fn func(*Session)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byID[id]
	if !ok {
		return fmt.Errorf("session %s: %w", id, ErrNotFound)
	}
	fn(s)
	return nil
}

func (m *Memory) TouchSession(_ context.Context, id ID, seen time.Time) error {
	return m.update(id, func(s *Session) { s.Seen = seen })
}

func (m *Memory) PutOffBreak(_ context.Context, id ID, at time.Time) error {
	return m.update(id, func(s *Session) { s.BreakAt = at })
}

func (m *Memory) DeleteSession(_ context.Context, id ID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byID, id)
	delete(m.offered, id)
	return nil
}

func (m *Memory) SweepSessions(_ context.Context, idleBefore, startedBefore time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for id, s := range m.byID {
		if s.Seen.Before(idleBefore) || s.Start.Before(startedBefore) {
			delete(m.byID, id)
			delete(m.offered, id)
			n++
		}
	}
	return n, nil
}

func (m *Memory) OfferContent(_ context.Context, id ID, caseID int64, items []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[id]; !ok {
		return fmt.Errorf("session %s: %w", id, ErrNotFound)
	}
	if m.offered[id] == nil {
		m.offered[id] = map[int64][]string{}
	}
	m.offered[id][caseID] = slices.Clone(items)
	return nil
}

func (m *Memory) OfferedContent(_ context.Context, id ID, caseID int64) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.offered[id][caseID]), nil
}
