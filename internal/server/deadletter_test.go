package server_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestDeadLetterReplay has a receiver refuse a delivery for good (a 400),
// which makes it a dead letter at once; an admin lists it, the receiver is
// fixed, and a replay delivers it with the same idempotency key.
func TestDeadLetterReplay(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			cfg, st := backend.open(t)
			base, adminKey := start(t, cfg, st)
			admin := client{t, base, adminKey}

			var mu sync.Mutex
			refuse := true
			var keys []string
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if refuse {
					http.Error(w, "no such tenant", http.StatusBadRequest)
					return
				}
				keys = append(keys, r.Header.Get("Safeguard-Idempotency-Key"))
			}))
			defer recv.Close()

			original, _ := photo(t, 5)
			admin.json("POST", "/v1/banks", map[string]any{"name": "known"}, 201, nil)
			admin.do("POST", "/v1/banks/known/entries", "image/jpeg", original, 200, nil)
			admin.json("POST", "/v1/webhooks", map[string]any{"name": "flaky", "url": recv.URL}, 201, nil)
			admin.json("POST", "/v1/rules", map[string]any{"name": "notify", "banks": []string{"known"},
				"actions": []map[string]any{{"kind": "notify", "webhook": "flaky"}}}, 201, nil)
			admin.do("POST", "/v1/scan?content_id=x", "image/jpeg", original, 200, nil)

			var dead struct {
				DeadLetters []struct {
					ID        string `json:"id"`
					Webhook   string `json:"webhook"`
					LastError string `json:"last_error"`
				} `json:"dead_letters"`
			}
			for deadline := time.Now().Add(10 * time.Second); len(dead.DeadLetters) == 0; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no dead letter within 10 s of a 400")
				}
				admin.do("GET", "/v1/webhooks/dead-letters", "", nil, 200, &dead)
			}
			dl := dead.DeadLetters[0]
			if dl.Webhook != "flaky" || dl.LastError == "" {
				t.Errorf("dead letter %+v", dl)
			}
			mu.Lock()
			refuse = false
			mu.Unlock()
			admin.do("POST", "/v1/webhooks/dead-letters/"+dl.ID+"/replay", "", nil, 204, nil)
			admin.do("POST", "/v1/webhooks/dead-letters/dlv_nope/replay", "", nil, 404, nil)
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				mu.Lock()
				got := append([]string(nil), keys...)
				mu.Unlock()
				if len(got) > 0 {
					if got[0] != dl.ID {
						t.Errorf("replayed with key %q, want the dead letter's %q", got[0], dl.ID)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("replayed delivery not received within 10 s")
				}
			}
			admin.do("GET", "/v1/webhooks/dead-letters", "", nil, 200, &dead)
			if len(dead.DeadLetters) != 0 {
				t.Errorf("dead letters after the replay: %+v", dead.DeadLetters)
			}
		})
	}
}
