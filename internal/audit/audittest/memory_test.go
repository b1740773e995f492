package audittest_test

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
)

func TestMemory(t *testing.T) {
	audittest.TestStore(t, func(*testing.T) audit.Store { return new(audittest.Memory) })
}
