package server_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// A server with a configured exchange and the HMA listener, on both
// backends: the exchange's bank is created and filled on its own worker,
// its status is on /v1/exchanges and HMA's /c/exchange routes, what it
// fetched matches through the HMA listener, a new upstream entry matches
// after a fetch asked for through the API, and the HMA listener refuses
// requests without a key.
func TestServeExchangesAndHMA(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			cfg, st := be.open(t)
			list := filepath.Join(t.TempDir(), "hotline.txt")
			md5 := func(i int) string { return fmt.Sprintf("%032x", 0xabc000+i) }
			write := func(n int) {
				var sb strings.Builder
				for i := range n {
					fmt.Fprintf(&sb, "md5 %s\n", md5(i))
				}
				if err := os.WriteFile(list, []byte(sb.String()), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write(10)
			cfg.Exchanges = []exchange.Config{{Name: "hotline", Kind: "list", Interval: time.Hour, Settings: map[string]string{"path": list}}}
			cfg.HMAListen = "127.0.0.1:0"
			srv, _, admin := startServer(t, cfg, st)
			api := client{t: t, base: "http://" + srv.Addr(), key: admin}
			hma := client{t: t, base: "http://" + srv.HMAAddr(), key: admin}

			var status struct {
				Succeeded   bool  `json:"succeeded"`
				Records     int64 `json:"records"`
				BankEntries int64 `json:"bank_entries"`
			}
			waitFor := func(what string, ok func() bool) {
				t.Helper()
				for deadline := time.Now().Add(15 * time.Second); !ok(); {
					if time.Now().After(deadline) {
						t.Fatalf("timed out waiting for %s", what)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			waitFor("the first fetch", func() bool {
				api.do("GET", "/v1/exchanges/hotline", "", nil, http.StatusOK, &status)
				return status.Succeeded
			})
			if status.Records != 10 || status.BankEntries != 10 {
				t.Errorf("status %+v, want 10 records and entries", status)
			}
			lookup := func(v string) string {
				return string(hma.do("GET", "/m/lookup?signal_type=video_md5&signal="+v, "", nil, http.StatusOK, nil))
			}
			if got := lookup(md5(3)); !strings.Contains(got, `"HOTLINE"`) {
				t.Errorf("HMA lookup of a fetched hash: %s", got)
			}
			if got := string(hma.do("GET", "/c/exchanges", "", nil, http.StatusOK, nil)); !strings.Contains(got, `"HOTLINE"`) {
				t.Errorf("/c/exchanges: %s", got)
			}
			if got := string(hma.do("GET", "/c/exchange/HOTLINE/status", "", nil, http.StatusOK, nil)); !strings.Contains(got, `"up_to_date":true`) {
				t.Errorf("/c/exchange/HOTLINE/status: %s", got)
			}
			if got := lookup(md5(10)); strings.Contains(got, `"HOTLINE"`) {
				t.Fatalf("a hash not yet listed matched: %s", got)
			}

			write(11)
			api.do("POST", "/v1/exchanges/hotline/fetch", "", nil, http.StatusAccepted, nil)
			waitFor("the new entry to match", func() bool { return strings.Contains(lookup(md5(10)), `"HOTLINE"`) })

			api.do("GET", "/v1/exchanges/nope", "", nil, http.StatusNotFound, nil)
			client{t: t, base: hma.base}.do("GET", "/m/lookup?signal_type=video_md5&signal="+md5(1), "", nil, http.StatusUnauthorized, nil)
		})
	}
}

// Without exchanges configured, their routes say so.
func TestNoExchanges(t *testing.T) {
	cfg, st := openSQLite(t)
	base, admin := start(t, cfg, st)
	client{t: t, base: base, key: admin}.do("GET", "/v1/exchanges", "", nil, http.StatusServiceUnavailable, nil)
}
