package postgres

import (
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/rules/rulestest"
)

// Each suite opens a store in a schema of its own per test (openTest), and
// skips when SAFEGUARD_TEST_POSTGRES is not set.

func TestAudit(t *testing.T) {
	testURL(t)
	audittest.TestStore(t, func(t *testing.T) audit.Store { return openTest(t) })
}

func TestKeys(t *testing.T) {
	testURL(t)
	authtest.TestStore(t, func(t *testing.T) auth.Store { return openTest(t) })
}

func TestRules(t *testing.T) {
	testURL(t)
	rulestest.Run(t, func(t *testing.T) rules.Store { return openTest(t) })
}

// TestAuditRefusesFork: an entry whose Prev is not the last entry's hash is
// refused even with the right Seq, so a buggy builder cannot fork the chain.
func TestAuditRefusesFork(t *testing.T) {
	s := openTest(t)
	first, err := audit.NewLog(s).Record(t.Context(), audit.System, audit.KeyCreate, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.AppendAudit(t.Context(), func(*audit.Entry) (audit.Entry, error) {
		return audit.Next(&audit.Entry{Seq: first.Seq}, time.Now(), "k", audit.KeyRevoke, "k", nil), nil
	})
	if err == nil {
		t.Error("AppendAudit accepted entry 2 with the wrong prev hash")
	}
}
