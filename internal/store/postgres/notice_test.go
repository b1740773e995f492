package postgres

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/notice/noticetest"
)

func TestNotices(t *testing.T) {
	testURL(t)
	noticetest.Run(t, func(t *testing.T) notice.Store { return openTest(t) })
}
