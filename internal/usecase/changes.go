package usecase

import (
	"context"

	"github.com/safeguard-oss/safeguard/internal/audit"
)

// Changes writes a change and the audit entry that records it in one
// transaction: the use case of changes that need nothing else done
// (webhooks, API keys, data requests, law-enforcement reports; rules have
// their own, Rules). An entry the log refuses undoes the change, so nothing
// is changed unaudited.
type Changes struct {
	Tx  Tx
	Log *audit.Log
}

// Do runs write over a transaction's stores, then records that actor did
// action to the subject write names, with the detail it returns.
func (u *Changes) Do(ctx context.Context, actor, action string, write func(tx Stores) (subject string, detail any, err error)) error {
	return u.Tx(ctx, func(tx Stores) error {
		subject, detail, err := write(tx)
		if err != nil {
			return err
		}
		return record(ctx, u.Log.In(tx.Audit), actor, action, subject, detail)
	})
}
