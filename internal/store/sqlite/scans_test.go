package sqlite

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/scan/scantest"
)

func TestScans(t *testing.T) {
	scantest.Run(t, func(t *testing.T) scan.Store { return openEmpty(t) })
}
