package reviewtest

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/review"
)

func TestMemory(t *testing.T) {
	Run(t, func(*testing.T) review.Store { return new(Memory) })
}
