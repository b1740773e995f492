package sqlite

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textmsg/textmsgtest"
)

func TestTextMessages(t *testing.T) {
	textmsgtest.Run(t, func(t *testing.T) textmsg.Store {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
