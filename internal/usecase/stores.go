package usecase

import (
	"context"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Stores are the stores use cases write to. A server has one database
// behind them all; tests may set only those they use, and in-memory ones.
type Stores struct {
	Banks       bank.Store
	Audit       audit.Store
	Keys        auth.Store
	Rules       rules.Store
	Webhooks    webhook.Store
	Review      review.Store
	ReviewIndex review.Index
	LEReports   lereport.Store
	LERequests  lerequest.Store
	Exchanges   exchange.Store
	Network     network.Store
	Text        textmsg.Store
	Notices     notice.Store
}

// Tx runs fn over stores whose writes commit together, or not at all.
type Tx func(ctx context.Context, fn func(Stores) error) error

// Over returns st as Stores and the Tx that runs a function over a
// transaction of st (store.Store.Atomically).
func Over(st store.Store) (Stores, Tx) {
	return storesOf(st), func(ctx context.Context, fn func(Stores) error) error {
		return st.Atomically(ctx, func(tx store.Store) error { return fn(storesOf(tx)) })
	}
}

func storesOf(st store.Store) Stores {
	return Stores{Banks: st, Audit: st, Keys: st, Rules: st, Webhooks: st, Review: st, ReviewIndex: st, LEReports: st, LERequests: st, Exchanges: st, Network: st, Text: st, Notices: st}
}

// Separately is the Tx of stores that share no transaction (in-memory ones
// in tests): fn runs over s itself, and a failure part way leaves what was
// written.
func Separately(s Stores) Tx {
	return func(ctx context.Context, fn func(Stores) error) error { return fn(s) }
}
