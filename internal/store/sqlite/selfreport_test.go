package sqlite

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/selfreport"
	"github.com/safeguard-oss/safeguard/internal/selfreport/selfreporttest"
)

func TestSelfReport(t *testing.T) {
	selfreporttest.Run(t, func(t *testing.T) selfreport.Store {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
