package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Config tunes a Dispatcher. The zero value works.
type Config struct {
	Workers int // concurrent attempts; default 8
	// PerWebhook caps the attempts in flight to one webhook, so that a
	// receiver that hangs until the timeout cannot take every worker and
	// starve the others. Default half the workers (at least 1).
	PerWebhook   int
	PollInterval time.Duration // how often the outbox is polled; default 1s
	Timeout      time.Duration // for one attempt, connection to last byte; default 10s
	// Lease is how long a polled delivery is hidden from other pollers
	// (this one included); it must outlast an attempt and the recording of
	// its outcome, or the delivery may be sent twice. Default, and when set
	// no longer than Timeout: Timeout + 30s.
	Lease time.Duration
	Retry Retry
	// Retention is how long delivered deliveries are kept before the
	// Dispatcher prunes them (hourly); dead letters and pending deliveries
	// are never pruned. Default 7 days; negative keeps them forever.
	Retention time.Duration
	// Policy says which addresses deliveries may reach; the zero Policy
	// allows only public ones. It is applied at every connection.
	Policy Policy
	// Client sends the requests; default a plain http.Client. The
	// Dispatcher uses a copy whose redirect policy it sets (see New) and,
	// when its Transport is nil or an *http.Transport, whose dialer is
	// Policy's (and which uses no proxy, since a proxy would dial for us,
	// unchecked). Any other RoundTripper is used as it is.
	Client *http.Client
	// Now is the clock; default time.Now. Tests move it to make retries due.
	Now     func() time.Time
	Metrics Metrics      // default none
	Logger  *slog.Logger // default slog.Default()
}

// Outcome is what came of one attempt.
type Outcome string

const (
	OutcomeDelivered Outcome = "delivered" // 2xx
	OutcomeRetry     Outcome = "retry"     // failed, will be tried again
	OutcomeDead      Outcome = "dead"      // failed for good: a dead letter
)

// Metrics receives one call per attempt; the server turns them into
// Prometheus counters and a latency histogram by webhook and outcome.
// Calls come from several goroutines at once.
type Metrics interface {
	Attempt(webhook string, o Outcome, elapsed time.Duration)
}

// Dispatcher sends due deliveries from an outbox. Several Dispatchers, in
// one process or several, may share an outbox: the lease DueDeliveries
// takes keeps them from sending the same delivery at the same time.
type Dispatcher struct {
	store  Store
	cfg    Config
	client *http.Client
	wake   chan struct{}

	mu   sync.Mutex
	busy map[string]int // attempts in flight, by webhook
}

// maxRedirects bounds same-host redirects a receiver may send us through.
const maxRedirects = 3

// New returns a Dispatcher over store. Its HTTP client follows a redirect
// only to the same host and scheme (or from http to https) and only with
// 307 or 308, which resend the same method and body: the signature covers
// the body, and a 301/302/303 would turn the POST into a GET that answers
// 200 without the event ever arriving. Any other redirect is answered by
// the 3xx itself, which counts as a failed attempt.
func New(store Store, cfg Config) *Dispatcher {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.PerWebhook <= 0 {
		cfg.PerWebhook = max(1, cfg.Workers/2)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Lease <= cfg.Timeout {
		cfg.Lease = cfg.Timeout + 30*time.Second
	}
	cfg.Retry = cfg.Retry.withDefaults()
	if cfg.Retention == 0 {
		cfg.Retention = 7 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client := new(http.Client)
	if cfg.Client != nil {
		*client = *cfg.Client
	}
	client.CheckRedirect = checkRedirect
	switch t := client.Transport.(type) {
	case nil:
		client.Transport = policyTransport(http.DefaultTransport.(*http.Transport), cfg.Policy)
	case *http.Transport:
		client.Transport = policyTransport(t, cfg.Policy)
	}
	return &Dispatcher{
		store:  store,
		cfg:    cfg,
		client: client,
		wake:   make(chan struct{}, 1),
		busy:   make(map[string]int),
	}
}

// policyTransport is a copy of t that dials through p and no proxy.
func policyTransport(t *http.Transport, p Policy) *http.Transport {
	t = t.Clone()
	t.Proxy = nil
	t.DialContext = p.DialContext
	t.DialTLSContext = nil // TLS then runs over DialContext's connection
	return t
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	switch {
	case len(via) > maxRedirects:
		return fmt.Errorf("more than %d redirects", maxRedirects)
	case req.Response == nil || (req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect):
		return http.ErrUseLastResponse
	case req.URL.Host != first.Host:
		return http.ErrUseLastResponse
	case req.URL.Scheme != first.Scheme && !(first.Scheme == "http" && req.URL.Scheme == "https"):
		return http.ErrUseLastResponse
	}
	return nil
}

// Wake makes the Dispatcher poll now rather than at its next tick; the
// server calls it after enqueueing, so that deliveries go out at once.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run polls and delivers until ctx is done, then waits for the attempts in
// flight to finish (each within Timeout) and records their outcome, so a
// graceful shutdown sends nothing twice. It returns ctx's error.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	// Attempts outlive ctx: cancelling one mid-request would leave the
	// receiver with the event and us believing it failed.
	attemptCtx := context.WithoutCancel(ctx)
	sem := make(chan struct{}, d.cfg.Workers)
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	var pruned time.Time // by d.cfg.Now, so tests can move it
	for {
		if now := d.cfg.Now(); d.cfg.Retention > 0 && now.Sub(pruned) >= pruneEvery {
			pruned = now
			d.prune(ctx, now)
		}
		d.poll(ctx, attemptCtx, sem, &wg)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-d.wake:
		}
	}
}

