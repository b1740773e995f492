package selfreporttest

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/selfreport"
)

func TestMemory(t *testing.T) {
	Run(t, func(*testing.T) selfreport.Store { return new(Memory) })
}
