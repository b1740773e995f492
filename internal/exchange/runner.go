package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
)

// Status is what an exchange's fetches have done. With a Runner's
// StatusStore it is kept in the store, counted across every node's
// fetches; without one, in memory since the process started. Its JSON is
// how the stores keep it.
type Status struct {
	Name string `json:"name"` // the exchange, and the bank it fills
	Kind string `json:"kind"`
	// Fetching is true while a fetch runs (on any node, when stored; a
	// node that dies mid-fetch leaves it set until the next fetch ends).
	Fetching bool `json:"fetching"`
	// LastFetch is when the last fetch started; LastSuccess when the last
	// one that succeeded ended.
	LastFetch   time.Time `json:"last_fetch"`
	LastSuccess time.Time `json:"last_success"`
	// Succeeded: the last fetch ended without error. UpToDate: it also
	// caught up with upstream.
	Succeeded bool `json:"succeeded"`
	UpToDate  bool `json:"up_to_date"`
	// LockedElsewhere: this node's last attempt found another node
	// fetching. It is the one field of this node only: it is never stored.
	LockedElsewhere bool `json:"-"`
	// Stopped: the last error was permanent (refused credentials, a bad
	// configuration): the exchange is not polled until it is added again.
	Stopped   bool   `json:"stopped"`
	LastError string `json:"last_error,omitempty"`
	// Errors counts failed fetches; ConsecutiveErrors those since the last
	// success.
	Errors            int64 `json:"errors"`
	ConsecutiveErrors int64 `json:"consecutive_errors"`
	// Pages and Records count what was applied; Entries the bank entries
	// those records held, Removed the tombstones among them.
	Pages   int64 `json:"pages"`
	Records int64 `json:"records"`
	Entries int64 `json:"entries"`
	Removed int64 `json:"removed"`
	// Malformed counts upstream records skipped as unreadable; Problems
	// says why for the last few.
	Malformed int64    `json:"malformed"`
	Problems  []string `json:"problems,omitempty"`
	// Skipped counts fingerprints of kinds a bank cannot hold yet.
	Skipped map[Kind]int64 `json:"skipped,omitempty"`
	// Checkpoint is the position the next fetch starts from.
	Checkpoint Checkpoint `json:"checkpoint"`
}

// maxKinds bounds the kinds Status.Skipped counts by name: upstream
// chooses them, so past this many they count together as "other".
const maxKinds = 32

// Runner runs the fetches of configured exchanges, each on its own goroutine
// so that a long backfill never holds up lookups or another exchange.
// Set its fields, Add exchanges, then Run.
type Runner struct {
	Sink        Sink
	Checkpoints Checkpoints
	// Lock keeps one fetcher per exchange across nodes; nil for a single
	// node.
	Lock Lock
	// StatusStore, if set, keeps every exchange's Status in the store:
	// the node that fetches continues the stored counts and writes them
	// as it goes, and Status reads them, so every node answers the same.
	// nil keeps statuses in memory, per process.
	StatusStore StatusStore
	Log         *slog.Logger     // nil: slog.Default()
	Now         func() time.Time // nil: time.Now

	mu      sync.Mutex
	workers map[string]*worker
	order   []string
}

type worker struct {
	cfg     Config
	fetcher Fetcher
	kick    chan struct{} // a fetch is wanted now
	run     sync.Mutex    // one fetch at a time in this process
	status  Status
}

// Add registers an exchange. Its name must be unique.
func (r *Runner) Add(cfg Config, f Fetcher) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.workers == nil {
		r.workers = map[string]*worker{}
	}
	if _, ok := r.workers[cfg.Name]; ok {
		return fmt.Errorf("exchange %q: added twice", cfg.Name)
	}
	r.workers[cfg.Name] = &worker{cfg: cfg, fetcher: f, kick: make(chan struct{}, 1),
		status: Status{Name: cfg.Name, Kind: cfg.Kind, Skipped: map[Kind]int64{}}}
	r.order = append(r.order, cfg.Name)
	return nil
}

// Run polls every exchange at its interval until ctx ends, each on its own
// goroutine, and returns when they have all stopped.
func (r *Runner) Run(ctx context.Context) {
	r.mu.Lock()
	ws := make([]*worker, 0, len(r.order))
	for _, n := range r.order {
		ws = append(ws, r.workers[n])
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() { r.poll(ctx, w) })
	}
	wg.Wait()
}

func (r *Runner) poll(ctx context.Context, w *worker) {
	interval := w.cfg.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.kick:
		}
		err := r.fetch(ctx, w)
		if err != nil && ctx.Err() == nil && !errors.Is(err, ErrLocked) { // another node is on it: not a failure
			r.log().Warn("exchange fetch failed", "exchange", w.cfg.Name, "err", err)
		}
		if r.snapshot(w).Stopped {
			r.log().Error("exchange stopped: fix its configuration", "exchange", w.cfg.Name, "err", err)
			return
		}
		t.Reset(interval)
	}
}

