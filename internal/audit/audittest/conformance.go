package audittest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
)

// TestStore checks that a Store keeps the audit.Store contract: entries
// kept exactly (detail byte for byte, time to the microsecond), appends
// serialised so concurrent appenders chain, wrong sequence numbers refused,
// a failed build leaving nothing behind. newStore returns an empty store
// each time it is called. Run it against every implementation, as
// testing/fstest.TestFS is run against file systems.
func TestStore(t *testing.T, newStore func(t *testing.T) audit.Store) {
	t.Run("Finder", func(t *testing.T) { testFinder(t, newStore(t)) })

	t.Run("Empty", func(t *testing.T) {
		s := newStore(t)
		last, err := s.LastAudit(t.Context())
		if err != nil || last != nil {
			t.Errorf("LastAudit of an empty log = %v, %v; want nil, nil", last, err)
		}
		for e, err := range s.AuditEntries(t.Context(), 1) {
			t.Errorf("AuditEntries of an empty log yielded %v, %v", e, err)
		}
	})

	t.Run("KeepsEntriesExactly", func(t *testing.T) {
		s := newStore(t)
		l := audit.NewLog(s)
		at := time.Date(2026, 11, 25, 1, 2, 3, 123456789, time.FixedZone("X", -5*3600))
		l.SetClock(func() time.Time { return at })
		details := []any{
			json.RawMessage(`{"b":1,"a":[true,null,"x"]}`), // key order kept, not sorted
			map[string]string{"html": "<b>&</b>", "unicode": "Grüße, 世界, \u2028", "quote": `"`},
			nil,
			json.RawMessage(`1.50`), // not rewritten as 1.5
		}
		var want []audit.Entry
		for i, d := range details {
			e, err := l.Record(t.Context(), "k_ädmin", audit.BankCreate, fmt.Sprintf("bänk-%d", i), d)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, e)
		}
		var got []audit.Entry
		for e, err := range s.AuditEntries(t.Context(), 1) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		if len(got) != len(want) {
			t.Fatalf("AuditEntries yielded %d entries, want %d", len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Seq != w.Seq || !g.Time.Equal(w.Time) || g.Actor != w.Actor || g.Action != w.Action ||
				g.Subject != w.Subject || string(g.Detail) != string(w.Detail) || g.Prev != w.Prev || g.Hash != w.Hash {
				t.Errorf("entry %d came back as %+v (detail %s), stored %+v (detail %s)", w.Seq, g, g.Detail, w, w.Detail)
			}
			if g.Sum() != g.Hash {
				t.Errorf("entry %d no longer matches its hash after the round trip", w.Seq)
			}
		}
		last, err := s.LastAudit(t.Context())
		if err != nil || last == nil || last.Hash != want[len(want)-1].Hash {
			t.Errorf("LastAudit = %v, %v; want entry %d", last, err, len(want))
		}
		if r, err := audit.Verify(s.AuditEntries(t.Context(), 1)); err != nil || r.Entries != int64(len(want)) {
			t.Errorf("Verify: %+v, %v", r, err)
		}
	})

	t.Run("IterateFrom", func(t *testing.T) {
		s := newStore(t)
		record(t, audit.NewLog(s), 5)
		var seqs []int64
		for e, err := range s.AuditEntries(t.Context(), 3) {
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, e.Seq)
		}
		if fmt.Sprint(seqs) != "[3 4 5]" {
			t.Errorf("AuditEntries from 3 yielded %v", seqs)
		}
		for range s.AuditEntries(t.Context(), 1) {
			break // stopping early must not hang or panic
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		failed := false
		for _, err := range s.AuditEntries(ctx, 1) {
			failed = failed || err != nil
		}
		if !failed {
			t.Error("AuditEntries with a cancelled context yielded no error")
		}
	})

	t.Run("RefusesWrongSeq", func(t *testing.T) {
		s := newStore(t)
		record(t, audit.NewLog(s), 2)
		for _, seq := range []int64{1, 2, 4} {
			_, err := s.AppendAudit(t.Context(), func(last *audit.Entry) (audit.Entry, error) {
				e := audit.Next(last, time.Now(), "k", audit.KeyCreate, "x", nil)
				e.Seq = seq
				e.Hash = e.Sum()
				return e, nil
			})
			if err == nil {
				t.Errorf("AppendAudit accepted entry %d after entry 2", seq)
			}
		}
		if last, _ := s.LastAudit(t.Context()); last == nil || last.Seq != 2 {
			t.Errorf("after refused appends the last entry is %v, want 2", last)
		}
	})

	t.Run("FailedBuildStoresNothing", func(t *testing.T) {
		s := newStore(t)
		record(t, audit.NewLog(s), 1)
		boom := errors.New("boom")
		_, err := s.AppendAudit(t.Context(), func(*audit.Entry) (audit.Entry, error) { return audit.Entry{}, boom })
		if !errors.Is(err, boom) {
			t.Errorf("AppendAudit returned %v, want build's error", err)
		}
		if last, _ := s.LastAudit(t.Context()); last == nil || last.Seq != 1 {
			t.Errorf("after a failed build the last entry is %v, want 1", last)
		}
	})

	t.Run("ConcurrentAppendsChain", func(t *testing.T) {
		s := newStore(t)
		l := audit.NewLog(s)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { record(t, l, 25) })
		}
		wg.Wait()
		r, err := audit.Verify(s.AuditEntries(t.Context(), 1))
		if err != nil || r.Entries != 100 {
			t.Errorf("after 4×25 concurrent records: %d entries, %v", r.Entries, err)
		}
	})
}

// testFinder checks a Finder against reading the whole log: the same
// entries, in order, exactly.
func testFinder(t *testing.T, s audit.Store) {
	f, ok := s.(audit.Finder)
	if !ok {
		t.Skip("not an audit.Finder")
	}
	l := audit.NewLog(s)
	for i := range 30 {
		action := []string{audit.EvidenceRead, audit.BankCreate}[i%2]
		subject := fmt.Sprint("item-", i%3)
		if _, err := l.Record(t.Context(), fmt.Sprint("k", i), action, subject, map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	for _, subject := range []string{"item-0", "item-1", "item-2", "item-3", "item-%"} {
		var want []audit.Entry
		for e, err := range s.AuditEntries(t.Context(), 1) {
			if err != nil {
				t.Fatal(err)
			}
			if e.Action == audit.EvidenceRead && e.Subject == subject {
				want = append(want, e)
			}
		}
		got, err := f.AuditEntriesAbout(t.Context(), audit.EvidenceRead, subject)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("AuditEntriesAbout(%s) = %d entries %v, want the %d the whole log holds %v", subject, len(got), got, len(want), want)
		}
		if subject == "item-0" && len(want) != 5 {
			t.Errorf("item-0 has %d evidence reads, want 5", len(want))
		}
	}
}

func record(t *testing.T, l *audit.Log, n int) {
	for i := range n {
		if _, err := l.Record(t.Context(), audit.System, audit.ScanDecision, fmt.Sprint("c-", i), map[string]int{"i": i}); err != nil {
			t.Error(err)
			return
		}
	}
}
