package sqlite

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/lerequest/lerequesttest"
)

func TestLERequest(t *testing.T) {
	lerequesttest.Run(t, func(t *testing.T) lerequesttest.Backend { return openEmpty(t) })
}
