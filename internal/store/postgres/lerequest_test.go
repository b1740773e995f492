package postgres

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/lerequest/lerequesttest"
)

func TestLERequest(t *testing.T) {
	testURL(t)
	lerequesttest.Run(t, func(t *testing.T) lerequesttest.Backend { return openTest(t) })
}
