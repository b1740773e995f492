package postgres

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
)

func TestLEReport(t *testing.T) {
	testURL(t)
	lereporttest.Run(t, func(t *testing.T) lereport.Store { return openTest(t) })
}
