package sqlite

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
)

func TestLEReport(t *testing.T) {
	lereporttest.Run(t, func(t *testing.T) lereport.Store { return openEmpty(t) })
}
