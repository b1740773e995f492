package authtest_test

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
)

func TestMemory(t *testing.T) {
	authtest.TestStore(t, func(*testing.T) auth.Store { return new(authtest.Memory) })
}
