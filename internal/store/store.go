// Package store holds the interfaces through which the domain packages keep
// their data, and the errors they share. The implementations are its
// subpackages: sqlite, the embedded default, and postgres, for larger
// installations; storetest runs one test suite against both. SQL lives only
// in those subpackages.
package store

import (
	"context"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/selfreport"
	"github.com/safeguard-oss/safeguard/internal/session"
	"github.com/safeguard-oss/safeguard/internal/textmsg"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Errors the stores wrap with what was not found or already exists, e.g.
// fmt.Errorf("scan %q: %w", id, ErrNotFound) (banks have bank.ErrNotFound);
// test them with errors.Is or by their kind (derrors.NotFound).
var (
	ErrNotFound = derrors.New(derrors.NotFound, "not found")
	ErrExists   = derrors.New(derrors.Exists, "already exists")
)

// Store is everything a Safeguard server keeps: banks, and the storage each
// domain package defines for itself (their method names do not collide, so
// one store type implements them all). Its review.Index scans every case's
// PDQ hashes per lookup, fine for the cases a review team opens; see the
// backends' NearCases for the figures.
type Store interface {
	bank.Store
	audit.Store
	auth.Store
	rules.Store
	webhook.Store
	review.Store
	review.Index
	lereport.Store
	export.Store // lerequest.Store, and what exports read
	scan.Store
	selfreport.Store
	exchange.Store
	network.Store
	textmsg.Store
	match.Marks
	notice.Store
	session.Store
	// Atomically runs fn with a view of the store whose every read and
	// write goes through one transaction, committed if fn returns nil and
	// rolled back otherwise: how a change and its audit entry are written
	// together or not at all. Inside fn only the view may be used (on
	// SQLite, writing through the outer store would wait for fn forever); a
	// failed method call inside undoes only its own step.
	Atomically(ctx context.Context, fn func(Store) error) error
	Close() error
}
