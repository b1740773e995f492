package signal_test

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/signal"
)

func TestTargetAny(t *testing.T) {
	for _, c := range []struct {
		t    signal.Target
		want bool
	}{
		{signal.Target{}, false},
		{signal.Target{ContentID: "c"}, true},
		{signal.Target{AccountID: "a"}, true},
		{signal.Target{PDQ: true}, true},
		{signal.Target{MD5: true}, true},
		{signal.Target{SHA256: true}, true},
	} {
		if got := c.t.Any(); got != c.want {
			t.Errorf("%+v.Any() = %v, want %v", c.t, got, c.want)
		}
	}
}
