package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// call sends one request and returns its status and body, for goroutines
// (which must not stop the test) and for answers that may go either way.
func call(method, url, key string, in any) (int, []byte, error) {
	var body io.Reader
	if b, ok := in.([]byte); ok {
		body = bytes.NewReader(b)
	} else if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return 0, nil, err
	}
	if _, ok := in.([]byte); ok {
		req.Header.Set("Content-Type", "image/jpeg")
	} else if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// percentiles returns the p50, p99 and largest of ds.
func percentiles(ds []time.Duration) (p50, p99, most time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.50), at(0.99), s[len(s)-1]
}

// TestNodes runs three servers as separate processes on one PostgreSQL
// and checks that they behave as one service: a bank addition on any
// node matches on every other within a second (LISTEN/NOTIFY; the figures
// are logged, docs/benchmarks.md records them), scans through all three
// are kept with their evidence readable on every node, a kill -9 of one
// mid-load loses nothing acknowledged, reports of the same new content on
// all three open one case, decisions racing on one version let one win,
// a key revoked on one node is refused on the others at once, and all
// nodes agree on what was written.
func TestNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	url := testkit.PostgresURL(t)
	bin := buildBinary(t)
	out, err := exec.Command(bin, "apikey", "create", "--role", "admin", "--name", "nodes-test", "--database-url", url).Output()
	if err != nil {
		t.Fatalf("apikey create: %v", err)
	}
	adminKey := strings.TrimSpace(string(out))
	start := func() (*exec.Cmd, string) {
		return serveProcess(t, bin, "--data", t.TempDir(), "--database-url", url)
	}
	var procs []*exec.Cmd
	var bases []string
	for range 3 {
		p, b := start()
		procs, bases = append(procs, p), append(bases, b)
	}
	admin := func(i int) client { return client{t, bases[i], adminKey} }

	// The banks and rule, written through node 0 (every node's rule cache
	// is emptied by the rules notification, measured p99 < 0.2 s under
	// load; the wait below is in place before any node scans).
	original, altered := photo(t, 11)
	admin(0).json("POST", "/v1/banks", map[string]any{"name": "known"}, 201, nil)
	admin(0).do("POST", "/v1/banks/known/entries", "image/jpeg", original, 200, nil)
	admin(0).json("POST", "/v1/banks", map[string]any{"name": "probe"}, 201, nil)
	admin(0).json("POST", "/v1/rules", map[string]any{"name": "known", "banks": []string{"known"},
		"actions": []map[string]any{{"kind": "block"}, {"kind": "quarantine"}, {"kind": "enqueue"}}}, 201, nil)
	platform, platformID := admin(0).newKey("integrator", "platform")
	reviewer, _ := admin(0).newKey("reviewer", "reviewer")
	liaison, _ := admin(0).newKey("le_liaison", "liaison")
	time.Sleep(time.Second) // the rule change has reached every node

	// 1. Propagation: an MD5 added on one node, looked up on the others
	// until it matches.
	var lags []time.Duration
	for i := range 30 {
		var raw [16]byte
		rand.Read(raw[:])
		value := hex.EncodeToString(raw[:])
		from := i % 3
		admin(from).json("POST", "/v1/banks/probe/entries", map[string]any{"entries": []map[string]any{{"signal": "md5", "value": value}}}, 200, nil)
		added := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for to := range 3 {
			if to == from {
				continue
			}
			wg.Go(func() {
				for time.Since(added) < 10*time.Second {
					code, body, err := call("POST", bases[to]+"/v1/lookup", platform.key, map[string]any{"md5": value, "banks": []string{"probe"}})
					if err == nil && code == 200 && strings.Contains(string(body), `"bank":"probe"`) {
						mu.Lock()
						lags = append(lags, time.Since(added))
						mu.Unlock()
						return
					}
					time.Sleep(time.Millisecond)
				}
				t.Errorf("an MD5 added on node %d did not match on node %d within 10 s", from, to)
			})
		}
		wg.Wait()
	}
	p50, p99, most := percentiles(lags)
	t.Logf("bank addition on one node to a match on another: %d samples, p50 %v, p99 %v, max %v",
		len(lags), p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), most.Round(100*time.Microsecond))
	if p99 > time.Second {
		t.Errorf("p99 %v from a bank addition to a match elsewhere, want < 1 s", p99)
	}

	// 2. Load through all three nodes; node 2 is killed mid-load.
	type scanned struct{ node int }
	var mu sync.Mutex
	answered := map[string]scanned{}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			node := w % 3
			for i := 0; ctx.Err() == nil; i++ {
				code, body, err := call("POST", fmt.Sprintf("%s/v1/scan?content_id=n%d-%d-%d", bases[node], node, w, i), platform.key, altered)
				if err != nil {
					if node == 2 {
						return // killed
					}
					t.Errorf("node %d: %v", node, err)
					return
				}
				var ans struct {
					ScanID  string `json:"scan_id"`
					Blocked bool   `json:"blocked"`
				}
				if code == 200 && json.Unmarshal(body, &ans) == nil {
					if !ans.Blocked {
						t.Errorf("scan %s on node %d not blocked", ans.ScanID, node)
					}
					mu.Lock()
					answered[ans.ScanID] = scanned{node}
					mu.Unlock()
				} else if code != 503 || node != 2 {
					t.Errorf("node %d scan: %d %s", node, code, body)
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	if err := procs[2].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	procs[2].Wait()
	time.Sleep(time.Second)
	stop()
	wg.Wait()
	byNode := [3]int{}
	for _, s := range answered {
		byNode[s.node]++
	}
	if byNode[2] == 0 || byNode[0] == 0 {
		t.Fatalf("scans answered per node: %v", byNode)
	}
	procs[2], bases[2] = start()

	// Nothing acknowledged is lost, and every node reads every scan and
	// its evidence, whichever node kept it.
	for id, s := range answered {
		for n := range 3 {
			var rec struct {
				ID       string `json:"id"`
				Evidence string `json:"evidence"`
			}
			admin(n).do("GET", "/v1/scans/"+id, "", nil, 200, &rec)
			if rec.Evidence == "" {
				t.Fatalf("scan %s (node %d) kept no evidence", id, s.node)
			}
			if n != s.node {
				client{t, bases[n], liaison.key}.do("GET", "/v1/evidence/"+rec.Evidence, "", nil, 200, nil)
			}
		}
	}

	// 3. The same new content reported on all three nodes at once: one case.
	for round := range 3 {
		cases := make([]int64, 9)
		var wg sync.WaitGroup
		for i := range cases {
			wg.Go(func() {
				code, body, err := call("POST", bases[i%3]+"/v1/reports", platform.key, map[string]any{
					"category": "suspected_csam", "content_id": fmt.Sprintf("shared-%d", round), "reporter": fmt.Sprintf("user-%d", i)})
				var rep struct {
					CaseID int64 `json:"case_id"`
				}
				if err != nil || code != 201 || json.Unmarshal(body, &rep) != nil {
					t.Errorf("report %d: %d %s %v", i, code, body, err)
				}
				cases[i] = rep.CaseID
			})
		}
		wg.Wait()
		for _, c := range cases {
			if c != cases[0] {
				t.Fatalf("round %d: reports of one new content went to cases %v", round, cases)
			}
		}

		// 4. Decisions on that case's version 1... from all three nodes.
		var got [3]int
		var dwg sync.WaitGroup
		for n := range 3 {
			dwg.Go(func() {
				var c struct {
					Case struct {
						Version int `json:"version"`
					} `json:"case"`
				}
				code, body, _ := call("GET", fmt.Sprintf("%s/v1/cases/%d", bases[n], cases[0]), reviewer.key, nil)
				json.Unmarshal(body, &c)
				if code != 200 || c.Case.Version == 0 {
					t.Errorf("node %d case %d: %d %.200s", n, cases[0], code, body)
					return
				}
				code, body, _ = call("POST", fmt.Sprintf("%s/v1/cases/%d/decision", bases[n], cases[0]), reviewer.key,
					map[string]any{"verdict": "dismiss", "reason": "not abuse", "version": c.Case.Version})
				got[n] = code
				if code != 200 && code != 409 {
					t.Errorf("node %d decision: %d %.300s", n, code, body)
				}
			})
		}
		dwg.Wait()
		if n := strings.Count(fmt.Sprint(got), "200"); n != 1 {
			t.Errorf("round %d: decisions on one version from three nodes answered %v, want exactly one 200", round, got)
		}
	}

	// 5. Every node agrees on what was written.
	var first []byte
	for n := range 3 {
		var banks any
		admin(n).do("GET", "/v1/banks", "", nil, 200, &banks)
		b, _ := json.Marshal(banks)
		if n == 0 {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Errorf("node %d's banks differ from node 0's:\n%s\n%s", n, b, first)
		}
	}

	// 6. A key revoked on node 0 is refused on nodes 1 and 2 at once.
	for n := 1; n < 3; n++ {
		if code, body, _ := call("POST", bases[n]+"/v1/lookup", platform.key, map[string]any{"md5": strings.Repeat("ab", 16)}); code != 200 {
			t.Fatalf("node %d before revocation: %d %s", n, code, body)
		}
	}
	admin(0).do("DELETE", "/v1/keys/"+platformID, "", nil, 204, nil)
	revoked := time.Now()
	for n := 1; n < 3; n++ {
		for {
			code, _, _ := call("POST", bases[n]+"/v1/lookup", platform.key, map[string]any{"md5": strings.Repeat("ab", 16)})
			if code == 401 {
				t.Logf("key revoked on node 0 refused on node %d after %v", n, time.Since(revoked).Round(100*time.Microsecond))
				break
			}
			if time.Since(revoked) > time.Second {
				t.Fatalf("node %d still takes a key revoked on node 0 a second ago (status %d)", n, code)
			}
			time.Sleep(time.Millisecond)
		}
	}

	out, err = exec.Command(bin, "audit", "verify", "--database-url", url).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit log ok") {
		t.Errorf("audit verify: %v\n%s", err, out)
	}
	t.Logf("scans answered per node %v (node 2 killed with SIGKILL mid-load); all on record on every node; %s", byNode, strings.TrimSpace(string(out)))
}
