package auth_test

import (
	"context"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
)

// BenchmarkAuthenticate measures what a request pays for its key, beyond
// the store's lookup (here a map).
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	s := new(authtest.Memory)
	plain, _, err := auth.Create(ctx, s, auth.Integrator, "bench", "bench")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := auth.Authenticate(ctx, s, plain); err != nil {
			b.Fatal(err)
		}
	}
}
