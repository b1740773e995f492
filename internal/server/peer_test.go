package server_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
	"github.com/safeguard-oss/safeguard/internal/server"
)

// Two servers with two stores on loopback: A publishes its bank "shared"
// with its Ed25519 key; B's exchange pulls it with A's key pinned, as a
// partner key of A. An entry added on A matches on B after B's fetch, a
// removal on A stops matching on B, and a second exchange of B that pins
// another key is refused with an error that says so (and stops, as a
// wrong credential does). A's feed is for partner keys only, of the banks
// A publishes, and a read from its start is in A's audit log. On both
// backends for A; B keeps SQLite.
func TestPeerPublishAndSubscribe(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			pub, priv, _ := ed25519.GenerateKey(nil)
			cfgA, stA := be.open(t)
			cfgA.Publish = []string{"shared"}
			cfgA.PeerKey = base64.StdEncoding.EncodeToString(priv.Seed())
			srvA, _, adminKeyA := startServer(t, cfgA, stA)
			a := client{t: t, base: "http://" + srvA.Addr(), key: adminKeyA}
			a.json("POST", "/v1/banks", map[string]any{"name": "shared"}, 201, nil)
			a.json("POST", "/v1/banks", map[string]any{"name": "private"}, 201, nil)
			md5 := func(i int) string { return fmt.Sprintf("%032x", 0xfeed00+i) }
			add := func(i int) {
				a.json("POST", "/v1/banks/shared/entries", map[string]any{"entries": []map[string]any{
					{"signal": "md5", "value": md5(i), "source": "IWF", "category": "A1"}}}, 200, nil)
			}
			add(1)
			partner, partnerID := a.newKey("partner", "ngo-b")

			// A's side of the door: partner keys only, published banks only.
			platform, _ := a.newKey("integrator", "platform")
			platform.do("GET", "/v1/peer/feed/shared", "", nil, http.StatusForbidden, nil)
			partner.do("GET", "/v1/peer/feed/private", "", nil, http.StatusNotFound, nil)
			partner.do("GET", "/v1/peer/feed/shared?after=-1", "", nil, http.StatusBadRequest, nil)
			partner.do("GET", "/v1/banks/shared", "", nil, http.StatusForbidden, nil)

			_, wrong, _ := ed25519.GenerateKey(nil)
			feed := func(name string, key ed25519.PublicKey) exchange.Config {
				return exchange.Config{Name: name, Kind: "peer", Interval: time.Hour,
					Settings: map[string]string{"url": "http://" + srvA.Addr() + "/v1/peer", "bank": "shared",
						"public_key": peer.EncodeKey(key)},
					Credentials: map[string]string{"token": partner.key}}
			}
			cfgB, stB := openSQLite(t)
			cfgB.Exchanges = []exchange.Config{feed("from_a", pub), feed("from_a_forged", wrong.Public().(ed25519.PublicKey))}
			srvB, _, adminKeyB := startServer(t, cfgB, stB)
			b := client{t: t, base: "http://" + srvB.Addr(), key: adminKeyB}
			platformB, _ := b.newKey("integrator", "platform")

			var status struct {
				Succeeded  bool   `json:"succeeded"`
				Stopped    bool   `json:"stopped"`
				LastError  string `json:"last_error"`
				Records    int64  `json:"records"`
				LastFetch  string `json:"last_fetch"`
				Checkpoint string `json:"checkpoint_at"`
			}
			// fetched asks B for a fetch of from_a and waits until its
			// status has counted records in all.
			fetched := func(records int64) {
				t.Helper()
				b.do("POST", "/v1/exchanges/from_a/fetch", "", nil, http.StatusAccepted, nil)
				for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
					b.do("GET", "/v1/exchanges/from_a", "", nil, http.StatusOK, &status)
					if status.Succeeded && status.Records >= records {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("timed out waiting for B to fetch %d records: %+v", records, status)
					}
				}
			}
			matchesOnB := func(i int) bool {
				var res struct {
					Matches []struct {
						Bank string `json:"bank"`
					} `json:"matches"`
				}
				platformB.json("POST", "/v1/lookup", map[string]any{"md5": md5(i)}, 200, &res)
				return len(res.Matches) == 1 && res.Matches[0].Bank == "from_a"
			}

			fetched(1)
			if !matchesOnB(1) {
				t.Fatal("A's entry does not match on B after B's fetch")
			}
			add(2)
			if matchesOnB(2) {
				t.Fatal("a new entry matched on B before B fetched it")
			}
			fetched(2)
			if !matchesOnB(2) {
				t.Error("the entry added on A does not match on B")
			}
			a.do("DELETE", "/v1/banks/shared/entries/md5/"+md5(1), "", nil, http.StatusNoContent, nil)
			fetched(3)
			if matchesOnB(1) {
				t.Error("the entry removed on A still matches on B")
			}
			if !matchesOnB(2) {
				t.Error("the entry still on A no longer matches on B")
			}
			var bankB struct {
				Entries int64 `json:"entries"`
			}
			b.do("GET", "/v1/banks/from_a", "", nil, http.StatusOK, &bankB)
			if bankB.Entries != 1 {
				t.Errorf("B's bank holds %d entries, want 1", bankB.Entries)
			}

			// The exchange pinning another key refuses every page.
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				b.do("GET", "/v1/exchanges/from_a_forged", "", nil, http.StatusOK, &status)
				if status.LastFetch != "" && !status.Succeeded {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the forged-key exchange never failed: %+v", status)
				}
			}
			if !status.Stopped || !strings.Contains(status.LastError, peer.ErrSignature.Error()) || status.Records != 0 {
				t.Errorf("forged-key exchange: %+v, want stopped with %q and nothing applied", status, peer.ErrSignature)
			}
			b.do("GET", "/v1/banks/from_a_forged", "", nil, http.StatusOK, &bankB)
			if bankB.Entries != 0 {
				t.Errorf("the forged-key exchange's bank holds %d entries", bankB.Entries)
			}

			// A read from the feed's start is audited on A, by the partner's key.
			var audit struct {
				Entries []struct {
					Actor   string `json:"actor"`
					Action  string `json:"action"`
					Subject string `json:"subject"`
				} `json:"entries"`
			}
			a.do("GET", "/v1/audit?limit=1000", "", nil, http.StatusOK, &audit)
			reads := 0
			for _, e := range audit.Entries {
				if e.Action == "bank.feed" && e.Actor == partnerID && e.Subject == "shared" {
					reads++
				}
			}
			if reads == 0 {
				t.Error("no bank.feed audit entry for the partner's read from the start")
			}
		})
	}
}

