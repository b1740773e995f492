package exchangetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// Target is a Sink under test, its Checkpoints, and a way to read back
// what it wrote.
type Target struct {
	Sink        exchange.Sink
	Checkpoints exchange.Checkpoints
	// Entries returns the live entries of a bank.
	Entries func(ctx context.Context, bankName string) ([]bank.Entry, error)
}

// TestSink checks that a Sink does what the Runner relies on: a change
// sets what a record ID holds, re-applying a batch changes nothing, a
// complete batch removes what it does not name, a failing batch applies
// nothing and leaves the checkpoint where it was. open returns a fresh
// target with an empty bank named "ex" (the exchange's name).
func TestSink(t *testing.T, open func(t *testing.T) Target) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	entry := func(id string, i int) bank.Entry {
		return bank.Entry{Signal: bank.MD5, Value: fmt.Sprintf("%032x", i), Source: "ex", ExternalID: id,
			Category: "A1", AddedAt: at, AddedBy: "exchange:test", Note: "n"}
	}
	batch := func(pos string, complete bool, changes ...exchange.Change) exchange.Batch {
		return exchange.Batch{Exchange: "ex", Bank: "ex", Changes: changes, Complete: complete,
			Checkpoint: exchange.Checkpoint{Position: pos, UpdatedAt: at}}
	}
	set := func(id string, values ...int) exchange.Change {
		c := exchange.Change{ID: id}
		for _, v := range values {
			c.Entries = append(c.Entries, entry(id, v))
		}
		return c
	}
	check := func(t *testing.T, tg Target, wantPos string, want ...bank.Entry) {
		t.Helper()
		got, err := tg.Entries(ctx, "ex")
		if err != nil {
			t.Fatal(err)
		}
		key := func(e bank.Entry) string {
			return strings.Join([]string{string(e.Signal), e.Value, e.Source, e.ExternalID, e.Category, e.Note}, " ")
		}
		var g, w []string
		for _, e := range got {
			g = append(g, key(e))
		}
		for _, e := range want {
			w = append(w, key(e))
		}
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("entries\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
		cp, err := tg.Checkpoints.Load(ctx, "ex")
		if err != nil {
			t.Fatal(err)
		}
		if cp.Position != wantPos {
			t.Errorf("checkpoint %q, want %q", cp.Position, wantPos)
		}
	}
	apply := func(t *testing.T, tg Target, b exchange.Batch) {
		t.Helper()
		if err := tg.Sink.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("Empty", func(t *testing.T) {
		check(t, open(t), "")
	})
	t.Run("SetReplaceRemove", func(t *testing.T) {
		tg := open(t)
		apply(t, tg, batch("1", false, set("a", 1, 2), set("b", 3)))
		check(t, tg, "1", entry("a", 1), entry("a", 2), entry("b", 3))
		apply(t, tg, batch("2", false, set("a", 2, 4), exchange.Change{ID: "b"}))
		check(t, tg, "2", entry("a", 2), entry("a", 4))
	})
	t.Run("ReapplyChangesNothing", func(t *testing.T) {
		tg := open(t)
		b := batch("1", false, set("a", 1), set("b", 2))
		apply(t, tg, b)
		apply(t, tg, b)
		check(t, tg, "1", entry("a", 1), entry("b", 2))
	})
	t.Run("CompleteRemovesTheRest", func(t *testing.T) {
		tg := open(t)
		apply(t, tg, batch("x", true, set("a", 1), set("b", 2), set("c", 3)))
		apply(t, tg, batch("y", true, set("b", 2), set("d", 4)))
		check(t, tg, "y", entry("b", 2), entry("d", 4))
	})
	t.Run("FailingBatchAppliesNothing", func(t *testing.T) {
		tg := open(t)
		apply(t, tg, batch("1", false, set("a", 1)))
		bad := set("c", 3)
		bad.Entries[0].Value = "not hex"
		if err := tg.Sink.Apply(ctx, batch("2", false, set("b", 2), bad)); err == nil {
			t.Fatal("a batch with an invalid entry was applied")
		}
		check(t, tg, "1", entry("a", 1))
	})
}

// Store is a database's exchange and bank stores, as internal/store gives
// them.
type Store interface {
	exchange.Store
	bank.Store
}

// TestStore checks what a store keeps for exchanges beside checkpoints
// and entries: statuses round-trip whole (a later one replaces an earlier
// one, hostile text included), and a bank's change feed holds that bank's
// additions and removals in order, across a delete and re-create of its
// name, and nothing of other banks. open returns a fresh, empty store.
func TestStore(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	t.Run("status", func(t *testing.T) {
		st := open(t)
		if _, ok, err := st.ExchangeStatus(ctx, "ex"); err != nil || ok {
			t.Fatalf("before any: ok %v, err %v", ok, err)
		}
		at := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
		want := exchange.Status{Name: "ex", Kind: "ncmec", LastFetch: at, LastSuccess: at.Add(time.Minute),
			Succeeded: true, UpToDate: true, Errors: 3, ConsecutiveErrors: 0, Pages: 7, Records: 7000,
			Entries: 6900, Removed: 100, Malformed: 2, Problems: []string{"record \"1\": bad \x00 hex", "é"},
			Skipped: map[exchange.Kind]int64{exchange.TMK: 5}, LastError: "",
			Checkpoint: exchange.Checkpoint{Position: `{"from":"x"}`, UpdatedAt: at}}
		for _, s := range []exchange.Status{{Name: "ex", Kind: "ncmec", Fetching: true, LastError: "old"}, want} {
			if err := st.SetExchangeStatus(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		got, ok, err := st.ExchangeStatus(ctx, "ex")
		if err != nil || !ok {
			t.Fatalf("ok %v, err %v", ok, err)
		}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("status:\n got %+v\nwant %+v", got, want)
		}
		if _, ok, _ := st.ExchangeStatus(ctx, "other"); ok {
			t.Error("another exchange has a status")
		}
	})
	t.Run("bank changes", func(t *testing.T) {
		st := open(t)
		for _, name := range []string{"pub", "other"} {
			if _, err := st.CreateBank(ctx, bank.Bank{Name: name}); err != nil {
				t.Fatal(err)
			}
		}
		add := func(bankName string, vals ...int) {
			t.Helper()
			var es []bank.Entry
			for _, v := range vals {
				es = append(es, bank.Entry{Signal: bank.MD5, Value: fmt.Sprintf("%032x", v), Source: "s", Category: "A1"})
			}
			if _, err := st.AddEntries(ctx, bankName, func(yield func(bank.Entry, error) bool) {
				for _, e := range es {
					if !yield(e, nil) {
						return
					}
				}
			}, nil); err != nil {
				t.Fatal(err)
			}
		}
		add("pub", 1, 2)
		add("other", 3)
		add("pub", 4)
		if err := st.RemoveEntry(ctx, "pub", bank.MD5, fmt.Sprintf("%032x", 1)); err != nil {
			t.Fatal(err)
		}
		feed := func(after int64, limit int) (string, int64) {
			t.Helper()
			cs, err := st.BankChanges(ctx, "pub", after, limit)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			last := after
			for _, c := range cs {
				if c.Seq <= last {
					t.Fatalf("seq %d after %d", c.Seq, last)
				}
				last = c.Seq
				fmt.Fprintf(&b, "%s%s ", map[bool]string{true: "-", false: "+"}[c.Removed], strings.TrimLeft(c.Entry.Value, "0"))
			}
			return strings.TrimSpace(b.String()), last
		}
		// 1 was added then removed: its one change is its latest state.
		if got, _ := feed(0, 10); got != "+2 +4 -1" {
			t.Errorf("feed = %q, want +2 +4 -1", got)
		}
		got, next := feed(0, 2)
		if got != "+2 +4" {
			t.Errorf("first page = %q", got)
		}
		if got, _ := feed(next, 2); got != "-1" {
			t.Errorf("second page = %q", got)
		}
		_, end := feed(0, 10)
		if err := st.DeleteBank(ctx, "pub"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateBank(ctx, bank.Bank{Name: "pub"}); err != nil {
			t.Fatal(err)
		}
		add("pub", 5)
		if got, _ := feed(end, 10); got != "-2 -4 +5" && got != "-4 -2 +5" {
			t.Errorf("after delete and re-create: %q, want the old entries' removals then +5", got)
		}
		if cs, err := st.BankChanges(ctx, "nothing", 0, 10); err != nil || len(cs) != 0 {
			t.Errorf("a bank never created: %v, %v", cs, err)
		}
	})
}
