package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Issue 12, finding 4: a webhook's secret rotates with an overlap in which
// every delivery carries both signatures, kept by the store on every
// backend (so any server sharing it signs with both).
func TestWebhookRotation(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, st := b.open(t)
			base, adminKey := start(t, cfg, st)
			admin := client{t, base, adminKey}
			type got struct {
				sig  string
				body []byte
			}
			deliveries := make(chan got, 10)
			rv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				deliveries <- got{r.Header.Get(webhook.SignatureHeader), body}
			}))
			defer rv.Close()
			var hook struct {
				Secret string `json:"secret"`
			}
			admin.json("POST", "/v1/webhooks", map[string]any{"name": "ts", "url": rv.URL}, 201, &hook)
			var rot struct {
				Secret        string    `json:"secret"`
				PreviousUntil time.Time `json:"previous_until"`
			}
			admin.json("POST", "/v1/webhooks/ts/rotate", map[string]any{"overlap_seconds": 3600}, 200, &rot)
			if rot.Secret == "" || rot.Secret == hook.Secret || time.Until(rot.PreviousUntil) < 59*time.Minute {
				t.Fatalf("rotation: %+v", rot)
			}
			admin.json("POST", "/v1/webhooks/ts/rotate", map[string]any{"overlap_seconds": -1}, 400, nil)
			admin.json("POST", "/v1/webhooks/nope/rotate", map[string]any{}, 404, nil)

			picture, _ := photo(t, 21)
			admin.json("POST", "/v1/banks", map[string]any{"name": "known"}, 201, nil)
			admin.do("POST", "/v1/banks/known/entries", "image/jpeg", picture, 200, nil)
			admin.json("POST", "/v1/rules", map[string]any{"name": "n", "banks": []string{"known"},
				"actions": []map[string]any{{"kind": "notify", "webhook": "ts"}}}, 201, nil)
			admin.do("POST", "/v1/scan", "image/jpeg", picture, 200, nil)
			var d got
			select {
			case d = <-deliveries:
			case <-time.After(10 * time.Second):
				t.Fatal("no delivery")
			}
			if n := strings.Count(d.sig, "v1="); n != 2 {
				t.Errorf("signature %q: %d signatures, want 2 in the overlap", d.sig, n)
			}
			for _, secret := range []string{rot.Secret, hook.Secret} {
				if err := webhook.Verify([]byte(secret), d.sig, d.body, time.Now(), webhook.DefaultTolerance); err != nil {
					t.Errorf("a receiver holding one of the secrets refuses the delivery: %v", err)
				}
			}
		})
	}
}
