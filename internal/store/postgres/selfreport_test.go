package postgres

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/selfreport"
	"github.com/safeguard-oss/safeguard/internal/selfreport/selfreporttest"
)

func TestSelfReport(t *testing.T) {
	testURL(t)
	selfreporttest.Run(t, func(t *testing.T) selfreport.Store { return openTest(t) })
}
