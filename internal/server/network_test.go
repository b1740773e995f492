package server_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// TestNetworkEndToEnd is issue 16's proof over HTTP against a real server:
// a platform sends activity to POST /v1/events (JSON lines with a bad line,
// then the same batch again, then a JSON batch); detection opens one
// network case naming the members, with their evidence, and the children
// as targets (a network.targets webhook); a new member grows the same case;
// the reviewer confirms for the network, sparing one member, and the
// content.remove webhook acts on the others only.
func TestNetworkEndToEnd(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			cfg, st := backend.open(t)
			cfg.NetworkEvery = 50 * time.Millisecond
			base, adminKey := start(t, cfg, st)
			networkEndToEnd(t, base, adminKey)
		})
	}
}

// ringEvents is activity with three children's accounts whose photos
// members re-post and comment on, and members following each other. One
// child's photo is posted by content id, of a scan made before that gave
// the hash scanned.
func ringEvents(members []string, t0 time.Time, photoContent string, scanned pdq.Hash) []map[string]any {
	rng := rand.New(rand.NewPCG(16, 16))
	at := t0
	next := func() string { at = at.Add(time.Minute); return at.Format(time.RFC3339) }
	var es []map[string]any
	var photos []pdq.Hash
	bios := []string{"Lily 9 y/o | account run by mum", "dancer 11yo", "gymnastics | mum-run"}
	for i, bio := range bios {
		kid := fmt.Sprintf("kid-%d", i)
		es = append(es, map[string]any{"type": "account", "id": kid, "bio": bio, "at": next()})
		for k := range 2 {
			h := pdq.FromWords([4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()})
			if i == 0 && k == 0 {
				h = scanned
			}
			photos = append(photos, h)
			post := map[string]any{"type": "post", "id": fmt.Sprintf("%s-photo-%d", kid, k), "account": kid, "pdq": h.String(), "at": next()}
			if i == 0 && k == 0 && photoContent != "" {
				delete(post, "pdq")
				post["content_id"] = photoContent
			}
			es = append(es, post)
		}
	}
	for i, m := range members {
		es = append(es, map[string]any{"type": "account", "id": m, "bio": "just here", "at": next()})
		for _, n := range members[:i] {
			es = append(es, map[string]any{"type": "follow", "account": m, "target": n, "at": next()},
				map[string]any{"type": "follow", "account": n, "target": m, "at": next()})
		}
		for k := range 3 {
			j := (i + 2*k) % len(photos)
			post := fmt.Sprintf("%s-copy-%d", m, k)
			es = append(es, map[string]any{"type": "post", "id": post, "account": m, "pdq": photos[j].String(), "at": next()},
				map[string]any{"type": "comment", "id": m + "-c-" + fmt.Sprint(k), "account": m,
					"post": fmt.Sprintf("kid-%d-photo-%d", j/2, j%2), "text": "🥵🥵", "at": next()})
		}
	}
	return es
}