// A server told to publish without a key, or with a bad one, does not start.
func TestPublishNeedsAKey(t *testing.T) {
	cfg, st := openSQLite(t)
	defer st.Close()
	for _, c := range []struct{ publish, key, want string }{
		{"shared", "", "SAFEGUARD_PEER_KEY"},
		{"shared", "bm90IGEga2V5", "peer key"},
		{"not a bank name!", base64.StdEncoding.EncodeToString(make([]byte, 32)), "publish"},
		{"", base64.StdEncoding.EncodeToString(make([]byte, 32)), "--publish"},
	} {
		cfg.Listen = "127.0.0.1:0"
		if c.publish != "" {
			cfg.Publish = []string{c.publish}
		} else {
			cfg.Publish = nil
		}
		cfg.PeerKey = c.key
		_, err := server.New(context.Background(), cfg, st, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("publish %q key %q: %v, want an error naming %s", c.publish, c.key, err, c.want)
		}
	}
}

// Two servers on one PostgreSQL running the same exchange: whichever node
// fetches (one at a time, by the advisory lock), both answer the same
// status, counted over both nodes' fetches.
func TestExchangeStatusSameOnEveryNode(t *testing.T) {
	cfg, st := openPostgres(t)
	st2, err := server.OpenStores(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	list := t.TempDir() + "/list.txt"
	if err := writeFile(list, "md5 "+fmt.Sprintf("%032x", 7)+"\n"); err != nil {
		t.Fatal(err)
	}
	cfg.Exchanges = []exchange.Config{{Name: "hotline", Kind: "list", Interval: time.Hour, Settings: map[string]string{"path": list}}}
	srv1, _, key := startServer(t, cfg, st)
	srv2, _, _ := startServer(t, cfg, st2)
	n1 := client{t: t, base: "http://" + srv1.Addr(), key: key}
	n2 := client{t: t, base: "http://" + srv2.Addr(), key: key}
	status := func(c client) map[string]any {
		var s map[string]any
		c.do("GET", "/v1/exchanges/hotline", "", nil, http.StatusOK, &s)
		delete(s, "locked_elsewhere") // the one field of a node's own
		return s
	}
	// Each node polls once at start; then node 2 is asked for one more.
	wait := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %v / %v", what, status(n1), status(n2))
			}
		}
	}
	wait("a fetch", func() bool { s := status(n1); return s["succeeded"] == true && s["fetching"] == false })
	before := status(n1)["last_fetch"]
	// The list changes, so node 2's fetch applies a page of its own.
	if err := writeFile(list, fmt.Sprintf("md5 %032x\nmd5 %032x\n", 7, 8)); err != nil {
		t.Fatal(err)
	}
	n2.do("POST", "/v1/exchanges/hotline/fetch", "", nil, http.StatusAccepted, nil)
	wait("node 2's fetch", func() bool { s := status(n1); return s["last_fetch"] != before && s["fetching"] == false })
	s1, s2 := status(n1), status(n2)
	if fmt.Sprint(s1) != fmt.Sprint(s2) {
		t.Errorf("the nodes disagree:\nnode 1 %v\nnode 2 %v", s1, s2)
	}
	if s1["pages"].(float64) < 2 || s1["bank_entries"].(float64) != 2 {
		t.Errorf("status %v: want the pages of at least two fetches, whichever node made them", s1)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
