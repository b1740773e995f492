package lereporttest

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/lereport"
)

func TestMemory(t *testing.T) {
	Run(t, func(*testing.T) lereport.Store { return new(Memory) })
}
