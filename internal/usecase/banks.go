// Package usecase is the layer between the ways in (the HTTP API, the
// console, the CLI, Report Remove, exchanges) and the domain: each use case
// validates, writes its change and the change's audit entry in one
// transaction, and then carries out what follows (the index brought up to
// date, webhooks queued). So every way in has the same effects, and none can
// forget one.
package usecase

import (
	"context"
	"fmt"
	"iter"
	"maps"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
)

// Banks changes banks and their entries.
type Banks struct {
	Stores Stores // Banks, which Export reads outside any transaction
	Tx     Tx
	Log    *audit.Log
	// Matcher, if set, is brought up to date after each change, so that the
	// next scan in this process sees it; other processes follow the change
	// feed (match.Matcher.Watch).
	Matcher *match.Matcher
}

// Create creates a bank (a zero threshold takes bank.DefaultThreshold).
func (u *Banks) Create(ctx context.Context, actor string, b bank.Bank) (bank.Bank, error) {
	if b.Threshold == 0 {
		b.Threshold = bank.DefaultThreshold
	}
	if err := b.Validate(); err != nil {
		return bank.Bank{}, err
	}
	err := u.Tx(ctx, func(tx Stores) error {
		var err error
		if b, err = tx.Banks.CreateBank(ctx, b); err != nil {
			return err
		}
		return record(ctx, u.Log.In(tx.Audit), actor, audit.BankCreate, b.Name, map[string]any{"threshold": b.Threshold, "description": b.Description})
	})
	if err != nil {
		return bank.Bank{}, err
	}
	return b, u.sync(ctx)
}

// Delete deletes a bank and with it its entries.
func (u *Banks) Delete(ctx context.Context, actor, name string) error {
	err := u.Tx(ctx, func(tx Stores) error {
		b, err := tx.Banks.Bank(ctx, name)
		if err != nil {
			return err
		}
		if err := tx.Banks.DeleteBank(ctx, name); err != nil {
			return err
		}
		return record(ctx, u.Log.In(tx.Audit), actor, audit.BankDelete, name, map[string]any{"entries": b.Entries})
	})
	if err != nil {
		return err
	}
	return u.sync(ctx)
}

// Add adds entries to a bank, all or none (see bank.Store.AddEntries). The
// audit entry counts what was added, with detail's keys beside the counts
// (where the entries came from: a file's format, a case).
func (u *Banks) Add(ctx context.Context, actor, name string, entries iter.Seq2[bank.Entry, error], detail map[string]any, progress func(int64)) (bank.ImportResult, error) {
	var res bank.ImportResult
	err := u.Tx(ctx, func(tx Stores) error {
		var err error
		if res, err = tx.Banks.AddEntries(ctx, name, entries, progress); err != nil {
			return err
		}
		d := maps.Clone(detail)
		if d == nil {
			d = map[string]any{}
		}
		d["added"], d["existing"] = res.Added, res.Existing
		return record(ctx, u.Log.In(tx.Audit), actor, audit.BankEntries, name, d)
	})
	if err != nil {
		return bank.ImportResult{}, err
	}
	return res, u.sync(ctx)
}

// Remove removes the live entry of a signal and value from a bank. The
// value is not recorded: auditors read the log, and need not learn list
// contents from it.
func (u *Banks) Remove(ctx context.Context, actor, name string, sig bank.Signal, value string) error {
	err := u.Tx(ctx, func(tx Stores) error {
		if err := tx.Banks.RemoveEntry(ctx, name, sig, value); err != nil {
			return err
		}
		return record(ctx, u.Log.In(tx.Audit), actor, audit.BankEntries, name, map[string]any{"removed": 1, "signal": sig})
	})
	if err != nil {
		return err
	}
	return u.sync(ctx)
}

// Change runs write over a transaction's stores and records that actor did
// action to subject with the detail write returns, in the same
// transaction, then brings the index up to date: for changes of several
// steps that the methods above do not cover (an HMA client's rename, or
// content of several signals), with the same effects as theirs.
func (u *Banks) Change(ctx context.Context, actor, action, subject string, write func(tx Stores) (map[string]any, error)) error {
	err := u.Tx(ctx, func(tx Stores) error {
		detail, err := write(tx)
		if err != nil {
			return err
		}
		return record(ctx, u.Log.In(tx.Audit), actor, action, subject, detail)
	})
	if err != nil {
		return err
	}
	return u.sync(ctx)
}

// Export writes a bank's entries to w in format f. The export is recorded
// first: a hash list that left the service must be accounted for, even if
// the copy is cut short.
func (u *Banks) Export(ctx context.Context, actor, name string, f bank.Format, write func(entries iter.Seq2[bank.Entry, error]) error) error {
	b, err := u.Stores.Banks.Bank(ctx, name)
	if err != nil {
		return err
	}
	if err := record(ctx, u.Log, actor, audit.BankExport, name, map[string]any{"format": string(f), "entries": b.Entries}); err != nil {
		return err
	}
	return write(u.Stores.Banks.Entries(ctx, name))
}

func (u *Banks) sync(ctx context.Context) error {
	if u.Matcher == nil {
		return nil
	}
	if err := u.Matcher.Sync(ctx); err != nil {
		return fmt.Errorf("updating the index: %w", err)
	}
	return nil
}

// record appends an audit entry, saying which entry failed if it could not.
func record(ctx context.Context, log *audit.Log, actor, action, subject string, detail any) error {
	if _, err := log.Record(ctx, actor, action, subject, detail); err != nil {
		return fmt.Errorf("recording %s %q in the audit log: %w", action, subject, err)
	}
	return nil
}

// Slice streams a slice of entries, for Add.
func Slice(es []bank.Entry) iter.Seq2[bank.Entry, error] {
	return func(yield func(bank.Entry, error) bool) {
		for _, e := range es {
			if !yield(e, nil) {
				return
			}
		}
	}
}