// pruneEvery is how often a Dispatcher prunes old deliveries.
const pruneEvery = time.Hour

func (d *Dispatcher) prune(ctx context.Context, now time.Time) {
	n, err := d.store.PruneDeliveries(ctx, now.Add(-d.cfg.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		d.cfg.Logger.Error("webhook: pruning delivered deliveries", "err", err)
	case n > 0:
		d.cfg.Logger.Info("webhook: pruned delivered deliveries", "count", n, "older_than", d.cfg.Retention)
	}
}

// poll leases as many due deliveries as there are idle workers, leaving
// out webhooks at their PerWebhook cap, and starts an attempt for each.
func (d *Dispatcher) poll(ctx, attemptCtx context.Context, sem chan struct{}, wg *sync.WaitGroup) {
	idle := cap(sem) - len(sem)
	if idle == 0 {
		return
	}
	var full []string
	d.mu.Lock()
	for name, n := range d.busy {
		if n >= d.cfg.PerWebhook {
			full = append(full, name)
		}
	}
	d.mu.Unlock()
	now := d.cfg.Now()
	due, err := d.store.DueDeliveries(ctx, now, d.cfg.Lease, idle, full)
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Logger.Error("webhook: polling the outbox", "err", err)
		}
		return
	}
	for _, dl := range due {
		d.mu.Lock()
		over := d.busy[dl.Webhook] >= d.cfg.PerWebhook
		if !over {
			d.busy[dl.Webhook]++
		}
		d.mu.Unlock()
		if over {
			// One poll can bring more of a webhook's deliveries than its
			// cap allows: hand the rest back, due at once and unattempted,
			// for when the webhook has room.
			if err := d.store.MarkDeliveryFailed(attemptCtx, dl.ID, dl.Attempts, now, dl.LastError); err != nil {
				d.cfg.Logger.Error("webhook: releasing a delivery", "delivery", dl.ID, "err", err)
			}
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() {
				d.mu.Lock()
				if d.busy[dl.Webhook]--; d.busy[dl.Webhook] == 0 {
					delete(d.busy, dl.Webhook)
				}
				d.mu.Unlock()
				<-sem
				d.Wake() // a worker is free: there may be more due
			}()
			d.attempt(attemptCtx, dl)
		})
	}
}

// result is the outcome of sending one delivery once.
type result struct {
	ok         bool
	permanent  bool          // no point retrying: dead-letter it
	retryAfter time.Duration // the receiver's Retry-After, if any
	reason     string
}

