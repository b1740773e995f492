// Package noticetest holds an in-memory notice.Store for tests and Run,
// the suite the SQLite and PostgreSQL stores pass too.
package noticetest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/notice"
)

// Memory is a notice.Store in memory, safe for concurrent use; the zero
// value is ready.
type Memory struct {
	mu      sync.Mutex
	notices []notice.Notice // notice i+1 at index i
	events  map[int64][]notice.Event
}

var _ notice.Store = (*Memory)(nil)

// clone copies n through JSON, as a store would, so callers never share
// memory with the store.
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func us(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (m *Memory) CreateNotice(_ context.Context, n notice.Notice) (notice.Notice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n.ID, n.Version = int64(len(m.notices)+1), 1
	n.CreatedAt, n.NextAt = us(n.CreatedAt), us(n.NextAt)
	m.notices = append(m.notices, clone(n))
	return clone(n), nil
}

func (m *Memory) Notice(_ context.Context, id int64) (notice.Notice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.notices)) {
		return notice.Notice{}, fmt.Errorf("notice %d: %w", id, notice.ErrNotFound)
	}
	return clone(m.notices[id-1]), nil
}

func (m *Memory) Notices(context.Context) ([]notice.Notice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return clone(m.notices), nil
}

func (m *Memory) SaveNotice(_ context.Context, n notice.Notice, evs []notice.Event) (notice.Notice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n.ID < 1 || n.ID > int64(len(m.notices)) {
		return notice.Notice{}, fmt.Errorf("notice %d: %w", n.ID, notice.ErrNotFound)
	}
	if m.notices[n.ID-1].Version != n.Version {
		return notice.Notice{}, fmt.Errorf("notice %d: %w", n.ID, notice.ErrConflict)
	}
	n.Version++
	n = clone(n)
	m.notices[n.ID-1] = n
	if m.events == nil {
		m.events = map[int64][]notice.Event{}
	}
	for _, e := range evs {
		e.NoticeID, e.Seq, e.At = n.ID, len(m.events[n.ID])+1, us(e.At)
		m.events[n.ID] = append(m.events[n.ID], clone(e))
	}
	return clone(n), nil
}

func (m *Memory) NoticeEvents(_ context.Context, id int64) ([]notice.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return clone(m.events[id]), nil
}

func (m *Memory) DueNotices(_ context.Context, now time.Time, lease time.Duration, limit int) ([]notice.Notice, error) {
	if limit <= 0 {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*notice.Notice
	for i := range m.notices {
		if n := &m.notices[i]; n.State == notice.Open && !n.NextAt.After(now) {
			due = append(due, n)
		}
	}
	slices.SortFunc(due, func(a, b *notice.Notice) int { return cmp.Or(a.NextAt.Compare(b.NextAt), cmp.Compare(a.ID, b.ID)) })
	out := []notice.Notice{}
	for _, n := range due[:min(limit, len(due))] {
		n.NextAt = us(now.Add(lease))
		out = append(out, clone(*n))
	}
	return out, nil
}
