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
