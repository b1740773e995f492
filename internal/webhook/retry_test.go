package webhook

import (
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	noJitter := Retry{Jitter: -1}
	var total time.Duration
	for n, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute} {
		got := noJitter.Delay(n+1, nil)
		if got != want {
			t.Errorf("Delay(%d) = %v, want %v", n+1, got, want)
		}
		total += got
	}
	// The defaults: 8 attempts, so 7 waits, about an hour in all.
	if d := (Retry{}).withDefaults(); d.MaxAttempts != 8 || total < 55*time.Minute || total > 70*time.Minute {
		t.Errorf("defaults: %d attempts over %v, want 8 over about an hour", d.MaxAttempts, total)
	}
	if got := noJitter.Delay(40, nil); got != time.Hour {
		t.Errorf("Delay(40) = %v, want the 1h cap (and no overflow)", got)
	}
	r := Retry{BaseDelay: time.Second, Jitter: 0.5}
	for _, tt := range []struct {
		rnd  float64
		want time.Duration
	}{{0, 2 * time.Second}, {0.5, 4 * time.Second}, {0.999999, 6 * time.Second}} {
		got := r.Delay(3, func() float64 { return tt.rnd })
		if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("Delay(3) with jitter 0.5 and rnd %v = %v, want %v", tt.rnd, got, tt.want)
		}
	}
	for range 100 {
		if got := (Retry{}).Delay(1, nil); got < 24*time.Second || got > 36*time.Second {
			t.Fatalf("default Delay(1) = %v, want 30s ± 20%%", got)
		}
	}
}