// attempt sends dl once and records the outcome in the outbox.
func (d *Dispatcher) attempt(ctx context.Context, dl Delivery) {
	start := d.cfg.Now()
	n := dl.Attempts + 1
	res := d.send(ctx, dl, n)
	elapsed := d.cfg.Now().Sub(start)
	now := d.cfg.Now()
	var (
		outcome Outcome
		err     error
	)
	switch {
	case res.ok:
		outcome = OutcomeDelivered
		err = d.store.MarkDelivered(ctx, dl.ID, n, now)
	case res.permanent || n >= d.cfg.Retry.MaxAttempts:
		outcome = OutcomeDead
		reason := fmt.Sprintf("attempt %d: %s", n, res.reason)
		if !res.permanent {
			reason += fmt.Sprintf(" (gave up after %d attempts)", n)
		}
		err = d.store.MarkDeliveryDead(ctx, dl.ID, n, now, reason)
	default:
		outcome = OutcomeRetry
		wait := d.cfg.Retry.Delay(n, nil)
		if res.retryAfter > wait {
			wait = min(res.retryAfter, d.cfg.Retry.MaxDelay)
		}
		err = d.store.MarkDeliveryFailed(ctx, dl.ID, n, now.Add(wait), fmt.Sprintf("attempt %d: %s", n, res.reason))
	}
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.Attempt(dl.Webhook, outcome, elapsed)
	}
	log := d.cfg.Logger.With("delivery", dl.ID, "webhook", dl.Webhook, "event", dl.Event, "attempt", n)
	switch {
	case err != nil:
		// The lease runs out and the delivery is attempted again: at
		// least once, as promised.
		log.Error("webhook: recording the outcome of an attempt", "outcome", outcome, "err", err)
	case outcome == OutcomeDead:
		log.Warn("webhook: delivery is a dead letter", "reason", res.reason)
	case outcome == OutcomeRetry:
		log.Info("webhook: attempt failed, will retry", "reason", res.reason)
	}
}

// maxResponseRead is how much of a response is drained: a short body read
// to its end lets the connection be reused.
const maxResponseRead = 4 << 10

func (d *Dispatcher) send(ctx context.Context, dl Delivery, n int) result {
	ep, err := d.store.Webhook(ctx, dl.Webhook)
	switch {
	case errors.Is(err, ErrNotFound):
		return result{permanent: true, reason: fmt.Sprintf("webhook %q does not exist", dl.Webhook)}
	case err != nil:
		return result{reason: fmt.Sprintf("looking up webhook %q: %v", dl.Webhook, err)}
	case !ep.Enabled:
		return result{permanent: true, reason: fmt.Sprintf("webhook %q is disabled", dl.Webhook)}
	}
	// Stores hold validated webhooks; this guards against one that was
	// not (a file: URL, an empty secret), which no retry would fix.
	if err := ep.Validate(); err != nil {
		return result{permanent: true, reason: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(dl.Body))
	if err != nil {
		return result{permanent: true, reason: fmt.Sprintf("webhook %q: %v", dl.Webhook, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Safeguard-Webhook/1")
	now := d.cfg.Now()
	req.Header.Set(SignatureHeader, Sign(now, dl.Body, ep.secrets(now)...))
	req.Header.Set(IdempotencyHeader, dl.ID)
	req.Header.Set(EventHeader, dl.Event)
	req.Header.Set(AttemptHeader, strconv.Itoa(n))
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		// A refused target stays refused: no retry would reach it.
		return result{permanent: errors.Is(err, ErrRefusedTarget), reason: err.Error()}
	}
	defer resp.Body.Close()
	// Read a little, so a short answer frees its connection for reuse,
	// but keep none of it: a dead letter shows the admin only the status
	// and timing, or a webhook aimed inside the deployment would read back
	// what answered there.
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return result{ok: true}
	}
	res := result{reason: describe(resp, time.Since(start))}
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		res.retryAfter = retryAfter(resp.Header.Get("Retry-After"), d.cfg.Now())
	case code >= 400 && code <= 499:
		res.permanent = true
	case code == http.StatusServiceUnavailable:
		res.retryAfter = retryAfter(resp.Header.Get("Retry-After"), d.cfg.Now())
	}
	return res
}

// describe makes a failed answer into a line for LastError: its status and
// how long it took, and nothing the receiver chose to say (no body, no
// Location), which could be another service's answer.
func describe(resp *http.Response, took time.Duration) string {
	s := resp.Status
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		s += " (redirect not followed: only 307/308 to the same host are)"
	}
	return s + " after " + took.Round(time.Millisecond).String()
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(min(s, 1<<31)) * time.Second // no overflow; MaxDelay caps it anyway
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
