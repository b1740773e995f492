package usecase

import (
	"context"
	"fmt"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// Exchanges applies what exchanges fetch to banks: it is the Runner's
// exchange.Sink, exchange.Checkpoints and exchange.Lock over the stores of
// Banks. A batch's removals, additions, audit entry and checkpoint are one
// transaction, and the index is brought up to date after it, as for every
// other bank change.
type Exchanges struct {
	Banks *Banks
}

var (
	_ exchange.Sink        = (*Exchanges)(nil)
	_ exchange.Checkpoints = (*Exchanges)(nil)
	_ exchange.Lock        = (*Exchanges)(nil)
)

// Apply implements exchange.Sink. The entries a record ID holds are found
// by their provenance (Source is the exchange, ExternalID the record id).
// An entry unchanged (same signal, value, category and note) is not
// touched; one no longer in its record is removed, a new one added, all removals of the batch
// before its additions, so a value moving from one record to another in a
// batch stays live. A value already live in the bank from elsewhere (an
// import, a reviewer) is left as it is, with its own provenance, and counts
// as existing. The audit entry, by actor "exchange:<name>", counts what
// changed; a batch that changed nothing records none, so polls of an
// unchanged list leave no trail of empty entries.
func (u *Exchanges) Apply(ctx context.Context, b exchange.Batch) error {
	var removed int
	var res bank.ImportResult
	err := u.Banks.Tx(ctx, func(tx Stores) error {
		removed, res = 0, bank.ImportResult{}
		var ids []string
		if !b.Complete {
			ids = make([]string, 0, len(b.Changes))
			for _, c := range b.Changes {
				ids = append(ids, c.ID)
			}
		}
		held, err := tx.Exchanges.SourceEntries(ctx, b.Bank, b.Exchange, ids)
		if err != nil {
			return err
		}
		old := map[string][]bank.Entry{}
		for _, e := range held {
			old[e.ExternalID] = append(old[e.ExternalID], e)
		}
		want := map[string][]bank.Entry{}
		var order []string
		for _, c := range b.Changes {
			es := make([]bank.Entry, 0, len(c.Entries))
			for _, e := range c.Entries {
				n, err := e.Normalize()
				if err != nil {
					return fmt.Errorf("record %q: %w", exchange.Clip(c.ID), err)
				}
				n.Source, n.ExternalID, n.ID, n.BankID = b.Exchange, c.ID, 0, 0
				es = append(es, n)
			}
			if _, seen := want[c.ID]; !seen {
				order = append(order, c.ID)
			}
			want[c.ID] = es // a later change of the same record replaces an earlier one
		}
		if b.Complete {
			for id := range old {
				if _, ok := want[id]; !ok {
					order = append(order, id)
				}
			}
		}
		var adds []bank.Entry
		for _, id := range order {
			gone, fresh := diff(old[id], want[id])
			for _, e := range gone {
				if err := tx.Banks.RemoveEntry(ctx, b.Bank, e.Signal, e.Value); err != nil {
					return fmt.Errorf("record %q: %w", exchange.Clip(id), err)
				}
				removed++
			}
			adds = append(adds, fresh...)
		}
		if len(adds) > 0 {
			if res, err = tx.Banks.AddEntries(ctx, b.Bank, Slice(adds), nil); err != nil {
				return err
			}
		}
		if err := tx.Exchanges.SetExchangeCheckpoint(ctx, b.Exchange, b.Checkpoint); err != nil {
			return fmt.Errorf("storing the checkpoint of exchange %q: %w", b.Exchange, err)
		}
		if removed == 0 && res.Added == 0 {
			return nil
		}
		return record(ctx, u.Banks.Log.In(tx.Audit), "exchange:"+b.Exchange, audit.BankEntries, b.Bank, map[string]any{
			"exchange": b.Exchange, "records": len(b.Changes), "added": res.Added, "existing": res.Existing,
			"removed": removed, "complete": b.Complete})
	})
	if err != nil {
		return err
	}
	if removed == 0 && res.Added == 0 {
		return nil
	}
	return u.Banks.sync(ctx)
}

// diff returns the entries of a record to remove (no longer there, or
// there with another category or note) and to add. The time fetched does
// not count, or every re-fetch would rewrite every entry.
func diff(old, want []bank.Entry) (gone, fresh []bank.Entry) {
	key := func(e bank.Entry) string { return string(e.Signal) + " " + e.Value }
	same := func(x, y bank.Entry) bool { return x.Category == y.Category && x.Note == y.Note }
	had := make(map[string]bank.Entry, len(old))
	for _, e := range old {
		had[key(e)] = e
	}
	wanted := make(map[string]bank.Entry, len(want))
	for _, e := range want {
		wanted[key(e)] = e
	}
	for _, e := range old {
		if w, ok := wanted[key(e)]; !ok || !same(e, w) {
			gone = append(gone, e)
		}
	}
	for _, e := range want {
		if h, ok := had[key(e)]; !ok || !same(e, h) {
			fresh = append(fresh, e)
		}
	}
	return gone, fresh
}

// Load implements exchange.Checkpoints.
func (u *Exchanges) Load(ctx context.Context, name string) (exchange.Checkpoint, error) {
	return u.Banks.Stores.Exchanges.ExchangeCheckpoint(ctx, name)
}

// TryLock implements exchange.Lock.
func (u *Exchanges) TryLock(ctx context.Context, name string) (func(), bool, error) {
	return u.Banks.Stores.Exchanges.TryLockExchange(ctx, name)
}
