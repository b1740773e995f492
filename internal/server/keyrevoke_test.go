package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
)

// TestKeyRevokedEveryEntryPoint revokes a key behind a running server's
// back (as safeguard apikey revoke does): /v1 and the HMA listener read it
// through one key cache, so they refuse it from the same moment: within
// the cache's time (5 s) on SQLite, and at once, by the store's
// notification, on PostgreSQL. A key revoked through the API is refused
// by both at once.
func TestKeyRevokedEveryEntryPoint(t *testing.T) {
	for _, c := range []struct {
		name   string
		open   func(*testing.T) (server.Config, store.Store)
		within time.Duration
	}{{"sqlite", openSQLite, auth.KeyTTL + 2*time.Second}, {"postgres", openPostgres, time.Second}} {
		t.Run(c.name, func(t *testing.T) {
			cfg, st := c.open(t)
			cfg.HMAListen = "127.0.0.1:0"
			cfg.KeyLimitOff = true // the test polls
			ctx := context.Background()
			srv, base, admin := startServer(t, cfg, st)
			hmaBase := "http://" + srv.HMAAddr()
			status := func(key string) (v1, hma int) {
				t.Helper()
				v1, _, _ = getKeyed(t, base, key, "/v1/banks")
				hma, _, _ = getKeyed(t, hmaBase, key, "/c/banks")
				return v1, hma
			}

			key, k, err := auth.Create(ctx, st, auth.Admin, "revoked behind the server's back", "test")
			if err != nil {
				t.Fatal(err)
			}
			if v1, hma := status(key); v1 != http.StatusOK || hma != http.StatusOK {
				t.Fatalf("before the revocation: /v1 %d, HMA %d", v1, hma)
			}
			cached := time.Now()
			if err := st.RevokeKey(ctx, k.ID, time.Now().UTC()); err != nil {
				t.Fatal(err)
			}
			revoked := time.Now()
			first := true
			for {
				v1, hma := status(key)
				if c.name == "sqlite" && first && time.Since(cached) < auth.KeyTTL-time.Second && hma != http.StatusOK {
					t.Errorf("HMA refused the key (%d) while /v1's cache still held it: the HMA listener reads the store itself", hma)
				}
				first = false
				if v1 == http.StatusUnauthorized && hma == http.StatusUnauthorized {
					break
				}
				if v1 != http.StatusOK && v1 != http.StatusUnauthorized || hma != http.StatusOK && hma != http.StatusUnauthorized {
					t.Fatalf("status: /v1 %d, HMA %d", v1, hma)
				}
				if v1 == http.StatusUnauthorized || hma == http.StatusUnauthorized {
					// One refused, so the cache read the revocation; the
					// other's next request must be refused too.
					if v1, hma := status(key); v1 != http.StatusUnauthorized || hma != http.StatusUnauthorized {
						t.Fatalf("after the first refusal: /v1 %d, HMA %d; want both 401", v1, hma)
					}
					break
				}
				if time.Since(revoked) > c.within {
					t.Fatalf("the revoked key still served %v after its revocation", c.within)
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("/v1 and HMA refused the key %v after its revocation", time.Since(revoked).Round(time.Millisecond))

			// Through the API: forgotten by the one cache at once.
			key2, k2, err := auth.Create(ctx, st, auth.Admin, "revoked through the API", "test")
			if err != nil {
				t.Fatal(err)
			}
			if v1, hma := status(key2); v1 != http.StatusOK || hma != http.StatusOK {
				t.Fatalf("before the revocation through the API: /v1 %d, HMA %d", v1, hma)
			}
			req, _ := http.NewRequest("DELETE", base+"/v1/keys/"+k2.ID, nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE /v1/keys/%s: %d", k2.ID, resp.StatusCode)
			}
			if v1, hma := status(key2); v1 != http.StatusUnauthorized || hma != http.StatusUnauthorized {
				t.Errorf("at once after DELETE /v1/keys: /v1 %d, HMA %d; want both 401", v1, hma)
			}
		})
	}
}