// Kick asks the running poller of an exchange to fetch now rather than at
// its next tick (a "fetch now" button); it does not wait.
func (r *Runner) Kick(name string) error {
	w, err := r.worker(name)
	if err != nil {
		return err
	}
	select {
	case w.kick <- struct{}{}:
	default: // one is already pending
	}
	return nil
}

// Fetch runs one fetch of the exchange now and waits for it (the CLI's
// `exchange fetch`). It fails if another node holds the exchange's lock.
func (r *Runner) Fetch(ctx context.Context, name string) error {
	w, err := r.worker(name)
	if err != nil {
		return err
	}
	return r.fetch(ctx, w)
}

// SendFeedback sends a reviewer's verdict to the exchange's upstream, if
// its format takes feedback; otherwise the error is permanent.
func (r *Runner) SendFeedback(ctx context.Context, fb Feedback) error {
	w, err := r.worker(fb.Exchange)
	if err != nil {
		return &PermanentError{Err: err}
	}
	s, ok := w.fetcher.(FeedbackSender)
	if !ok {
		return &PermanentError{Err: fmt.Errorf("exchange %q (%s) takes no feedback", fb.Exchange, w.cfg.Kind)}
	}
	return s.SendFeedback(ctx, fb)
}

// ErrNoExchange is wrapped by errors naming an exchange not configured.
var ErrNoExchange = derrors.New(derrors.NotFound, "no such exchange configured")

// ErrLocked is the error of a fetch while another node is fetching the
// same exchange.
var ErrLocked = errors.New("another node is fetching this exchange")

func (r *Runner) fetch(ctx context.Context, w *worker) (err error) {
	w.run.Lock()
	defer w.run.Unlock()
	if r.Lock != nil {
		release, ok, err := r.Lock.TryLock(ctx, w.cfg.Name)
		if err != nil {
			err = fmt.Errorf("exchange %q: taking its lock: %w", w.cfg.Name, err)
			r.update(w, func(s *Status) { s.LastError = err.Error() })
			return err
		}
		r.update(w, func(s *Status) { s.LockedElsewhere = !ok })
		if !ok {
			return fmt.Errorf("exchange %q: %w", w.cfg.Name, ErrLocked)
		}
		defer release()
	}
	r.resume(ctx, w)
	start := r.now()
	r.update(w, func(s *Status) { s.Fetching, s.LastFetch = true, start })
	r.keep(ctx, w)
	defer func() {
		defer r.keep(context.WithoutCancel(ctx), w)
		end := r.now()
		r.update(w, func(s *Status) {
			s.Fetching = false
			s.Succeeded, s.UpToDate = err == nil, err == nil
			if err == nil {
				s.LastSuccess, s.LastError, s.ConsecutiveErrors = end, "", 0
				return
			}
			s.LastError = err.Error()
			s.Errors++
			s.ConsecutiveErrors++
			s.Stopped = Permanent(err)
		})
	}()
	cp, err := r.Checkpoints.Load(ctx, w.cfg.Name)
	if err != nil {
		return fmt.Errorf("exchange %q: loading its checkpoint: %w", w.cfg.Name, err)
	}
	r.update(w, func(s *Status) { s.Checkpoint = cp })
	err = w.fetcher.Fetch(ctx, cp, func(p Page) error { return r.apply(ctx, w, p) })
	if err != nil {
		return fmt.Errorf("exchange %q: %w", w.cfg.Name, err)
	}
	return nil
}

// apply turns a page into a batch and applies it.
func (r *Runner) apply(ctx context.Context, w *worker, p Page) error {
	fetched := r.now()
	b := Batch{Exchange: w.cfg.Name, Bank: w.cfg.Name, Complete: p.Complete, Checkpoint: p.Checkpoint}
	b.Checkpoint.UpdatedAt = fetched
	b.Changes = make([]Change, 0, len(p.Records))
	var entries, removed int64
	skipped := map[Kind]int64{}
	for _, rec := range p.Records {
		c, problems := w.cfg.change(rec, fetched)
		for _, pr := range problems {
			p.Skip("record %q: %s", rec.ID, pr)
		}
		for _, f := range c.Unsupported {
			skipped[f.Kind]++
		}
		if rec.Deleted {
			removed++
		}
		entries += int64(len(c.Entries))
		b.Changes = append(b.Changes, c)
	}
	if err := r.Sink.Apply(ctx, b); err != nil {
		return fmt.Errorf("applying %d records to bank %q: %w", len(b.Changes), b.Bank, err)
	}
	r.update(w, func(s *Status) {
		s.Pages++
		s.Records += int64(len(p.Records))
		s.Entries += entries
		s.Removed += removed
		s.Malformed += int64(p.Malformed)
		s.Problems = append(s.Problems, p.Problems...)
		if n := len(s.Problems); n > MaxProblems {
			s.Problems = slices.Delete(s.Problems, 0, n-MaxProblems)
		}
		for k, n := range skipped {
			if _, ok := s.Skipped[k]; !ok && len(s.Skipped) >= maxKinds {
				k = "other"
			}
			s.Skipped[k] += n
		}
		s.Checkpoint = b.Checkpoint
	})
	r.keep(ctx, w)
	return nil
}

