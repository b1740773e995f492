package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds the safeguard command into a directory of the test's.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "safeguard")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/safeguard-oss/safeguard/cmd/safeguard")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveProcess starts `safeguard serve` on a loopback port and returns the
// process and its base URL, read from the banner.
func serveProcess(t testing.TB, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--operator-listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "SAFEGUARD_EVIDENCE_KEYS="+testEvidenceKeys, "SAFEGUARD_WEBHOOK_ALLOW=127.0.0.1/32") // the tests' receivers are on loopback
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	addr := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if rest, ok := strings.CutPrefix(lines.Text(), "safeguard: serving http://"); ok {
				addr <- strings.Fields(rest)[0]
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, "http://" + strings.TrimSuffix(a, "/v1")
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start: %s", stderr.String())
	}
	return nil, ""
}

// TestCrash kills the server with SIGKILL while scans are in flight and
// restarts it: every scan that was answered 200 must be on record, every
// webhook it queued must be delivered, and the audit chain must verify.
// The first server only queues webhooks (--send-webhooks=false), so that
// all of them are still pending at the kill.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			cfg, st := backend.open(t)
			st.Close()
			// --data always: on PostgreSQL it still holds the evidence
			// directory, which must not land in the source tree.
			where := []string{"--data", cfg.Data}
			if cfg.DatabaseURL != "" {
				where = append(where, "--database-url", cfg.DatabaseURL)
			}
			crash(t, bin, where)
		})
	}
}

func crash(t *testing.T, bin string, where []string) {
	out, err := exec.Command(bin, append([]string{"apikey", "create", "--role", "admin", "--name", "crash-test"}, where...)...).Output()
	if err != nil {
		t.Fatalf("apikey create: %v", err)
	}
	adminKey := strings.TrimSpace(string(out))

	srv, base := serveProcess(t, bin, append(where, "--send-webhooks=false")...)
	admin := client{t, base, adminKey}
	original, altered := photo(t, 7)
	rv := newReceiver(t)
	admin.json("POST", "/v1/banks", map[string]any{"name": "known"}, 201, nil)
	admin.do("POST", "/v1/banks/known/entries", "image/jpeg", original, 200, nil)
	var hook struct{ Secret string }
	admin.json("POST", "/v1/webhooks", map[string]any{"name": "ts", "url": rv.URL}, 201, &hook)
	rv.setSecret(hook.Secret)
	admin.json("POST", "/v1/rules", map[string]any{"name": "block and notify", "banks": []string{"known"},
		"actions": []map[string]any{{"kind": "block"}, {"kind": "notify", "webhook": "ts"}}}, 201, nil)
	var key struct{ Key string }
	admin.json("POST", "/v1/keys", map[string]any{"role": "integrator", "name": "platform"}, 201, &key)

	// Load: scans from several goroutines until the kill.
	var mu sync.Mutex
	answered := map[string]string{} // scan id -> content id
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				cid := fmt.Sprintf("c-%d-%d", w, i)
				req, _ := http.NewRequest("POST", base+"/v1/scan?content_id="+cid, bytes.NewReader(altered))
				req.Header.Set("Content-Type", "image/jpeg")
				req.Header.Set("Authorization", "Bearer "+key.Key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server is gone
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var ans struct {
					ScanID  string `json:"scan_id"`
					Blocked bool   `json:"blocked"`
				}
				if resp.StatusCode == 200 && json.Unmarshal(body, &ans) == nil {
					if !ans.Blocked {
						t.Errorf("scan %s not blocked", cid)
					}
					mu.Lock()
					answered[ans.ScanID] = cid
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	stop()
	wg.Wait()
	if len(answered) < 10 {
		t.Fatalf("only %d scans answered before the kill", len(answered))
	}

	srv, base = serveProcess(t, bin, where...)
	admin.base = base
	for id := range answered {
		admin.do("GET", "/v1/scans/"+id, "", nil, 200, nil)
	}
	// Each answered scan's webhook arrives (at least once).
	deadline := time.After(20 * time.Second)
	for {
		got := map[string]bool{}
		for _, ev := range rv.events() {
			if d, ok := ev["data"].(map[string]any); ok {
				got[fmt.Sprint(d["scan_id"])] = true
			}
		}
		missing := 0
		for id := range answered {
			if !got[id] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("%d of %d answered scans' webhooks not delivered after the restart (refused: %v)", missing, len(answered), rv.bad)
		case <-time.After(100 * time.Millisecond):
		}
	}
	// A graceful stop, then the audit chain checked by the CLI.
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
	out, err = exec.Command(bin, append([]string{"audit", "verify"}, where...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit log ok") {
		t.Errorf("audit verify: %v\n%s", err, out)
	}
	t.Logf("%d scans answered before SIGKILL; all on record, all webhooks delivered; %s", len(answered), strings.TrimSpace(string(out)))
}
