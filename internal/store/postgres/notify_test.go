package postgres

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/evidence/evidencetest"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// A listener hears, at once, entries added, a key revoked and a rule
// created or changed through another connection pool (another server),
// and not a key merely used.
func TestListen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := testkit.PostgresSchema(t, testURL(t))
	listener, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	other, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	heard := make(chan store.Notice, 16)
	go listener.Listen(ctx, func(n store.Notice) { heard <- n }, func(err error) { t.Log(err) })
	next := func() store.Notice {
		t.Helper()
		select {
		case n := <-heard:
			return n
		case <-time.After(5 * time.Second):
			t.Fatal("no notification within 5 s")
		}
		return store.Notice{}
	}
	// Notifications are the database's, not the schema's: other tests
	// running beside this one in their own schemas change banks too, so
	// past the first notices a wait for one topic skips the others'.
	nextOf := func(topic string) store.Notice {
		t.Helper()
		for {
			if n := next(); n.Topic == topic {
				return n
			}
		}
	}
	// On connecting: everything may have changed.
	if got := []store.Notice{next(), next(), next()}; !slices.Contains(got, store.Notice{Topic: store.TopicEntries}) ||
		!slices.Contains(got, store.Notice{Topic: store.TopicKeys}) || !slices.Contains(got, store.Notice{Topic: store.TopicRules}) {
		t.Fatalf("first notices %v, want one of each topic with no key", got)
	}

	if _, err := other.CreateBank(ctx, bank.Bank{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	entries := func(yield func(bank.Entry, error) bool) {
		yield(bank.Entry{Signal: bank.MD5, Value: "0123456789abcdef0123456789abcdef"}, nil)
	}
	if _, err := other.AddEntries(ctx, "b", entries, nil); err != nil {
		t.Fatal(err)
	}
	if n := next(); n.Topic != store.TopicEntries {
		t.Fatalf("after an addition: %+v", n)
	}

	_, k, err := auth.Create(ctx, other, auth.Integrator, "k", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.TouchKey(ctx, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	// A change of the key's rate limit is heard (0024), so that every
	// server applies it at once.
	if err := other.SetKeyLimit(ctx, k.ID, &auth.RateLimit{Burst: 9, PerSecond: 1}); err != nil {
		t.Fatal(err)
	}
	if n := nextOf(store.TopicKeys); n != (store.Notice{Topic: store.TopicKeys, Key: k.ID}) {
		t.Fatalf("after a change of the rate limit: %+v, want key %s", n, k.ID)
	}
	if err := other.RevokeKey(ctx, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := nextOf(store.TopicKeys); n != (store.Notice{Topic: store.TopicKeys, Key: k.ID}) {
		t.Fatalf("after a revocation: %+v, want key %s (a touch notifies nothing)", n, k.ID)
	}

	r, err := other.CreateRule(ctx, rules.Rule{Name: "r", Enabled: true, Banks: []string{"b"}, Actions: []rules.Action{{Kind: rules.Block}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := nextOf(store.TopicRules); n != (store.Notice{Topic: store.TopicRules}) {
		t.Fatalf("after a rule's creation: %+v", n)
	}
	r.Enabled = false
	if _, err := other.UpdateRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	if n := nextOf(store.TopicRules); n != (store.Notice{Topic: store.TopicRules}) {
		t.Fatalf("after a rule's change: %+v", n)
	}
}

// Evidence kept through one server's store is read through another's.
func TestEvidenceFiles(t *testing.T) {
	evidencetest.Run(t, func(t *testing.T) (evidence.Files, evidence.Files) {
		url := testkit.PostgresSchema(t, testURL(t))
		var fs []evidence.Files
		for range 2 {
			s, err := Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			fs = append(fs, s.EvidenceFiles())
		}
		return fs[0], fs[1]
	})
}
