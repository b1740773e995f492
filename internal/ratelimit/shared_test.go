package ratelimit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/ratelimit"
)

// keys are the bucket rows the limiters made, scope/key.
func (s *buckets) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ks []string
	for k := range s.rows {
		ks = append(ks, k)
	}
	return ks
}

// Shared limiters store a client's key as its HMAC under the deployment's
// key: servers with the same key count together, the stored key is not
// the address's plain hash (which a reader could find by trying every
// IPv4 address), and without a key nothing is counted or stored.
func TestSharedKeyed(t *testing.T) {
	ctx, now := context.Background(), time.Now()
	l := ratelimit.Limit{What: "tries", Burst: 2, Per: time.Hour}
	keyA, err := ratelimit.ParseKey(ratelimit.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	keyB, _ := ratelimit.ParseKey(ratelimit.NewKey())
	st := &buckets{}
	node1 := ratelimit.New(l, "s", st, keyA)
	node2 := ratelimit.New(l, "s", st, keyA)
	const addr = "192.0.2.7"
	if err := node1.Allow(ctx, addr, now); err != nil {
		t.Fatal(err)
	}
	if err := node2.Allow(ctx, addr, now); err != nil {
		t.Fatal(err)
	}
	var le *ratelimit.LimitError
	if err := node1.Allow(ctx, addr, now); !errors.As(err, &le) {
		t.Errorf("third try over two servers of one key: %v, want refused (the budget is shared)", err)
	}
	if err := ratelimit.New(l, "s", st, keyB).Allow(ctx, addr, now); err != nil {
		t.Errorf("another deployment's key: %v, want its own bucket", err)
	}
	plain := sha256.Sum256([]byte(addr))
	ks := st.keys()
	if len(ks) != 2 {
		t.Fatalf("stored keys %q, want one per deployment key", ks)
	}
	for _, k := range ks {
		if strings.Contains(k, addr) || strings.Contains(k, hex.EncodeToString(plain[:16])) {
			t.Errorf("stored key %q gives the address away", k)
		}
	}

	unkeyed := ratelimit.New(l, "s", st, nil)
	if err := unkeyed.Allow(ctx, "192.0.2.8", now); err == nil || errors.As(err, &le) {
		t.Errorf("a shared limiter without a key: %v, want a failure", err)
	}
	if len(st.keys()) != 2 {
		t.Errorf("a limiter without a key stored %q", st.keys())
	}
}

func TestParseKey(t *testing.T) {
	for _, bad := range []string{"", "zz", strings.Repeat("ab", 31), strings.Repeat("g", 64)} {
		if _, err := ratelimit.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted it", bad)
		}
	}
	k, err := ratelimit.ParseKey(ratelimit.NewKey())
	if err != nil || len(k) != ratelimit.MinKeySize {
		t.Errorf("ParseKey(NewKey()) = %d bytes, %v", len(k), err)
	}
	if a, b := ratelimit.NewKey(), ratelimit.NewKey(); a == b {
		t.Error("NewKey made the same key twice")
	}
}
