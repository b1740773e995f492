package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/webhook"
	"github.com/safeguard-oss/safeguard/internal/webhook/webhooktest"
)

func TestWebhooks(t *testing.T) {
	testURL(t)
	webhooktest.Run(t, func(t *testing.T) webhook.Store { return openTest(t) })
	t.Run("EnqueueNothing", func(t *testing.T) {
		s := openTest(t)
		if err := s.EnqueueDeliveries(t.Context()); err != nil {
			t.Errorf("enqueueing no deliveries: %v", err)
		}
		if p, d, err := s.DeliveryBacklog(t.Context()); p != 0 || d != 0 || err != nil {
			t.Errorf("backlog after enqueueing nothing = %d, %d, %v", p, d, err)
		}
	})
}

// BenchmarkOutbox measures one delivery's way through the outbox: enqueued,
// leased by a poll, marked delivered.
func BenchmarkOutbox(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	now := time.Now()
	var n int
	for b.Loop() {
		n++
		d, err := webhook.NewDelivery("moderation", "scan.decision", map[string]int{"n": n}, now)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.EnqueueDeliveries(ctx, d); err != nil {
			b.Fatal(err)
		}
		due, err := s.DueDeliveries(ctx, now, time.Minute, 8, nil)
		if err != nil || len(due) != 1 {
			b.Fatalf("DueDeliveries = %d deliveries, %v; want 1", len(due), err)
		}
		if err := s.MarkDelivered(ctx, d.ID, 1, now); err != nil {
			b.Fatal(err)
		}
	}
}
