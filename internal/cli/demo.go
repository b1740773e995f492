package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// The demo bank: what a first start of an empty embedded store adds so that
// a first scan visibly matches. Its one entry is the PDQ hash of a photo of
// a bridge from Meta's ThreatExchange test data (demoImage; a test checks
// the hash is that file's), not abuse material.
const (
	demoBank  = "demo"
	demoImage = "testdata/threatexchange/pdq/data/reg-test-input/dih/bridge-1-original.jpg"
	demoPDQ   = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
)

// firstStart readies an empty store (no bank, no key) for a first try: it
// adds the demo bank and an admin key, printing the key (once: only its hash
// is kept) and how to undo both. It reports whether it did anything.
func firstStart(ctx context.Context, st store.Store, w io.Writer) (bool, error) {
	bs, err := st.ListBanks(ctx)
	if err != nil {
		return false, err
	}
	ks, err := st.ListKeys(ctx)
	if err != nil || len(bs) > 0 || len(ks) > 0 {
		return false, err
	}
	banks := cliBanks(st)
	desc := "DEMO, not real: one photo of a bridge from Meta's ThreatExchange test data (" + demoImage + "); remove with: safeguard bank rm " + demoBank
	if _, err := banks.Create(ctx, cliActor(), bank.Bank{Name: demoBank, Description: desc}); err != nil {
		return false, err
	}
	entry := bank.Entry{Signal: bank.PDQ, Value: demoPDQ, Source: "demo", Note: "bridge-1-original.jpg (demo)", AddedBy: cliActor()}
	if _, err := banks.Add(ctx, cliActor(), demoBank, usecase.Slice([]bank.Entry{entry}), map[string]any{"demo": true}, nil); err != nil {
		return false, err
	}
	plain, k, err := createKey(ctx, cliChanges(banks), auth.Admin, "first start", nil)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(w, `safeguard: first start of an empty store: added the DEMO bank %q (one test photo; remove it with
safeguard: 'safeguard bank rm %s', or start with --demo=false) and an admin key %s, shown this once:
safeguard: KEY=%s
`, demoBank, demoBank, k.ID, plain)
	return true, nil
}

// createKey makes an API key (with a rate limit of its own, or nil for the
// server's default) and records it in the audit log, both in one
// transaction: a crash between them cannot leave a key unaudited. It
// returns the key's secret, which is never stored.
func createKey(ctx context.Context, changes *usecase.Changes, role auth.Role, name string, limit *auth.RateLimit) (string, auth.Key, error) {
	var plain string
	var k auth.Key
	err := changes.Do(ctx, cliActor(), audit.KeyCreate, func(tx usecase.Stores) (string, any, error) {
		var err error
		plain, k, err = auth.CreateLimited(ctx, tx.Keys, role, name, cliActor(), limit)
		return k.ID, k.Created(), err
	})
	if err != nil {
		return "", auth.Key{}, err
	}
	return plain, k, nil
}
