package webhooktest

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/webhook"
)

func TestMemory(t *testing.T) {
	Run(t, func(*testing.T) webhook.Store { return new(Memory) })
}
