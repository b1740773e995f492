package scantest

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/scan"
)

func TestMemory(t *testing.T) {
	Run(t, func(*testing.T) scan.Store { return new(Memory) })
}
