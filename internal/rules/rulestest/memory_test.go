package rulestest

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/rules"
)

func TestMemory(t *testing.T) {
	Run(t, func(*testing.T) rules.Store { return new(Memory) })
}
