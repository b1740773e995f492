package exchange_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/exchangetest"
)

// script is a Fetcher over a list of records, pageSize a page, whose
// position is the index of the next record.
type script struct {
	mu       sync.Mutex // guards records, which a test may change while Run polls
	records  []exchange.Record
	pageSize int
	err      error // returned instead of fetching
}

func (s *script) Fetch(ctx context.Context, from exchange.Checkpoint, page func(exchange.Page) error) error {
	if s.err != nil {
		return s.err
	}
	s.mu.Lock()
	recs := s.records
	s.mu.Unlock()
	i := 0
	if from.Position != "" {
		var err error
		if i, err = strconv.Atoi(from.Position); err != nil {
			return err
		}
	}
	for i < len(recs) {
		j := min(i+s.pageSize, len(recs))
		if err := page(exchange.Page{Records: recs[i:j], Checkpoint: exchange.Checkpoint{Position: strconv.Itoa(j)}}); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func md5Of(i int) string { return fmt.Sprintf("%032x", i) }

func records(n int) []exchange.Record {
	var rs []exchange.Record
	for i := range n {
		rs = append(rs, exchange.Record{ID: fmt.Sprintf("r%d", i), Classification: "A1",
			Fingerprints: []exchange.Fingerprint{{Kind: exchange.MD5, Value: md5Of(i)}}})
	}
	return rs
}

func newRunner(t *testing.T, mem *exchangetest.Memory, f exchange.Fetcher) *exchange.Runner {
	t.Helper()
	r := &exchange.Runner{Sink: mem, Checkpoints: mem, Lock: &exchangetest.Lock{},
		Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }}
	if err := r.Add(exchange.Config{Name: "hotline", Kind: "test"}, f); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFetchAppliesWithProvenance(t *testing.T) {
	mem := &exchangetest.Memory{}
	rs := records(5)
	rs[2].Fingerprints = append(rs[2].Fingerprints,
		exchange.Fingerprint{Kind: exchange.TMK, Value: "tmk-bytes"},
		exchange.Fingerprint{Kind: exchange.PDQ, Value: "not hex"})
	rs = append(rs, exchange.Record{ID: "r1", Deleted: true})
	r := newRunner(t, mem, &script{records: rs, pageSize: 2})
	if err := r.Fetch(context.Background(), "hotline"); err != nil {
		t.Fatal(err)
	}
	got := mem.Entries("hotline")
	if len(got) != 4 {
		t.Fatalf("%d entries, want 4 (5 records, one deleted): %+v", len(got), got)
	}
	e := got[0]
	want := bank.Entry{Signal: bank.MD5, Value: md5Of(0), Source: "hotline", ExternalID: "r0", Category: "A1",
		AddedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), AddedBy: "exchange:test"}
	if e != want {
		t.Errorf("entry %+v\nwant %+v", e, want)
	}
	if mem.Has("hotline", bank.MD5, md5Of(1)) {
		t.Errorf("the tombstone of r1 was not applied")
	}
	s, _ := r.Status("hotline")
	if !s.Succeeded || !s.UpToDate || s.Pages != 3 || s.Records != 6 || s.Removed != 1 || s.Skipped[exchange.TMK] != 1 || s.Malformed != 1 {
		t.Errorf("status %+v", s)
	}
	if len(s.Problems) != 1 || !strings.Contains(s.Problems[0], `record "r2"`) {
		t.Errorf("problems %q: want the bad PDQ of r2", s.Problems)
	}
	if s.Checkpoint.Position != "6" {
		t.Errorf("checkpoint %q, want 6", s.Checkpoint.Position)
	}
}

func TestCrashBetweenPagesResumes(t *testing.T) {
	mem := &exchangetest.Memory{}
	crash := errors.New("power cut")
	pages := 0
	mem.Fail = func(exchange.Batch) error {
		if pages++; pages == 3 {
			return crash
		}
		return nil
	}
	f := &script{records: records(10), pageSize: 3}
	r := newRunner(t, mem, f)
	if err := r.Fetch(context.Background(), "hotline"); !errors.Is(err, crash) {
		t.Fatalf("first fetch: %v, want the crash", err)
	}
	if n := mem.Len("hotline"); n != 6 {
		t.Fatalf("after the crash %d entries, want the 6 of the two applied pages", n)
	}
	cp, _ := mem.Load(context.Background(), "hotline")
	if cp.Position != "6" {
		t.Fatalf("checkpoint %q after the crash, want 6: it must not pass the unapplied page", cp.Position)
	}
	s, _ := r.Status("hotline")
	if s.Succeeded || s.ConsecutiveErrors != 1 || !strings.Contains(s.LastError, "power cut") || s.Stopped {
		t.Errorf("status after the crash %+v", s)
	}
	// A restart: a new runner over the same storage.
	r = newRunner(t, mem, f)
	if err := r.Fetch(context.Background(), "hotline"); err != nil {
		t.Fatal(err)
	}
	if n := mem.Len("hotline"); n != 10 {
		t.Errorf("after resuming %d entries, want 10", n)
	}
	if _, changed := mem.Applied(); changed != 10 {
		t.Errorf("%d records changed, want 10: none lost, none applied twice", changed)
	}
}

func TestPermanentErrorStopsPolling(t *testing.T) {
	mem := &exchangetest.Memory{}
	f := &script{err: fmt.Errorf("GET /v2/status: 401: %w", exchange.ErrAuth)}
	r := newRunner(t, mem, f)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.Run(ctx) // returns once the only exchange has stopped
	if ctx.Err() != nil {
		t.Fatal("Run kept polling after refused credentials")
	}
	s, _ := r.Status("hotline")
	if !s.Stopped || s.Errors != 1 || !strings.Contains(s.LastError, "refused the credentials") {
		t.Errorf("status %+v", s)
	}
}

func TestLockHeldElsewhere(t *testing.T) {
	mem := &exchangetest.Memory{}
	lock := &exchangetest.Lock{}
	release, ok, _ := lock.TryLock(context.Background(), "hotline")
	if !ok {
		t.Fatal("could not take a free lock")
	}
	r := newRunner(t, mem, &script{records: records(1), pageSize: 1})
	r.Lock = lock
	if err := r.Fetch(context.Background(), "hotline"); !errors.Is(err, exchange.ErrLocked) {
		t.Fatalf("fetch under another's lock: %v", err)
	}
	if s, _ := r.Status("hotline"); !s.LockedElsewhere || mem.Len("hotline") != 0 {
		t.Errorf("status %+v, %d entries", s, mem.Len("hotline"))
	}
	release()
	if err := r.Fetch(context.Background(), "hotline"); err != nil || mem.Len("hotline") != 1 {
		t.Errorf("after release: %v, %d entries", err, mem.Len("hotline"))
	}
}

// stuck blocks in Fetch until its context ends.
type stuck struct{ started chan struct{} }

func (s stuck) Fetch(ctx context.Context, _ exchange.Checkpoint, _ func(exchange.Page) error) error {
	close(s.started)
	<-ctx.Done()
	return ctx.Err()
}

func TestExchangesDoNotWaitForEachOther(t *testing.T) {
	mem := &exchangetest.Memory{}
	r := &exchange.Runner{Sink: mem, Checkpoints: mem}
	s := stuck{started: make(chan struct{})}
	r.Add(exchange.Config{Name: "slow", Kind: "test"}, s)
	r.Add(exchange.Config{Name: "fast", Kind: "test"}, &script{records: records(3), pageSize: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	<-s.started
	deadline := time.Now().Add(10 * time.Second)
	for mem.Len("fast") != 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if mem.Len("fast") != 3 {
		t.Error("the fast exchange was held up by the stuck one")
	}
	if st, _ := r.Status("slow"); !st.Fetching {
		t.Errorf("slow status %+v: want fetching", st)
	}
	cancel()
	<-done
}

func TestAddTwice(t *testing.T) {
	r := &exchange.Runner{}
	r.Add(exchange.Config{Name: "a"}, &script{})
	if err := r.Add(exchange.Config{Name: "a"}, &script{}); err == nil {
		t.Error("a second exchange of the same name was accepted")
	}
	if _, err := r.Status("b"); err == nil {
		t.Error("status of an unknown exchange")
	}
}

func TestKickFetchesNow(t *testing.T) {
	mem := &exchangetest.Memory{}
	f := &script{records: records(2), pageSize: 1}
	r := &exchange.Runner{Sink: mem, Checkpoints: mem}
	r.Add(exchange.Config{Name: "hotline", Kind: "test", Interval: time.Hour}, f)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	wait := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); mem.Len("hotline") != n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d entries, want %d", mem.Len("hotline"), n)
			}
		}
	}
	wait(2) // the first poll runs at once
	f.mu.Lock()
	f.records = records(4)
	f.mu.Unlock()
	// The next tick is an hour away: only a kick fetches the new records.
	if err := r.Kick("hotline"); err != nil {
		t.Fatal(err)
	}
	wait(4)
}