// resume continues the stored status of an exchange (another node may
// have fetched since this one did); the caller holds its lock.
func (r *Runner) resume(ctx context.Context, w *worker) {
	if r.StatusStore == nil {
		return
	}
	stored, ok, err := r.StatusStore.ExchangeStatus(ctx, w.cfg.Name)
	if err != nil {
		r.log().Warn("exchange status: reading it from the store", "exchange", w.cfg.Name, "err", err)
		return
	}
	if !ok {
		return
	}
	r.update(w, func(s *Status) {
		stored.Name, stored.Kind, stored.LockedElsewhere = s.Name, s.Kind, s.LockedElsewhere
		if stored.Skipped == nil {
			stored.Skipped = map[Kind]int64{}
		}
		*s = stored
	})
}

// keep writes an exchange's status to the store, if there is one. A
// failure is logged: the fetch itself goes on.
func (r *Runner) keep(ctx context.Context, w *worker) {
	if r.StatusStore == nil {
		return
	}
	if err := r.StatusStore.SetExchangeStatus(ctx, r.snapshot(w)); err != nil && ctx.Err() == nil {
		r.log().Warn("exchange status: storing it", "exchange", w.cfg.Name, "err", err)
	}
}

// change turns a record into a change of the exchange's bank: entries with
// provenance for the fingerprints a bank holds, the others carried. A
// fingerprint whose value is not valid for its kind is dropped and reported.
func (c Config) change(rec Record, fetched time.Time) (Change, []string) {
	ch := Change{ID: rec.ID}
	if rec.Deleted {
		return ch, nil
	}
	var problems []string
	for _, f := range rec.Fingerprints {
		sig, ok := f.Kind.Signal()
		if !ok {
			ch.Unsupported = append(ch.Unsupported, f)
			continue
		}
		e, err := bank.Entry{
			Signal: sig, Value: f.Value,
			Source: c.Name, ExternalID: rec.ID, Category: rec.Classification,
			AddedAt: fetched, AddedBy: "exchange:" + c.Kind, Note: rec.Note,
		}.Normalize()
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !slices.ContainsFunc(ch.Entries, func(o bank.Entry) bool { return o.Signal == e.Signal && o.Value == e.Value }) {
			ch.Entries = append(ch.Entries, e)
		}
	}
	return ch, problems
}

// statusTimeout bounds reading a stored status (Status has no context:
// it answers status pages, which must not hang on a stalled database).
const statusTimeout = 5 * time.Second

// Status returns an exchange's status: the stored one when there is a
// StatusStore (with this node's LockedElsewhere), else this process's.
func (r *Runner) Status(name string) (Status, error) {
	w, err := r.worker(name)
	if err != nil {
		return Status{}, err
	}
	local := r.snapshot(w)
	if r.StatusStore == nil {
		return local, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	stored, ok, err := r.StatusStore.ExchangeStatus(ctx, name)
	switch {
	case err != nil:
		local.LastError = fmt.Sprintf("reading the stored status failed (this node's follows): %v; %s", err, local.LastError)
		return local, nil
	case !ok:
		return local, nil
	}
	stored.Name, stored.Kind, stored.LockedElsewhere = local.Name, local.Kind, local.LockedElsewhere
	return stored, nil
}

// Statuses returns every exchange's status, in the order they were added.
func (r *Runner) Statuses() []Status {
	r.mu.Lock()
	names := slices.Clone(r.order)
	r.mu.Unlock()
	out := make([]Status, 0, len(names))
	for _, n := range names {
		if s, err := r.Status(n); err == nil {
			out = append(out, s)
		}
	}
	return out
}

func (r *Runner) worker(name string) (*worker, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.workers[name]
	if !ok {
		return nil, fmt.Errorf("exchange %q: %w", name, ErrNoExchange)
	}
	return w, nil
}

func (r *Runner) snapshot(w *worker) Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := w.status
	s.Problems = slices.Clone(s.Problems)
	s.Skipped = make(map[Kind]int64, len(w.status.Skipped))
	for k, n := range w.status.Skipped {
		s.Skipped[k] = n
	}
	return s
}

func (r *Runner) update(w *worker, f func(*Status)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&w.status)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}
