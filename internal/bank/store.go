package bank

import (
	"context"
	"iter"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
)

// Errors of a Store, wrapped with what was not found or already exists,
// e.g. fmt.Errorf("bank %q: %w", name, bank.ErrNotFound).
var (
	ErrNotFound = derrors.New(derrors.NotFound, "not found")
	ErrExists   = derrors.New(derrors.Exists, "already exists")
)

// ImportResult counts what AddEntries did.
type ImportResult struct {
	Added    int64 // new live entries
	Existing int64 // entries whose signal and value were already live in the bank
}

// Change is the latest state of one entry, for keeping an in-memory index in
// step with the banks.
type Change struct {
	Seq     int64 // increases with every change; see Store.Changes
	Entry   Entry
	Removed bool // removed, or its bank deleted
}

// Store keeps banks and their entries; internal/store implements it over
// SQLite and PostgreSQL.
//
// An entry is live from when it is added until it is removed or its bank is
// deleted; a removed entry stays in the store as history (and as a Change),
// and adding its value again makes a new entry.
type Store interface {
	// CreateBank creates a bank and returns it with its ID and creation
	// time. A zero Threshold becomes DefaultThreshold. ErrExists if a
	// live bank has the name.
	CreateBank(ctx context.Context, b Bank) (Bank, error)
	// Bank returns the live bank of that name, with its count of live
	// entries. ErrNotFound if there is none.
	Bank(ctx context.Context, name string) (Bank, error)
	// ListBanks returns the live banks in name order, with their counts.
	ListBanks(ctx context.Context) ([]Bank, error)
	// UpdateBank sets the description, threshold and vPDQ threshold of the bank named
	// b.Name. ErrNotFound if there is none.
	UpdateBank(ctx context.Context, b Bank) error
	// DeleteBank deletes a bank: its live entries become removed, each with
	// a new Change, and the name is free for a new  ErrNotFound if
	// there is no such
	DeleteBank(ctx context.Context, name string) error

	// AddEntries adds entries to a bank in one transaction: all or nothing.
	// The iterator's first error aborts and rolls back, and is returned
	// wrapped, so errors.As finds a *LineError in it; so does an entry
	// that fails Entry.Normalize. An entry whose signal and value are
	// already live in the bank counts as Existing and changes nothing, so
	// re-importing a file is a no-op. Entries without AddedAt get the time
	// of the import. Entries stream: they are inserted in batches, never all
	// held in memory. progress, if not nil, is called now and then with the
	// number of entries read so far. ErrNotFound if there is no such
	AddEntries(ctx context.Context, bankName string, entries iter.Seq2[Entry, error], progress func(n int64)) (ImportResult, error)
	// RemoveEntry removes the live entry of a signal and value from a
	// ErrNotFound if there is no such bank or entry.
	RemoveEntry(ctx context.Context, bankName string, sig Signal, value string) error
	// Entry returns a live entry by ID. ErrNotFound if there is none (also
	// when it was removed: a removed entry must not explain a match).
	Entry(ctx context.Context, id int64) (Entry, error)
	// LiveEntry returns the live entry of a signal and value in a bank.
	// ErrNotFound if there is no such bank or entry.
	LiveEntry(ctx context.Context, bankName string, sig Signal, value string) (Entry, error)
	// Entries streams a bank's live entries in ID order, for export. It
	// reads in pages and holds no connection or transaction between them,
	// so the caller may write to the store while ranging.
	Entries(ctx context.Context, bankName string) iter.Seq2[Entry, error]
	// Changes returns up to limit changes with Seq > since, in Seq order.
	// Every entry added, removed or belonging to a deleted bank gets a new
	// Seq, and a Change carries the entry's latest state, so a reader that
	// applies changes from its last Seq onwards converges on the live
	// entries; applying the same change twice is harmless. A reader that
	// starts from 0 also sees the removed entries, once each.
	Changes(ctx context.Context, since int64, limit int) ([]Change, error)
	// ChangeKeys is Changes with each Entry holding only its ID, BankID,
	// Signal and Value: what an index needs, read in 55-70 % of the time,
	// which counts when a matcher loads millions of entries at start.
	ChangeKeys(ctx context.Context, since int64, limit int) ([]Change, error)
}

// SourceCount is how many of a bank's live entries one source supplied.
type SourceCount struct {
	Source  string `json:"source"` // empty: entries that name none
	Entries int64  `json:"entries"`
}

// Summary is where a bank's live entries came from and when the last of
// them was added.
type Summary struct {
	Sources   []SourceCount // most entries first
	LastAdded time.Time     // zero for an empty bank
}

// Summarizer is a Store that can summarize a bank's entries (both SQL
// stores can). It reads every live entry of the bank, so it is for an
// admin's page, not for every request.
type Summarizer interface {
	// Summarize returns the summary of the live bank of that name.
	// ErrNotFound if there is none.
	Summarize(ctx context.Context, name string) (Summary, error)
}
