package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/testkit"
	"github.com/safeguard-oss/safeguard/internal/webhook"
	"github.com/safeguard-oss/safeguard/internal/webhook/webhooktest"
)

// receiver is an httptest server on loopback that records what it got and
// answers with the status codes it is told, one per request, then 200.
type receiver struct {
	*httptest.Server
	secret string
	clock  *testkit.Clock

	mu       sync.Mutex
	statuses []int
	got      []request
	header   http.Header // extra response headers
}

type request struct {
	header http.Header
	body   string
	err    error // from Verify
}

func newReceiver(t *testing.T, c *testkit.Clock, statuses ...int) *receiver {
	r := &receiver{secret: webhook.NewSecret(), clock: c, statuses: statuses, header: http.Header{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		err := webhook.Verify([]byte(r.secret), req.Header.Get(webhook.SignatureHeader), body, c.Now(), webhook.DefaultTolerance)
		r.mu.Lock()
		r.got = append(r.got, request{req.Header.Clone(), string(body), err})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		for k, v := range r.header {
			w.Header()[k] = v
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// metrics counts attempts by outcome.
type metrics struct {
	mu sync.Mutex
	n  map[webhook.Outcome]int
}

func (m *metrics) Attempt(_ string, o webhook.Outcome, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == nil {
		m.n = map[webhook.Outcome]int{}
	}
	m.n[o]++
}

func (m *metrics) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("delivered %d, retry %d, dead %d", m.n[webhook.OutcomeDelivered], m.n[webhook.OutcomeRetry], m.n[webhook.OutcomeDead])
}

var start = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

// setup makes an outbox with the webhook "hook" pointing at rcv.
func setup(t *testing.T, rcv *receiver) *webhooktest.Memory {
	t.Helper()
	store := new(webhooktest.Memory)
	err := store.CreateWebhook(context.Background(), webhook.Endpoint{
		Name: "hook", URL: rcv.URL + "/events", Secret: rcv.secret, Enabled: true, CreatedAt: start,
	})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func enqueue(t *testing.T, store webhook.Outbox, c *testkit.Clock, data any) webhook.Delivery {
	t.Helper()
	d, err := webhook.NewDelivery("hook", "scan.decision", data, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnqueueDeliveries(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// run starts a Dispatcher polling every few milliseconds on the fake
// clock; the returned function stops it and waits for it to finish.
func run(t *testing.T, store webhook.Store, c *testkit.Clock, cfg webhook.Config) (stop func()) {
	t.Helper()
	cfg.PollInterval = 2 * time.Millisecond
	cfg.Now = c.Now
	cfg.Logger = slog.New(slog.DiscardHandler)
	if cfg.Policy.Allow == nil {
		cfg.Policy.Allow = []string{"127.0.0.1/32"} // the receivers are httptest servers
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- webhook.New(store, cfg).Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitState waits (in real time) for delivery id to reach state.
func waitState(t *testing.T, store webhook.Outbox, id string, state webhook.State, attempts int) webhook.Delivery {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := store.Delivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.State == state && d.Attempts == attempts {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s: %s after %d attempts (%q), want %s after %d", id, d.State, d.Attempts, d.LastError, state, attempts)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDeliverSigned(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c)
	store := setup(t, rcv)
	d := enqueue(t, store, c, map[string]any{"content_id": "post-1", "actions": []string{"block"}})
	m := new(metrics)
	run(t, store, c, webhook.Config{Metrics: m})
	got := waitState(t, store, d.ID, webhook.Delivered, 1)
	if !got.DoneAt.Equal(start) {
		t.Errorf("DoneAt = %v, want %v", got.DoneAt, start)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.err != nil {
		t.Errorf("signature: %v", r.err)
	}
	if r.body != string(d.Body) {
		t.Errorf("body %s, want %s", r.body, d.Body)
	}
	want := fmt.Sprintf(`{"id":%q,"event":"scan.decision","created_at":"2026-11-25T03:00:00Z","data":{"actions":["block"],"content_id":"post-1"}}`, d.ID)
	if r.body != want {
		t.Errorf("envelope %s, want %s", r.body, want)
	}
	for k, v := range map[string]string{
		webhook.IdempotencyHeader: d.ID,
		webhook.EventHeader:       "scan.decision",
		webhook.AttemptHeader:     "1",
		"Content-Type":            "application/json",
	} {
		if got := r.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if m.String() != "delivered 1, retry 0, dead 0" {
		t.Errorf("metrics: %s", m)
	}
}

func TestRetryThenDeliver(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c, 500, 503, 408, 200)
	store := setup(t, rcv)
	d := enqueue(t, store, c, "x")
	m := new(metrics)
	run(t, store, c, webhook.Config{Metrics: m, Retry: webhook.Retry{Jitter: -1}})
	var waits []time.Duration
	for n := 1; n <= 3; n++ {
		got := waitState(t, store, d.ID, webhook.Pending, n)
		if !strings.HasPrefix(got.LastError, fmt.Sprintf("attempt %d: ", n)) {
			t.Errorf("LastError %q does not name attempt %d", got.LastError, n)
		}
		waits = append(waits, got.NextAttempt.Sub(c.Now()))
		c.Advance(got.NextAttempt.Sub(c.Now()))
	}
	waitState(t, store, d.ID, webhook.Delivered, 4)
	if fmt.Sprint(waits) != "[30s 1m0s 2m0s]" {
		t.Errorf("waits between attempts %v, want [30s 1m0s 2m0s]", waits)
	}
	reqs := rcv.requests()
	if len(reqs) != 4 {
		t.Fatalf("receiver got %d requests, want 4", len(reqs))
	}
	for i, r := range reqs {
		if r.err != nil {
			t.Errorf("attempt %d: signature: %v", i+1, r.err)
		}
		if k := r.header.Get(webhook.IdempotencyHeader); k != d.ID {
			t.Errorf("attempt %d: idempotency key %q, want %q on every attempt", i+1, k, d.ID)
		}
		if a := r.header.Get(webhook.AttemptHeader); a != strconv.Itoa(i+1) {
			t.Errorf("attempt %d: %s = %q", i+1, webhook.AttemptHeader, a)
		}
		if r.body != string(d.Body) {
			t.Errorf("attempt %d: body changed between attempts", i+1)
		}
	}
	if m.String() != "delivered 1, retry 3, dead 0" {
		t.Errorf("metrics: %s", m)
	}
}

func TestDeadLetterAndReplay(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c, 500, 502, 500)
	store := setup(t, rcv)
	d := enqueue(t, store, c, "x")
	m := new(metrics)
	run(t, store, c, webhook.Config{Metrics: m, Retry: webhook.Retry{MaxAttempts: 3}})
	for n := 1; n <= 2; n++ {
		got := waitState(t, store, d.ID, webhook.Pending, n)
		c.Advance(got.NextAttempt.Sub(c.Now()))
	}
	got := waitState(t, store, d.ID, webhook.Dead, 3)
	// The status and timing, never the body: a webhook aimed at another
	// service would otherwise read its answers back from the dead letters.
	if !regexp.MustCompile(`^attempt 3: 500 Internal Server Error after [0-9.]+m?s \(gave up after 3 attempts\)$`).MatchString(got.LastError) || strings.Contains(got.LastError, "answer 500") {
		t.Errorf("LastError = %q, want the status and timing of the last attempt only", got.LastError)
	}
	dead, err := store.DeadLetters(context.Background(), 10)
	if err != nil || len(dead) != 1 || dead[0].ID != d.ID {
		t.Fatalf("DeadLetters = %v, %v; want [%s]", dead, err, d.ID)
	}
	// A dead letter stays dead however long we wait.
	c.Advance(48 * time.Hour)
	time.Sleep(20 * time.Millisecond)
	if n := len(rcv.requests()); n != 3 {
		t.Fatalf("receiver got %d requests, want 3", n)
	}
	// The receiver is fixed; an admin replays.
	if err := store.ReplayDeadLetter(context.Background(), d.ID, c.Now()); err != nil {
		t.Fatal(err)
	}
	waitState(t, store, d.ID, webhook.Delivered, 1)
	reqs := rcv.requests()
	if len(reqs) != 4 || reqs[3].header.Get(webhook.IdempotencyHeader) != d.ID || reqs[3].err != nil {
		t.Fatalf("replay: %d requests, last with key %q and signature %v; want 4, %q, valid",
			len(reqs), reqs[len(reqs)-1].header.Get(webhook.IdempotencyHeader), reqs[len(reqs)-1].err, d.ID)
	}
	if m.String() != "delivered 1, retry 2, dead 1" {
		t.Errorf("metrics: %s", m)
	}
}

func TestPermanentFailures(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		endpoint func(*webhook.Endpoint) // changes the webhook before the attempt
		want     webhook.State
		reason   string
	}{
		{"400 is permanent", 400, nil, webhook.Dead, `attempt 1: 400 Bad Request after `},
		{"410 is permanent", 410, nil, webhook.Dead, "attempt 1: 410 Gone"},
		{"408 is retried", 408, nil, webhook.Pending, "attempt 1: 408 Request Timeout"},
		{"429 is retried", 429, nil, webhook.Pending, "attempt 1: 429 Too Many Requests"},
		{"301 is not followed", 301, nil, webhook.Pending, "attempt 1: 301 Moved Permanently"},
		{"disabled webhook", 200, func(e *webhook.Endpoint) { e.Enabled = false }, webhook.Dead, `attempt 1: webhook "hook" is disabled`},
		{"bad url", 200, func(e *webhook.Endpoint) { e.URL = "http://[::1" }, webhook.Dead, `attempt 1: webhook "hook": url:`},
		{"not http", 200, func(e *webhook.Endpoint) { e.URL = "file:///etc/passwd" }, webhook.Dead, `attempt 1: webhook "hook": url "file:///etc/passwd": scheme must be http or https`},
		{"empty secret", 200, func(e *webhook.Endpoint) { e.Secret = "" }, webhook.Dead, `attempt 1: webhook "hook": secret is 0 characters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testkit.NewClock(start)
			rcv := newReceiver(t, c, tt.status)
			store := setup(t, rcv)
			if tt.endpoint != nil {
				e, _ := store.Webhook(context.Background(), "hook")
				tt.endpoint(&e)
				if err := store.UpdateWebhook(context.Background(), e); err != nil {
					t.Fatal(err)
				}
			}
			d := enqueue(t, store, c, "x")
			run(t, store, c, webhook.Config{})
			got := waitState(t, store, d.ID, tt.want, 1)
			if !strings.HasPrefix(got.LastError, tt.reason) {
				t.Errorf("LastError = %q, want it to start %q", got.LastError, tt.reason)
			}
		})
	}
}

func TestUnknownWebhook(t *testing.T) {
	c := testkit.NewClock(start)
	store := new(webhooktest.Memory)
	d, err := webhook.NewDelivery("gone", "scan.decision", nil, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnqueueDeliveries(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	run(t, store, c, webhook.Config{})
	got := waitState(t, store, d.ID, webhook.Dead, 1)
	if want := `attempt 1: webhook "gone" does not exist`; got.LastError != want {
		t.Errorf("LastError = %q, want %q", got.LastError, want)
	}
}

func TestRetryAfter(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c, 429)
	rcv.header.Set("Retry-After", "600")
	store := setup(t, rcv)
	d := enqueue(t, store, c, "x")
	run(t, store, c, webhook.Config{})
	got := waitState(t, store, d.ID, webhook.Pending, 1)
	if wait := got.NextAttempt.Sub(start); wait != 10*time.Minute {
		t.Errorf("next attempt in %v, want the 10m the receiver asked for", wait)
	}
}

func TestTimeout(t *testing.T) {
	c := testkit.NewClock(start)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	rcv := &receiver{Server: slow, secret: webhook.NewSecret()}
	store := setup(t, rcv)
	d := enqueue(t, store, c, "x")
	run(t, store, c, webhook.Config{Timeout: 50 * time.Millisecond})
	got := waitState(t, store, d.ID, webhook.Pending, 1)
	if !strings.Contains(got.LastError, "deadline exceeded") {
		t.Errorf("LastError = %q, want a timeout", got.LastError)
	}
}

func TestRedirects(t *testing.T) {
	c := testkit.NewClock(start)
	final := newReceiver(t, c)
	other := newReceiver(t, c) // another port: another host
	tests := []struct {
		name      string
		status    int
		to        func(r *http.Request) string
		want      webhook.State
		finalGets int
	}{
		{"307 on the same host is followed", 307, func(r *http.Request) string { return "/moved" }, webhook.Delivered, 1},
		{"308 on the same host is followed", 308, func(r *http.Request) string { return "/moved" }, webhook.Delivered, 1},
		{"302 would drop the body", 302, func(r *http.Request) string { return "/moved" }, webhook.Pending, 0},
		{"307 to another host", 307, func(r *http.Request) string { return other.URL + "/x" }, webhook.Pending, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gets int
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/moved" {
					body, _ := io.ReadAll(r.Body)
					mu.Lock()
					gets++
					mu.Unlock()
					if r.Method != http.MethodPost || len(body) == 0 {
						w.WriteHeader(400)
					}
					return
				}
				http.Redirect(w, r, tt.to(r), tt.status)
			}))
			t.Cleanup(srv.Close)
			rcv := &receiver{Server: srv, secret: final.secret}
			store := setup(t, rcv)
			d := enqueue(t, store, c, "x")
			stop := run(t, store, c, webhook.Config{})
			got := waitState(t, store, d.ID, tt.want, 1)
			stop()
			mu.Lock()
			defer mu.Unlock()
			if gets != tt.finalGets {
				t.Errorf("redirect target reached %d times, want %d", gets, tt.finalGets)
			}
			if tt.want == webhook.Pending && !strings.Contains(got.LastError, "not followed") {
				t.Errorf("LastError = %q, want it to say the redirect was not followed", got.LastError)
			}
			if n := len(other.requests()); n != 0 {
				t.Errorf("the other host got %d requests", n)
			}
		})
	}
}

// TestRestart: deliveries enqueued while no dispatcher runs, and one that a
// crashed dispatcher had leased, are all delivered by a new Dispatcher over
// the same outbox.
func TestRestart(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c)
	store := setup(t, rcv)
	a := enqueue(t, store, c, "a")
	b := enqueue(t, store, c, "b")
	// A dispatcher leases both and dies before sending anything.
	leased, err := store.DueDeliveries(context.Background(), c.Now(), time.Minute, 10, nil)
	if err != nil || len(leased) != 2 {
		t.Fatalf("Due = %v, %v", leased, err)
	}
	cc := enqueue(t, store, c, "c") // enqueued while nothing runs

	run(t, store, c, webhook.Config{})
	waitState(t, store, cc.ID, webhook.Delivered, 1)
	time.Sleep(20 * time.Millisecond)
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("%d requests before the lease ran out, want 1", n)
	}
	c.Advance(time.Minute)
	waitState(t, store, a.ID, webhook.Delivered, 1)
	waitState(t, store, b.ID, webhook.Delivered, 1)
	keys := map[string]bool{}
	for _, r := range rcv.requests() {
		keys[r.header.Get(webhook.IdempotencyHeader)] = true
	}
	if len(keys) != 3 || !keys[a.ID] || !keys[b.ID] || !keys[cc.ID] {
		t.Errorf("keys received %v, want the three deliveries'", keys)
	}
}

// TestPrune: delivered deliveries go after the retention period, checked
// hourly; dead letters stay.
func TestPrune(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c, 200, 400)
	store := setup(t, rcv)
	run(t, store, c, webhook.Config{Retention: 24 * time.Hour})
	ok := enqueue(t, store, c, "ok")
	waitState(t, store, ok.ID, webhook.Delivered, 1)
	dead := enqueue(t, store, c, "dead") // the receiver's second answer: 400
	waitState(t, store, dead.ID, webhook.Dead, 1)
	c.Advance(24*time.Hour + time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := store.Delivery(context.Background(), ok.ID); errors.Is(err, webhook.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a delivery delivered over a day ago was not pruned")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := store.Delivery(context.Background(), dead.ID); err != nil {
		t.Errorf("dead letter: %v; dead letters must never be pruned", err)
	}
}

// failingMarks is an outbox whose first MarkDelivered fails, as when the
// server dies between the receiver's 200 and recording it.
type failingMarks struct {
	*webhooktest.Memory
	failed atomic.Bool
}

func (f *failingMarks) MarkDelivered(ctx context.Context, id string, attempts int, at time.Time) error {
	if f.failed.CompareAndSwap(false, true) {
		return errors.New("database is locked")
	}
	return f.Memory.MarkDelivered(ctx, id, attempts, at)
}

// TestAtLeastOnce: when the outcome of a successful attempt cannot be
// recorded, the delivery is sent again once its lease runs out, with the
// same idempotency key, so the receiver can tell it is a repeat.
func TestAtLeastOnce(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c)
	store := &failingMarks{Memory: setup(t, rcv)}
	d := enqueue(t, store, c, "x")
	run(t, store, c, webhook.Config{Timeout: time.Second, Lease: 5 * time.Second})
	deadline := time.Now().Add(5 * time.Second)
	for !store.failed.Load() {
		if time.Now().After(deadline) {
			t.Fatal("no attempt was made")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if got, _ := store.Delivery(context.Background(), d.ID); got.State != webhook.Pending || len(rcv.requests()) != 1 {
		t.Fatalf("after the lost outcome: %s with %d requests, want pending (leased) and 1", got.State, len(rcv.requests()))
	}
	c.Advance(5 * time.Second)
	waitState(t, store, d.ID, webhook.Delivered, 1)
	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		if k := r.header.Get(webhook.IdempotencyHeader); k != d.ID {
			t.Errorf("idempotency key %q, want %q on both", k, d.ID)
		}
	}
}

// TestShutdownFinishesAttempts: stopping a Dispatcher lets the attempt in
// flight finish and records it, rather than abandoning a request the
// receiver may already have acted on.
func TestShutdownFinishesAttempts(t *testing.T) {
	c := testkit.NewClock(start)
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
	}))
	t.Cleanup(srv.Close)
	store := setup(t, &receiver{Server: srv, secret: webhook.NewSecret()})
	d := enqueue(t, store, c, "x")
	stop := run(t, store, c, webhook.Config{})
	<-arrived
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Run returned with an attempt in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-stopped
	if got, _ := store.Delivery(context.Background(), d.ID); got.State != webhook.Delivered {
		t.Errorf("after shutdown: %s (%q), want delivered", got.State, got.LastError)
	}
}

// TestHungWebhookDoesNotStarveOthers: a receiver that never answers holds
// at most PerWebhook workers, so another webhook's delivery, enqueued
// behind many of the hung one's, still goes out at once.
func TestHungWebhookDoesNotStarveOthers(t *testing.T) {
	c := testkit.NewClock(start)
	release := make(chan struct{})
	var hung atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung.Add(1)
		<-release
	}))
	t.Cleanup(slow.Close)
	fast := newReceiver(t, c)
	store := setup(t, fast)
	if err := store.CreateWebhook(context.Background(), webhook.Endpoint{Name: "slow", URL: slow.URL, Secret: webhook.NewSecret(), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		d, err := webhook.NewDelivery("slow", "scan.decision", nil, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := store.EnqueueDeliveries(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Second)
	d := enqueue(t, store, c, "behind the hung ones")
	run(t, store, c, webhook.Config{Workers: 4, Timeout: time.Minute})
	t.Cleanup(func() { close(release) }) // before the dispatcher stops: it waits for attempts
	waitState(t, store, d.ID, webhook.Delivered, 1)
	if n := hung.Load(); n > 2 {
		t.Errorf("%d attempts in flight to the hung webhook, want at most PerWebhook = 2", n)
	}
}

// TestConcurrentDispatchers: two Dispatchers over one outbox deliver each
// of many deliveries, and none twice (while no lease runs out).
func TestConcurrentDispatchers(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c)
	store := setup(t, rcv)
	var ds []webhook.Delivery
	for i := range 50 {
		ds = append(ds, enqueue(t, store, c, i))
	}
	run(t, store, c, webhook.Config{Workers: 3})
	run(t, store, c, webhook.Config{Workers: 5})
	for _, d := range ds {
		waitState(t, store, d.ID, webhook.Delivered, 1)
	}
	seen := map[string]int{}
	for _, r := range rcv.requests() {
		seen[r.header.Get(webhook.IdempotencyHeader)]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if len(seen) != len(ds) {
		t.Errorf("%d deliveries received, want %d", len(seen), len(ds))
	}
}

// BenchmarkDispatch measures deliveries per second through a Dispatcher
// with the default 8 workers (4 per webhook), a fresh in-memory outbox per batch and a
// loopback receiver that verifies each signature: the dispatcher's own
// cost, not a store's.
func BenchmarkDispatch(b *testing.B) {
	secret := webhook.NewSecret()
	var bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if webhook.Verify([]byte(secret), r.Header.Get(webhook.SignatureHeader), body, time.Now(), webhook.DefaultTolerance) != nil {
			bad.Add(1)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	const batch = 200
	data := map[string]any{"content_id": "post-1", "actions": []string{"block", "report"}}
	for b.Loop() {
		store := new(webhooktest.Memory)
		if err := store.CreateWebhook(ctx, webhook.Endpoint{Name: "hook", URL: srv.URL, Secret: secret, Enabled: true}); err != nil {
			b.Fatal(err)
		}
		ds := make([]webhook.Delivery, batch)
		for i := range ds {
			var err error
			if ds[i], err = webhook.NewDelivery("hook", "scan.decision", data, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		if err := store.EnqueueDeliveries(ctx, ds...); err != nil {
			b.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() {
			done <- webhook.New(store, webhook.Config{PollInterval: time.Millisecond, Logger: slog.New(slog.DiscardHandler)}).Run(runCtx)
		}()
		for {
			pending, _, _ := store.DeliveryBacklog(ctx)
			if pending == 0 {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		cancel()
		<-done
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "deliveries/s")
	if bad.Load() != 0 {
		b.Fatalf("%d bad signatures", bad.Load())
	}
}
