package session_test

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/session"
	"github.com/safeguard-oss/safeguard/internal/session/sessiontest"
)

func TestMemory(t *testing.T) {
	sessiontest.TestStore(t, func(*testing.T) session.Store { return &session.Memory{} })
}
