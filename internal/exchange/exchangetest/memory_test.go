package exchangetest_test

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange/exchangetest"
)

func TestMemory(t *testing.T) {
	exchangetest.TestSink(t, func(t *testing.T) exchangetest.Target {
		m := &exchangetest.Memory{}
		return exchangetest.Target{Sink: m, Checkpoints: m,
			Entries: func(_ context.Context, name string) ([]bank.Entry, error) { return m.Entries(name), nil }}
	})
}

func TestLockIsExclusive(t *testing.T) {
	var l exchangetest.Lock
	ctx := context.Background()
	release, ok, _ := l.TryLock(ctx, "a")
	if !ok {
		t.Fatal("a free lock was refused")
	}
	if _, ok, _ := l.TryLock(ctx, "a"); ok {
		t.Error("a held lock was given twice")
	}
	if _, ok, _ := l.TryLock(ctx, "b"); !ok {
		t.Error("another exchange's lock was refused")
	}
	release()
	release() // twice is harmless
	if _, ok, _ := l.TryLock(ctx, "a"); !ok {
		t.Error("a released lock was refused")
	}
}