// Two nodes over one store: the status either answers is the stored one,
// counted across both nodes' fetches, and only the fetching node's lock
// contention stays its own.
func TestStatusIsSharedAcrossNodes(t *testing.T) {
	mem, lock, statuses := &exchangetest.Memory{}, &exchangetest.Lock{}, &exchangetest.Statuses{}
	src := &script{records: records(5), pageSize: 2}
	node := func() *exchange.Runner {
		r := &exchange.Runner{Sink: mem, Checkpoints: mem, Lock: lock, StatusStore: statuses,
			Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }}
		if err := r.Add(exchange.Config{Name: "hotline", Kind: "test"}, src); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := node(), node()
	if err := a.Fetch(context.Background(), "hotline"); err != nil {
		t.Fatal(err)
	}
	sa, _ := a.Status("hotline")
	sb, _ := b.Status("hotline")
	if sa.Pages != 3 || sa.Records != 5 || !sa.Succeeded || fmt.Sprintf("%+v", sa) != fmt.Sprintf("%+v", sb) {
		t.Fatalf("after A's fetch:\nA %+v\nB %+v", sa, sb)
	}
	// B fetches next: it continues the stored counts (two more records).
	src.mu.Lock()
	src.records = records(7)
	src.mu.Unlock()
	if err := b.Fetch(context.Background(), "hotline"); err != nil {
		t.Fatal(err)
	}
	sa, _ = a.Status("hotline")
	if sa.Pages != 4 || sa.Records != 7 || sa.Checkpoint.Position != "7" {
		t.Errorf("A after B's fetch: %+v, want 4 pages, 7 records, at 7", sa)
	}
	// A failing fetch on A shows on B.
	src.err = errors.New("upstream 503")
	if err := a.Fetch(context.Background(), "hotline"); err == nil {
		t.Fatal("no error")
	}
	if sb, _ = b.Status("hotline"); sb.Succeeded || sb.ConsecutiveErrors != 1 || !strings.Contains(sb.LastError, "upstream 503") {
		t.Errorf("B after A's failure: %+v", sb)
	}
}
