// Package selfreporttest has an in-memory selfreport.Store and Run, the
// suite every implementation must pass.
package selfreporttest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/selfreport"
)

// Memory is a selfreport.Store in memory. The zero value is empty.
type Memory struct {
	mu    sync.Mutex
	cases map[string]selfreport.Case
}

var _ selfreport.Store = (*Memory)(nil)

// CreateSelfReport implements selfreport.Store.
func (m *Memory) CreateSelfReport(_ context.Context, c selfreport.Case) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cases == nil {
		m.cases = map[string]selfreport.Case{}
	}
	if _, ok := m.cases[c.Code]; ok {
		return fmt.Errorf("case %s: %w", c.Code, selfreport.ErrExists)
	}
	c.Images, c.Videos = slices.Clone(c.Images), slices.Clone(c.Videos)
	m.cases[c.Code] = c
	return nil
}

// SelfReport implements selfreport.Store.
func (m *Memory) SelfReport(_ context.Context, code string) (selfreport.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases[code]
	if !ok {
		return selfreport.Case{}, fmt.Errorf("case %s: %w", code, selfreport.ErrNoCase)
	}
	c.Images, c.Videos = slices.Clone(c.Images), slices.Clone(c.Videos)
	return c, nil
}

// WithdrawSelfReport implements selfreport.Store.
func (m *Memory) WithdrawSelfReport(_ context.Context, code string, at time.Time) (selfreport.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases[code]
	if !ok {
		return selfreport.Case{}, fmt.Errorf("case %s: %w", code, selfreport.ErrNoCase)
	}
	if c.State == selfreport.Active {
		c.State, c.WithdrawnAt = selfreport.Withdrawn, at
		m.cases[code] = c
	}
	c.Images, c.Videos = slices.Clone(c.Images), slices.Clone(c.Videos)
	return c, nil
}

// SelfReportHolders implements selfreport.Store.
func (m *Memory) SelfReportHolders(_ context.Context, value string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.cases {
		if c.State != selfreport.Active {
			continue
		}
		if slices.ContainsFunc(c.Images, func(im selfreport.Image) bool {
			return im.PDQ == value || im.MD5 == value || im.SHA256 == value
		}) || slices.ContainsFunc(c.Videos, func(v selfreport.Video) bool {
			return v.VPDQ == value || v.MD5 == value || v.SHA256 == value
		}) {
			n++
		}
	}
	return n, nil
}
