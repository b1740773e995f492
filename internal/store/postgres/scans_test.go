package postgres

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/scan/scantest"
)

func TestScans(t *testing.T) {
	testURL(t)
	scantest.Run(t, func(t *testing.T) scan.Store { return openTest(t) })
}
