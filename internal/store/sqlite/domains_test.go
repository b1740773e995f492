package sqlite

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/rules/rulestest"
)

// openEmpty opens a new store in a directory of the test's own.
func openEmpty(t *testing.T) *Store {
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAudit(t *testing.T) {
	audittest.TestStore(t, func(t *testing.T) audit.Store { return openEmpty(t) })
}

func TestKeys(t *testing.T) {
	authtest.TestStore(t, func(t *testing.T) auth.Store { return openEmpty(t) })
}

func TestRules(t *testing.T) {
	rulestest.Run(t, func(t *testing.T) rules.Store { return openEmpty(t) })
}
