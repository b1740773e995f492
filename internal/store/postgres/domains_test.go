package postgres

import (
	"testing"

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
