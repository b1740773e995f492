package sqlite

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/notice/noticetest"
)

func TestNotices(t *testing.T) {
	noticetest.Run(t, func(t *testing.T) notice.Store {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
