package exchange

import (
	"context"

	"github.com/safeguard-oss/safeguard/internal/bank"
)

// Store is what a database keeps for exchanges beside the banks: where each
// exchange's next fetch starts, and which of a bank's entries came from
// which upstream record. internal/store implements it over SQLite and
// PostgreSQL; usecase.Exchanges applies batches through it and the bank
// use case.
type Store interface {
	// ExchangeCheckpoint returns an exchange's stored checkpoint, or the
	// zero Checkpoint if it has none.
	ExchangeCheckpoint(ctx context.Context, exchange string) (Checkpoint, error)
	// SetExchangeCheckpoint stores an exchange's checkpoint.
	SetExchangeCheckpoint(ctx context.Context, exchange string, cp Checkpoint) error
	// SourceEntries returns the live entries of a bank whose Source is
	// source and whose ExternalID is one of ids; nil ids means every ID.
	// bank.ErrNotFound if there is no such bank.
	SourceEntries(ctx context.Context, bankName, source string, ids []string) ([]bank.Entry, error)
	// TryLockExchange is Lock.TryLock: on PostgreSQL a session advisory
	// lock that frees itself when its connection drops, on SQLite a lock
	// within the process.
	TryLockExchange(ctx context.Context, exchange string) (release func(), ok bool, err error)
	// BankChanges is bank.Store's change feed of the banks named bankName
	// (the live one and any deleted before it): up to limit changes with
	// Seq above after, in Seq order. A publisher serves it as the bank's
	// feed (peer.Source).
	BankChanges(ctx context.Context, bankName string, after int64, limit int) ([]bank.Change, error)
	StatusStore
	FeedbackStore
}

// StatusStore keeps each exchange's Status where every node reads it, so
// that whichever node answers says the same. Only the node holding the
// exchange's lock writes it.
type StatusStore interface {
	// ExchangeStatus returns an exchange's stored status; ok is false if
	// none is stored.
	ExchangeStatus(ctx context.Context, exchange string) (s Status, ok bool, err error)
	// SetExchangeStatus stores s as the status of the exchange s.Name.
	SetExchangeStatus(ctx context.Context, s Status) error
}