func jsonLines(t *testing.T, es []map[string]any) []byte {
	var b strings.Builder
	for _, e := range es {
		l, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(l)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

type networkCase struct {
	ID         int64    `json:"id"`
	Version    int      `json:"version"`
	State      string   `json:"state"`
	AccountIDs []string `json:"account_ids"`
	ContentIDs []string `json:"content_ids"`
	Network    *struct {
		ID      string `json:"id"`
		Members []struct {
			Account  string            `json:"account"`
			Reposts  []json.RawMessage `json:"reposts"`
			Comments []json.RawMessage `json:"comments"`
			Follows  []string          `json:"follows"`
		} `json:"members"`
		Targets []struct {
			Account string `json:"account"`
			Cue     string `json:"cue"`
		} `json:"targets"`
		Acted  []string `json:"acted"`
		Spared []string `json:"spared"`
	} `json:"network"`
}

func networkEndToEnd(t *testing.T, base, adminKey string) {
	admin := client{t, base, adminKey}
	key := func(role, name string) client { c, _ := admin.newKey(role, name); return c }
	platform, reviewer := key("integrator", "platform"), key("reviewer", "r1")
	rv := newReceiver(t)
	var hook struct {
		Secret string `json:"secret"`
	}
	admin.json("POST", "/v1/webhooks", map[string]any{"name": "review", "url": rv.URL}, 201, &hook)
	rv.setSecret(hook.Secret)

	// A child's photo the platform scanned before is posted by content id.
	original, _ := photo(t, 16)
	var scan struct {
		Hashes struct {
			PDQ string `json:"pdq"`
		} `json:"hashes"`
	}
	platform.do("POST", "/v1/scan?content_id=kid-photo-scanned", "image/jpeg", original, 200, &scan)
	scanned, err := pdq.ParseHex(scan.Hashes.PDQ)
	if err != nil {
		t.Fatalf("scan's pdq %q: %v", scan.Hashes.PDQ, err)
	}

	members := []string{"m-1", "m-2", "m-3", "m-4", "m-5"}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	es := ringEvents(members, t0, "kid-photo-scanned", scanned)
	body := jsonLines(t, es)
	bad := append([]byte(`{"type":"post","id":"x","account":"a","pdq":"nothex","at":"2026-11-01T00:00:00Z"}`+"\n"), body...)
	var got struct {
		Accepted, Repeated, Unresolved, Bad int
		BadLines                            []struct {
			Line  int    `json:"line"`
			Error string `json:"error"`
		} `json:"bad_lines"`
	}
	platform.do("POST", "/v1/events", "application/x-ndjson", bad, 200, &got)
	if got.Accepted != len(es) || got.Bad != 1 || len(got.BadLines) != 1 || got.BadLines[0].Line != 1 || got.Unresolved != 0 {
		t.Fatalf("events: %+v, want %d accepted and line 1 named bad", got, len(es))
	}
	platform.do("POST", "/v1/events", "application/x-ndjson", body, 200, &got)
	if got.Accepted != 0 || got.Repeated != len(es) {
		t.Fatalf("the same batch again: %+v, want all repeated", got)
	}
	platform.do("POST", "/v1/events", "application/x-ndjson", []byte("garbage\n"), 400, nil)
	platform.do("POST", "/v1/events", "application/x-ndjson", []byte(strings.Repeat(" ", 17<<20)), 413, nil)
	platform.json("POST", "/v1/events", []any{es[0], map[string]any{"type": "follow", "account": "x", "target": "x", "at": "2026-11-01T00:00:00Z"}}, 200, &got)
	if got.Accepted != 0 || got.Repeated != 1 || got.Bad != 1 || len(got.BadLines) != 1 || got.BadLines[0].Line != 2 || !strings.Contains(got.BadLines[0].Error, "follows itself") {
		t.Fatalf("a JSON batch with a bad item: %+v, want item 2 named and item 1 repeated", got)
	}
	platform.do("POST", "/v1/events", "text/plain", body, 415, nil)
	reviewer.do("POST", "/v1/events", "application/x-ndjson", body, 403, nil)

	c := waitNetworkCase(t, reviewer, func(c networkCase) bool { return len(c.AccountIDs) == len(members) })
	if !slices.Equal(sorted(c.AccountIDs), members) {
		t.Fatalf("case accounts %v, want the members %v", c.AccountIDs, members)
	}
	var targets []string
	for _, tg := range c.Network.Targets {
		targets = append(targets, tg.Account)
		if tg.Cue == "" {
			t.Errorf("target %s has no cue", tg.Account)
		}
	}
	if !slices.Equal(sorted(targets), []string{"kid-0", "kid-1", "kid-2"}) {
		t.Fatalf("targets %v, want the three children", targets)
	}
	for _, m := range c.Network.Members {
		if len(m.Reposts) == 0 || len(m.Comments) == 0 || len(m.Follows) == 0 {
			t.Errorf("member %s: evidence %d reposts, %d comments, %d follows", m.Account, len(m.Reposts), len(m.Comments), len(m.Follows))
		}
	}
	ev := waitEvent(t, rv, "network.targets")
	if ids := stringsOf(ev["account_ids"]); !slices.Equal(sorted(ids), targets) {
		t.Fatalf("network.targets names %v, want %v", ids, targets)
	}

	// A new member, sent as a JSON batch, joins the same case.
	grown := append(slices.Clone(members), "m-6")
	var more []map[string]any
	for _, e := range ringEvents(grown, t0, "kid-photo-scanned", scanned) {
		if s, _ := json.Marshal(e); strings.Contains(string(s), "m-6") {
			more = append(more, e)
		}
	}
	platform.json("POST", "/v1/events", map[string]any{"events": more}, 200, &got)
	if got.Accepted != len(more) {
		t.Fatalf("the new member's events: %+v, want %d accepted", got, len(more))
	}
	g := waitNetworkCase(t, reviewer, func(c networkCase) bool { return slices.Contains(c.AccountIDs, "m-6") })
	if g.ID != c.ID || g.Network.ID != c.Network.ID {
		t.Fatalf("grown network in case %d (%s), want case %d (%s)", g.ID, g.Network.ID, c.ID, c.Network.ID)
	}

	// The reviewer decides for the network, sparing m-2.
	reviewer.json("POST", fmt.Sprintf("/v1/cases/%d/decision", c.ID), map[string]any{"verdict": "confirm", "actions": []string{"remove"}, "except": []string{"kid-0"}}, 400, nil)
	var dec struct {
		Case networkCase `json:"case"`
	}
	reviewer.json("POST", fmt.Sprintf("/v1/cases/%d/decision", c.ID), map[string]any{
		"verdict": "confirm", "actions": []string{"remove"}, "except": []string{"m-2"}, "reason": "ring re-sharing children's photos", "version": g.Version}, 200, &dec)
	if dec.Case.State != "decided" || !slices.Equal(dec.Case.Network.Spared, []string{"m-2"}) {
		t.Fatalf("decided case: state %s, spared %v", dec.Case.State, dec.Case.Network.Spared)
	}
	rm := waitEvent(t, rv, "content.remove")
	acted := sorted(stringsOf(rm["account_ids"]))
	if want := []string{"m-1", "m-3", "m-4", "m-5", "m-6"}; !slices.Equal(acted, want) {
		t.Fatalf("content.remove acts on %v, want %v (m-2 spared, children never)", acted, want)
	}
	content := stringsOf(rm["content_ids"])
	if !slices.Contains(content, "m-1-copy-0") || !slices.Contains(content, "m-1-c-0") || slices.ContainsFunc(content, func(s string) bool { return strings.HasPrefix(s, "m-2-") || strings.HasPrefix(s, "kid-") }) {
		t.Fatalf("content.remove removes %v", content)
	}
	var entries struct {
		Entries []struct {
			Action  string `json:"action"`
			Subject string `json:"subject"`
		} `json:"entries"`
	}
	admin.do("GET", "/v1/audit?limit=1000", "", nil, 200, &entries)
	var actions []string
	for _, e := range entries.Entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"network.events", "network.case_open", "network.case_grow", "case.decide"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log has no %s (has %v)", want, actions)
		}
	}
}

func sorted(xs []string) []string { xs = slices.Clone(xs); slices.Sort(xs); return xs }

func stringsOf(v any) []string {
	var out []string
	if xs, ok := v.([]any); ok {
		for _, x := range xs {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}

// waitNetworkCase polls the sexualised-child queue for a network case
// that satisfies ok, and returns it as GET /v1/cases/{id} shows it.
func waitNetworkCase(t *testing.T, reviewer client, ok func(networkCase) bool) networkCase {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var q queue
		reviewer.do("GET", "/v1/queues/sexualised_child", "", nil, 200, &q)
		for _, qc := range q.Cases {
			var c struct {
				Case networkCase `json:"case"`
			}
			reviewer.do("GET", fmt.Sprintf("/v1/cases/%d", qc.Case.ID), "", nil, 200, &c)
			if c.Case.Network != nil && ok(c.Case) {
				return c.Case
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no network case appeared")
	return networkCase{}
}

// waitEvent waits for the review webhook's first event of kind and
// returns its data.
func waitEvent(t *testing.T, rv *receiver, kind string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, ev := range rv.events() {
			if ev["event"] == kind {
				data, _ := ev["data"].(map[string]any)
				return data
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s webhook (got %v)", kind, rv.events())
	return nil
}
