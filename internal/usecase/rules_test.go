package usecase_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Rules refuses what the server cannot honour (every problem named, as an
// invalid rule), writes versions with their author and audit entries, and
// empties the scans' cache so the next listing sees the change.
func TestRules(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateBank(ctx, bank.Bank{Name: "hotline", Threshold: bank.DefaultThreshold}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWebhook(ctx, webhook.Endpoint{Name: "hook", URL: "https://example.org/h", Secret: webhook.NewSecret(), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	stores, tx := usecase.Over(st)
	cache := rules.NewCache(st, time.Hour)
	stores.Rules = cache
	at := time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC)
	u := &usecase.Rules{Stores: stores, Tx: tx, Log: audit.NewLog(st), Now: func() time.Time { return at }}

	invalid := func(t *testing.T, err error, want ...string) {
		t.Helper()
		if !errors.Is(err, derrors.Invalid) || derrors.Code(err) != "invalid_rule" {
			t.Fatalf("err = %v (code %q), want an invalid rule", err, derrors.Code(err))
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("err = %q, want it to name %q", err, w)
			}
		}
	}
	bad := rules.Rule{Name: "bad", Enabled: true, Banks: []string{"hotline", "nope"},
		Actions: []rules.Action{{Kind: rules.Quarantine}, {Kind: rules.Notify, Webhook: "gone"}}}
	_, err = u.Create(ctx, "k1", "alice", bad)
	invalid(t, err, `bank "nope" does not exist`, `action 1: quarantine keeps content`, `action 2: webhook "gone" does not exist`)

	good := rules.Rule{Name: "block hotline", Enabled: true, Banks: []string{"hotline"},
		Actions: []rules.Action{{Kind: rules.Block}, {Kind: rules.Notify, Webhook: "hook"}}}
	withID := good
	withID.ID = 7
	_, err = u.Create(ctx, "k1", "alice", withID)
	invalid(t, err, "no id or version")

	if rs, err := cache.ListRules(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("ListRules before = %v, %v; want none", rs, err)
	}
	r1, err := u.Create(ctx, "k1", "alice", good)
	if err != nil {
		t.Fatal(err)
	}
	if r1.ID == 0 || r1.Version != 1 || r1.UpdatedBy != "alice" || !r1.UpdatedAt.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("created %+v, want id set, version 1, by alice at %v", r1, at.Truncate(time.Microsecond))
	}
	if rs, err := cache.ListRules(ctx); err != nil || len(rs) != 1 {
		t.Fatalf("ListRules after create = %v, %v; want the new rule (cache emptied)", rs, err)
	}

	upd := r1
	upd.Version = 0
	_, err = u.Update(ctx, "k2", "bob", r1.ID, upd)
	invalid(t, err, "send the version you last read")
	upd.Version, upd.ID = 1, r1.ID+1
	_, err = u.Update(ctx, "k2", "bob", r1.ID, upd)
	invalid(t, err, "body is rule")
	upd.ID, upd.Name = 0, "renamed"
	r2, err := u.Update(ctx, "k2", "bob", r1.ID, upd)
	if err != nil {
		t.Fatal(err)
	}
	if r2.ID != r1.ID || r2.Version != 2 || r2.UpdatedBy != "bob" || r2.Name != "renamed" {
		t.Errorf("updated %+v, want rule %d version 2 by bob", r2, r1.ID)
	}
	if _, err := u.Update(ctx, "k2", "bob", r1.ID, upd); !errors.Is(err, rules.ErrConflict) {
		t.Errorf("update from a stale version: %v, want rules.ErrConflict", err)
	}

	// Disabling checks no reference: a rule whose bank is gone can still be
	// turned off.
	if err := st.DeleteBank(ctx, "hotline"); err != nil {
		t.Fatal(err)
	}
	r3, err := u.Disable(ctx, "k3", "carol", r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r3.Enabled || r3.Version != 3 || r3.UpdatedBy != "carol" {
		t.Errorf("disabled %+v, want version 3, not enabled, by carol", r3)
	}
	if rs, err := cache.ListRules(ctx); err != nil || len(rs) != 1 || rs[0].Enabled {
		t.Errorf("ListRules after disable = %+v, %v; want the rule disabled", rs, err)
	}
	if _, err := u.Disable(ctx, "k3", "carol", r1.ID+100); !errors.Is(err, derrors.NotFound) {
		t.Errorf("disabling an unknown rule: %v, want NotFound", err)
	}

	var got []string
	for e, err := range st.AuditEntries(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Actor+" "+e.Action)
	}
	want := []string{"k1 rule.create", "k2 rule.update", "k3 rule.update"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit = %q, want %q", got, want)
	}
}
