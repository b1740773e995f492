// Package webhooktest holds an in-memory webhook.Store for tests, and Run,
// the conformance suite that the SQLite and PostgreSQL stores pass too.
package webhooktest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Memory is a webhook.Store in memory. It is safe for concurrent use, and
// keeps everything until it is dropped; the zero value is ready.
type Memory struct {
	mu         sync.Mutex
	deliveries map[string]webhook.Delivery
	endpoints  map[string]webhook.Endpoint
}

var _ webhook.Store = (*Memory)(nil)

func (m *Memory) EnqueueDeliveries(_ context.Context, ds ...webhook.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range ds {
		if d.ID == "" {
			return fmt.Errorf("enqueue: a delivery to %q has no id", d.Webhook)
		}
	}
	if m.deliveries == nil {
		m.deliveries = make(map[string]webhook.Delivery)
	}
	for _, d := range ds {
		if _, ok := m.deliveries[d.ID]; !ok {
			d.Body = slices.Clone(d.Body)
			m.deliveries[d.ID] = d
		}
	}
	return nil
}

// sorted returns the deliveries for which keep holds, ordered by key then ID.
func (m *Memory) sorted(keep func(webhook.Delivery) bool, key func(webhook.Delivery) time.Time) []webhook.Delivery {
	var out []webhook.Delivery
	for _, d := range m.deliveries {
		if keep(d) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b webhook.Delivery) int {
		return cmp.Or(key(a).Compare(key(b)), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func (m *Memory) DueDeliveries(_ context.Context, now time.Time, lease time.Duration, limit int, skip []string) ([]webhook.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	due := m.sorted(func(d webhook.Delivery) bool {
		return d.State == webhook.Pending && !d.NextAttempt.After(now) && !slices.Contains(skip, d.Webhook)
	}, func(d webhook.Delivery) time.Time { return d.NextAttempt })
	if len(due) > limit {
		due = due[:max(limit, 0)]
	}
	for i := range due {
		due[i].NextAttempt = now.Add(lease)
		m.deliveries[due[i].ID] = due[i]
		due[i].Body = slices.Clone(due[i].Body)
	}
	return due, nil
}

// update applies f to the delivery id under the lock.
func (m *Memory) update(id string, f func(*webhook.Delivery)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.deliveries[id]
	if !ok {
		return fmt.Errorf("delivery %q: %w", id, webhook.ErrNotFound)
	}
	f(&d)
	m.deliveries[id] = d
	return nil
}

func (m *Memory) MarkDelivered(_ context.Context, id string, attempts int, at time.Time) error {
	return m.update(id, func(d *webhook.Delivery) {
		d.State, d.Attempts, d.DoneAt = webhook.Delivered, attempts, at
	})
}

func (m *Memory) MarkDeliveryFailed(_ context.Context, id string, attempts int, next time.Time, reason string) error {
	return m.update(id, func(d *webhook.Delivery) {
		if d.State == webhook.Pending {
			d.Attempts, d.NextAttempt, d.LastError = attempts, next, reason
		}
	})
}

func (m *Memory) MarkDeliveryDead(_ context.Context, id string, attempts int, at time.Time, reason string) error {
	return m.update(id, func(d *webhook.Delivery) {
		if d.State == webhook.Pending {
			d.State, d.Attempts, d.DoneAt, d.LastError = webhook.Dead, attempts, at, reason
		}
	})
}

func (m *Memory) DeadLetters(_ context.Context, limit int) ([]webhook.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dead := m.sorted(func(d webhook.Delivery) bool { return d.State == webhook.Dead },
		func(d webhook.Delivery) time.Time { return d.DoneAt })
	if len(dead) > limit {
		dead = dead[:max(limit, 0)]
	}
	return dead, nil
}

func (m *Memory) ReplayDeadLetter(_ context.Context, id string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.deliveries[id]
	if !ok || d.State != webhook.Dead {
		return fmt.Errorf("dead letter %q: %w", id, webhook.ErrNotFound)
	}
	d.State, d.Attempts, d.NextAttempt, d.DoneAt = webhook.Pending, 0, now, time.Time{}
	m.deliveries[id] = d
	return nil
}

func (m *Memory) Delivery(_ context.Context, id string) (webhook.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.deliveries[id]
	if !ok {
		return webhook.Delivery{}, fmt.Errorf("delivery %q: %w", id, webhook.ErrNotFound)
	}
	d.Body = slices.Clone(d.Body)
	return d, nil
}

func (m *Memory) PruneDeliveries(_ context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for id, d := range m.deliveries {
		if d.State == webhook.Delivered && d.DoneAt.Before(before) {
			delete(m.deliveries, id)
			n++
		}
	}
	return n, nil
}

func (m *Memory) DeliveryBacklog(context.Context) (pending, dead int64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.deliveries {
		switch d.State {
		case webhook.Pending:
			pending++
		case webhook.Dead:
			dead++
		}
	}
	return pending, dead, nil
}

func (m *Memory) Webhook(_ context.Context, name string) (webhook.Endpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.endpoints[name]
	if !ok {
		return webhook.Endpoint{}, fmt.Errorf("webhook %q: %w", name, webhook.ErrNotFound)
	}
	return e, nil
}

func (m *Memory) ListWebhooks(context.Context) ([]webhook.Endpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]webhook.Endpoint, 0, len(m.endpoints))
	for _, e := range m.endpoints {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b webhook.Endpoint) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

func (m *Memory) CreateWebhook(_ context.Context, e webhook.Endpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.endpoints[e.Name]; ok {
		return fmt.Errorf("webhook %q: %w", e.Name, webhook.ErrExists)
	}
	if m.endpoints == nil {
		m.endpoints = make(map[string]webhook.Endpoint)
	}
	m.endpoints[e.Name] = e
	return nil
}

func (m *Memory) UpdateWebhook(_ context.Context, e webhook.Endpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.endpoints[e.Name]
	if !ok {
		return fmt.Errorf("webhook %q: %w", e.Name, webhook.ErrNotFound)
	}
	old.URL, old.Secret, old.Enabled = e.URL, e.Secret, e.Enabled
	old.PreviousSecret, old.PreviousUntil = e.PreviousSecret, e.PreviousUntil
	m.endpoints[e.Name] = old
	return nil
}

func (m *Memory) DeleteWebhook(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.endpoints[name]; !ok {
		return fmt.Errorf("webhook %q: %w", name, webhook.ErrNotFound)
	}
	delete(m.endpoints, name)
	return nil
}
