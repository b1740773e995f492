// Package audittest provides an in-memory audit.Store, for tests of the
// audit package and of the packages that record to it.
package audittest

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/audit"
)

// Memory is an audit.Store that keeps entries in a slice. The zero value is
// an empty log. Unlike a real store it lets tests tamper with what it holds.
type Memory struct {
	mu      sync.Mutex
	entries []audit.Entry
}

// AppendAudit implements audit.Store.
func (m *Memory) AppendAudit(ctx context.Context, build func(last *audit.Entry) (audit.Entry, error)) (audit.Entry, error) {
	if err := ctx.Err(); err != nil {
		return audit.Entry{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var last *audit.Entry
	if n := len(m.entries); n > 0 {
		l := m.entries[n-1]
		last = &l
	}
	e, err := build(last)
	if err != nil {
		return audit.Entry{}, err
	}
	want := int64(1)
	if last != nil {
		want = last.Seq + 1
	}
	if e.Seq != want {
		return audit.Entry{}, fmt.Errorf("audittest: append entry %d: the next entry is %d", e.Seq, want)
	}
	m.entries = append(m.entries, e)
	return e, nil
}

// AuditEntries implements audit.Store. It yields entries in the order they are
// held, which tampering may have made other than Seq order.
func (m *Memory) AuditEntries(ctx context.Context, fromSeq int64) iter.Seq2[audit.Entry, error] {
	return func(yield func(audit.Entry, error) bool) {
		m.mu.Lock()
		entries := slices.Clone(m.entries)
		m.mu.Unlock()
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				yield(audit.Entry{}, err)
				return
			}
			if e.Seq >= fromSeq && !yield(e, nil) {
				return
			}
		}
	}
}

// LastAudit implements audit.Store.
func (m *Memory) LastAudit(ctx context.Context) (*audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) == 0 {
		return nil, ctx.Err()
	}
	e := m.entries[len(m.entries)-1]
	return &e, ctx.Err()
}

// Tamper replaces the entries with what edit returns, as someone with write
// access to the database could.
func (m *Memory) Tamper(edit func(entries []audit.Entry) []audit.Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = edit(slices.Clone(m.entries))
}
