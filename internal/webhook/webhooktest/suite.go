package webhooktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Run checks that the stores open makes (a fresh, empty one per call) keep
// the promises of webhook.Outbox and webhook.Webhooks. Times it stores are
// whole microseconds in UTC, which every backend keeps exactly.
func Run(t *testing.T, open func(t *testing.T) webhook.Store) {
	t.Run("EnqueueAndRead", func(t *testing.T) { testEnqueue(t, open(t)) })
	t.Run("DueOrderLimitLease", func(t *testing.T) { testDue(t, open(t)) })
	t.Run("Outcomes", func(t *testing.T) { testOutcomes(t, open(t)) })
	t.Run("DeadLettersAndReplay", func(t *testing.T) { testReplay(t, open(t)) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("ConcurrentDue", func(t *testing.T) { testConcurrentDue(t, open(t)) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, open(t)) })
}

// t0 is a fixed start for the suite's clock.
var t0 = time.Date(2026, 11, 25, 2, 0, 0, 123456000, time.UTC)

func delivery(id string, due time.Time) webhook.Delivery {
	return webhook.Delivery{
		ID:          id,
		Webhook:     "moderation",
		Event:       "scan.decision",
		Body:        []byte(`{"id":"` + id + `","data":{"ünïcode":"✓"}}`),
		CreatedAt:   t0,
		State:       webhook.Pending,
		NextAttempt: due,
	}
}

func mustEnqueue(t *testing.T, s webhook.Store, ds ...webhook.Delivery) {
	t.Helper()
	if err := s.EnqueueDeliveries(context.Background(), ds...); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

func mustGet(t *testing.T, s webhook.Store, id string) webhook.Delivery {
	t.Helper()
	d, err := s.Delivery(context.Background(), id)
	if err != nil {
		t.Fatalf("Delivery(%q): %v", id, err)
	}
	return d
}

func ids(ds []webhook.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func sameDelivery(a, b webhook.Delivery) error {
	switch {
	case a.ID != b.ID, a.Webhook != b.Webhook, a.Event != b.Event, a.State != b.State,
		a.Attempts != b.Attempts, a.LastError != b.LastError:
		return fmt.Errorf("got %+v, want %+v", a, b)
	case !bytes.Equal(a.Body, b.Body):
		return fmt.Errorf("body %q, want %q", a.Body, b.Body)
	case !a.CreatedAt.Equal(b.CreatedAt), !a.NextAttempt.Equal(b.NextAttempt), !a.DoneAt.Equal(b.DoneAt):
		return fmt.Errorf("times (created, next, done) %v %v %v, want %v %v %v",
			a.CreatedAt, a.NextAttempt, a.DoneAt, b.CreatedAt, b.NextAttempt, b.DoneAt)
	}
	return nil
}

func testEnqueue(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	a, b := delivery("dlv_a", t0), delivery("dlv_b", t0.Add(time.Second))
	mustEnqueue(t, s, a, b)
	for _, want := range []webhook.Delivery{a, b} {
		if err := sameDelivery(mustGet(t, s, want.ID), want); err != nil {
			t.Errorf("after Enqueue: %v", err)
		}
	}
	// Enqueueing again must not reset a delivery that has moved on.
	if err := s.MarkDeliveryFailed(ctx, "dlv_a", 1, t0.Add(time.Minute), "attempt 1: 500"); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, a)
	if got := mustGet(t, s, "dlv_a"); got.Attempts != 1 || got.LastError != "attempt 1: 500" {
		t.Errorf("enqueueing an existing id changed it: %+v", got)
	}
	if p, d, err := s.DeliveryBacklog(ctx); err != nil || p != 2 || d != 0 {
		t.Errorf("Backlog = %d, %d, %v; want 2, 0", p, d, err)
	}
}

func testDue(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	mustEnqueue(t, s,
		delivery("dlv_3", t0.Add(2*time.Second)),
		delivery("dlv_1", t0),
		delivery("dlv_2", t0),
		delivery("dlv_future", t0.Add(time.Hour)))
	now := t0.Add(5 * time.Second)
	got, err := s.DueDeliveries(ctx, now, time.Minute, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(got)) != "[dlv_1 dlv_2]" {
		t.Fatalf("DueDeliveries(limit 2) = %v, want [dlv_1 dlv_2] (earliest first, then by id)", ids(got))
	}
	if !got[0].NextAttempt.Equal(now.Add(time.Minute)) {
		t.Errorf("leased delivery's NextAttempt = %v, want now+lease %v", got[0].NextAttempt, now.Add(time.Minute))
	}
	got, err = s.DueDeliveries(ctx, now, time.Minute, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(got)) != "[dlv_3]" {
		t.Fatalf("second Due = %v, want only [dlv_3]: leased deliveries must be hidden", ids(got))
	}
	if got, _ := s.DueDeliveries(ctx, now, time.Minute, 10, nil); len(got) != 0 {
		t.Fatalf("third Due = %v, want none", ids(got))
	}
	// The lease runs out (a crashed worker): due again.
	got, err = s.DueDeliveries(ctx, now.Add(time.Minute), 2*time.Hour, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(got)) != "[dlv_1 dlv_2 dlv_3]" {
		t.Fatalf("Due after the lease = %v, want [dlv_1 dlv_2 dlv_3]", ids(got))
	}
	// skip leaves out a webhook's deliveries, without leasing them.
	other := delivery("dlv_other", t0)
	other.Webhook = "other"
	mustEnqueue(t, s, other)
	got, err = s.DueDeliveries(ctx, t0.Add(time.Hour), time.Minute, 10, []string{"moderation", "x"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(got)) != "[dlv_other]" {
		t.Fatalf("DueDeliveries skipping webhook moderation = %v, want [dlv_other]", ids(got))
	}
	got, err = s.DueDeliveries(ctx, t0.Add(time.Hour), time.Minute, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(got)) != "[dlv_future]" {
		t.Fatalf("Due at its time = %v, want [dlv_future]", ids(got))
	}
}

func testOutcomes(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	mustEnqueue(t, s, delivery("dlv_ok", t0), delivery("dlv_retry", t0), delivery("dlv_dead", t0))
	if _, err := s.DueDeliveries(ctx, t0, time.Minute, 10, nil); err != nil {
		t.Fatal(err)
	}
	done := t0.Add(3 * time.Second)
	next := t0.Add(30 * time.Second)
	for _, err := range []error{
		s.MarkDelivered(ctx, "dlv_ok", 1, done),
		s.MarkDeliveryFailed(ctx, "dlv_retry", 1, next, "attempt 1: 503 Service Unavailable"),
		s.MarkDeliveryDead(ctx, "dlv_dead", 1, done, "attempt 1: 410 Gone"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]webhook.Delivery{}
	for _, id := range []string{"dlv_ok", "dlv_retry", "dlv_dead"} {
		want[id] = delivery(id, t0.Add(time.Minute))
	}
	w := want["dlv_ok"]
	w.State, w.Attempts, w.DoneAt = webhook.Delivered, 1, done
	want["dlv_ok"] = w
	w = want["dlv_retry"]
	w.Attempts, w.NextAttempt, w.LastError = 1, next, "attempt 1: 503 Service Unavailable"
	want["dlv_retry"] = w
	w = want["dlv_dead"]
	w.State, w.Attempts, w.DoneAt, w.LastError = webhook.Dead, 1, done, "attempt 1: 410 Gone"
	want["dlv_dead"] = w
	for id, w := range want {
		if err := sameDelivery(mustGet(t, s, id), w); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if got, _ := s.DueDeliveries(ctx, next, time.Minute, 10, nil); fmt.Sprint(ids(got)) != "[dlv_retry]" {
		t.Errorf("Due at the retry time = %v, want [dlv_retry]", ids(got))
	}
	if p, d, err := s.DeliveryBacklog(ctx); err != nil || p != 1 || d != 1 {
		t.Errorf("Backlog = %d, %d, %v; want 1, 1", p, d, err)
	}

	// A late failure must not undo a success or a death.
	if err := s.MarkDeliveryFailed(ctx, "dlv_ok", 2, next, "late"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeliveryDead(ctx, "dlv_ok", 2, next, "late"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeliveryFailed(ctx, "dlv_dead", 2, next, "late"); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "dlv_ok"); got.State != webhook.Delivered || got.LastError != "" {
		t.Errorf("a failure after delivery changed it: %+v", got)
	}
	if got := mustGet(t, s, "dlv_dead"); got.State != webhook.Dead || got.Attempts != 1 {
		t.Errorf("a failure after death changed it: %+v", got)
	}
	// A success after death (another process gave up meanwhile) wins.
	if err := s.MarkDelivered(ctx, "dlv_dead", 2, next); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "dlv_dead"); got.State != webhook.Delivered || got.Attempts != 2 || !got.DoneAt.Equal(next) {
		t.Errorf("a success after death: %+v, want delivered, 2 attempts, done at %v", got, next)
	}
}

func testReplay(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	mustEnqueue(t, s, delivery("dlv_x", t0), delivery("dlv_y", t0), delivery("dlv_z", t0))
	if err := s.MarkDeliveryDead(ctx, "dlv_y", 8, t0.Add(2*time.Hour), "gave up"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeliveryDead(ctx, "dlv_x", 3, t0.Add(3*time.Hour), "410 Gone"); err != nil {
		t.Fatal(err)
	}
	dead, err := s.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(dead)) != "[dlv_y dlv_x]" {
		t.Fatalf("DeadLetters = %v, want [dlv_y dlv_x] (first to die first)", ids(dead))
	}
	if dead, _ := s.DeadLetters(ctx, 1); fmt.Sprint(ids(dead)) != "[dlv_y]" {
		t.Errorf("DeadLetters(1) = %v, want [dlv_y]", ids(dead))
	}
	now := t0.Add(4 * time.Hour)
	if err := s.ReplayDeadLetter(ctx, "dlv_y", now); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, "dlv_y")
	if got.State != webhook.Pending || got.Attempts != 0 || !got.NextAttempt.Equal(now) || got.ID != "dlv_y" ||
		!bytes.Equal(got.Body, delivery("dlv_y", t0).Body) || got.LastError != "gave up" {
		t.Errorf("replayed: %+v, want pending, 0 attempts, due %v, same id, body and last error", got, now)
	}
	if due, _ := s.DueDeliveries(ctx, now, time.Minute, 10, nil); fmt.Sprint(ids(due)) != "[dlv_z dlv_y]" {
		t.Errorf("Due after replay = %v, want [dlv_z dlv_y]", ids(due))
	}
	for _, id := range []string{"dlv_y", "dlv_z", "dlv_nope"} { // pending, pending, unknown
		if err := s.ReplayDeadLetter(ctx, id, now); !errors.Is(err, webhook.ErrNotFound) {
			t.Errorf("ReplayDeadLetter(%s) = %v, want ErrNotFound: only dead letters replay", id, err)
		}
	}
	if p, d, err := s.DeliveryBacklog(ctx); err != nil || p != 2 || d != 1 {
		t.Errorf("Backlog = %d, %d, %v; want 2, 1", p, d, err)
	}
}

func testPrune(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	mustEnqueue(t, s, delivery("dlv_old", t0), delivery("dlv_new", t0), delivery("dlv_dead", t0), delivery("dlv_pending", t0))
	for _, err := range []error{
		s.MarkDelivered(ctx, "dlv_old", 1, t0.Add(time.Hour)),
		s.MarkDelivered(ctx, "dlv_new", 1, t0.Add(3*time.Hour)),
		s.MarkDeliveryDead(ctx, "dlv_dead", 1, t0.Add(time.Hour), "410 Gone"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneDeliveries(ctx, t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PruneDeliveries = %d, %v; want 1", n, err)
	}
	if _, err := s.Delivery(ctx, "dlv_old"); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("pruned delivery: %v, want ErrNotFound", err)
	}
	for _, id := range []string{"dlv_new", "dlv_dead", "dlv_pending"} {
		mustGet(t, s, id)
	}
	if n, err := s.PruneDeliveries(ctx, t0.Add(2*time.Hour)); err != nil || n != 0 {
		t.Errorf("second PruneDeliveries = %d, %v; want 0", n, err)
	}
}

func testNotFound(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	for name, err := range map[string]error{
		"MarkDelivered": s.MarkDelivered(ctx, "dlv_none", 1, t0),
		"MarkFailed":    s.MarkDeliveryFailed(ctx, "dlv_none", 1, t0, "x"),
		"MarkDead":      s.MarkDeliveryDead(ctx, "dlv_none", 1, t0, "x"),
	} {
		if !errors.Is(err, webhook.ErrNotFound) {
			t.Errorf("%s of an unknown id = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.Delivery(ctx, "dlv_none"); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("Delivery of an unknown id = %v, want ErrNotFound", err)
	}
	if got, err := s.DueDeliveries(ctx, t0, time.Minute, 10, nil); err != nil || len(got) != 0 {
		t.Errorf("Due on an empty outbox = %v, %v", got, err)
	}
	if got, err := s.DeadLetters(ctx, 10); err != nil || len(got) != 0 {
		t.Errorf("DeadLetters on an empty outbox = %v, %v", got, err)
	}
}

// testConcurrentDue polls from many goroutines at once: each delivery must
// be handed out exactly once, whatever the store's locking.
func testConcurrentDue(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	const n = 200
	var all []webhook.Delivery
	for i := range n {
		all = append(all, delivery(fmt.Sprintf("dlv_%03d", i), t0))
	}
	mustEnqueue(t, s, all...)
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for {
				got, err := s.DueDeliveries(ctx, t0, time.Hour, 7, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d distinct deliveries handed out, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s handed out %d times under one lease", id, c)
		}
	}
}

func testWebhooks(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	b := webhook.Endpoint{Name: "b.hook", URL: "https://example.org/b", Secret: "whsec_0123456789abcdef", Enabled: true, CreatedAt: t0}
	a := webhook.Endpoint{Name: "a-hook", URL: "http://127.0.0.1:9/a", Secret: "whsec_fedcba9876543210", CreatedAt: t0}
	for _, e := range []webhook.Endpoint{b, a} {
		if err := s.CreateWebhook(ctx, e); err != nil {
			t.Fatalf("CreateWebhook(%s): %v", e.Name, err)
		}
	}
	if err := s.CreateWebhook(ctx, a); !errors.Is(err, webhook.ErrExists) {
		t.Errorf("creating a taken name = %v, want ErrExists", err)
	}
	list, err := s.ListWebhooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "a-hook" || list[1].Name != "b.hook" {
		t.Fatalf("ListWebhooks = %+v, want a-hook, b.hook", list)
	}
	a.URL, a.Secret, a.Enabled = "https://example.org/a2", "whsec_rotated-rotated", true
	if err := s.UpdateWebhook(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.Webhook(ctx, "a-hook")
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != a.URL || got.Secret != a.Secret || !got.Enabled || !got.CreatedAt.Equal(t0) || got.PreviousSecret != "" || !got.PreviousUntil.IsZero() {
		t.Errorf("after update: %+v, want %+v", got, a)
	}
	// A rotation keeps the old secret and the end of its overlap (issue
	// 12): a store that dropped them would sign with the new one alone.
	rotated, err := got.Rotate("whsec_second-second-second", t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateWebhook(ctx, rotated); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Webhook(ctx, "a-hook"); err != nil {
		t.Fatal(err)
	}
	if got.Secret != "whsec_second-second-second" || got.PreviousSecret != a.Secret || !got.PreviousUntil.Equal(t0.Add(time.Hour)) {
		t.Errorf("after a rotation: secret %q previous %q until %v, want the new, the old, and %v", got.Secret, got.PreviousSecret, got.PreviousUntil, t0.Add(time.Hour))
	}
	if err := s.DeleteWebhook(ctx, "a-hook"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webhook(ctx, "a-hook"); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("Endpoint after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebhook(ctx, "a-hook"); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("deleting twice = %v, want ErrNotFound", err)
	}
	if err := s.UpdateWebhook(ctx, a); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("updating a deleted webhook = %v, want ErrNotFound", err)
	}
}
