package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
)

// TestKeyRevokedEveryEntryPoint revokes a key behind a running server's
// back (as safeguard apikey revoke does): /v1, the HMA listener and the
// console read it through one key cache, so they refuse it from the same
// moment: within the cache's time (5 s) on SQLite, and at once, by the
// store's notification, on PostgreSQL. A key revoked through the API is
// refused by all three at once.
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
			// signIn returns a console session of key.
			signIn := func(key string) *browser {
				t.Helper()
				br := newBrowser(t, []string{base})
				_, _, page := br.send(0, "GET", "/console/signin", nil)
				if code, loc, body := br.send(0, "POST", "/console/signin", url.Values{"key": {key}, "csrf": {csrfOf(t, page)}, "next": {"/console/"}}); code != http.StatusSeeOther {
					t.Fatalf("console sign-in: %d %s %.300s", code, loc, body)
				}
				return br
			}
			// refused says which of /v1, HMA and the console refuse key
			// (the console's session, br, is sent to sign in again).
			refused := func(key string, br *browser) (r [3]bool) {
				t.Helper()
				for i, u := range [][2]string{{base, "/v1/banks"}, {hmaBase, "/c/banks"}} {
					switch status, _, _ := getKeyed(t, u[0], key, u[1]); status {
					case http.StatusOK:
					case http.StatusUnauthorized:
						r[i] = true
					default:
						t.Fatalf("GET %s%s: %d", u[0], u[1], status)
					}
				}
				switch code, loc, body := br.send(0, "GET", "/console/", nil); {
				case code == http.StatusSeeOther && strings.HasPrefix(loc, "/console/signin"):
					r[2] = true
				case code != http.StatusOK && code != http.StatusSeeOther:
					t.Fatalf("console page: %d %s %.300s", code, loc, body)
				}
				return r
			}

			key, k, err := auth.Create(ctx, st, auth.Admin, "revoked behind the server's back", "test")
			if err != nil {
				t.Fatal(err)
			}
			br := signIn(key)
			if r := refused(key, br); r != [3]bool{} {
				t.Fatalf("before the revocation, refused by /v1, HMA, console: %v", r)
			}
			cached := time.Now()
			if err := st.RevokeKey(ctx, k.ID, time.Now().UTC()); err != nil {
				t.Fatal(err)
			}
			revoked := time.Now()
			for first := true; ; first = false {
				r := refused(key, br)
				if c.name == "sqlite" && first && time.Since(cached) < auth.KeyTTL-time.Second && r != [3]bool{} {
					t.Errorf("refused by /v1, HMA, console: %v while the cache still held the key: an entry point reads the store itself", r)
				}
				if r == [3]bool{true, true, true} {
					break
				}
				if r != [3]bool{} {
					// One refused, so the cache has read the revocation;
					// the others' next requests must be refused too.
					if r := refused(key, br); r != [3]bool{true, true, true} {
						t.Fatalf("after the first refusal, refused by /v1, HMA, console: %v; want all", r)
					}
					break
				}
				if time.Since(revoked) > c.within {
					t.Fatalf("the revoked key still served %v after its revocation", c.within)
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("/v1, HMA and the console refused the key %v after its revocation", time.Since(revoked).Round(time.Millisecond))

			// Through the API: forgotten by the one cache at once.
			key2, k2, err := auth.Create(ctx, st, auth.Admin, "revoked through the API", "test")
			if err != nil {
				t.Fatal(err)
			}
			br2 := signIn(key2)
			if r := refused(key2, br2); r != [3]bool{} {
				t.Fatalf("before the revocation through the API, refused by /v1, HMA, console: %v", r)
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
			if r := refused(key2, br2); r != [3]bool{true, true, true} {
				t.Errorf("at once after DELETE /v1/keys, refused by /v1, HMA, console: %v; want all", r)
			}
		})
	}
}
