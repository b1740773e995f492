package usecase

import (
	"context"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
)

// Feeds serves the published banks' signed feeds to partner instances
// (docs/exchanges.md, Safeguard to Safeguard). A read from a feed's start
// (after 0) is a whole list leaving the service, so it is audited as an
// export is (bank.feed, by the partner's key); the later pages a partner
// polls every few minutes are not, or they would fill the log.
type Feeds struct {
	Publisher *peer.Publisher
	Log       *audit.Log
}

// Page returns the signed page of bank's feed after position after, and
// its signature header.
func (u *Feeds) Page(ctx context.Context, actor, bankName string, after int64, limit int) (body []byte, signature string, err error) {
	body, signature, err = u.Publisher.Page(ctx, bankName, after, limit)
	if err != nil || after != 0 {
		return body, signature, err
	}
	if err := record(ctx, u.Log, actor, audit.BankFeed, bankName, map[string]any{"limit": limit}); err != nil {
		return nil, "", err
	}
	return body, signature, nil
}
