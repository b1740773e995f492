package server_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// Issue 12, low findings about flaggers, on every backend: a flagger
// cannot tell another flagger's report from one that does not exist, and
// only admins see flaggers' key ids.
func TestFlaggerPrivacy(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, st := b.open(t)
			base, _ := start(t, cfg, st)
			keys := keysFor(t, st, map[string]auth.Role{"f1": auth.Flagger, "f2": auth.Flagger, "reviewer": auth.Reviewer})
			f1ID, err := auth.ParseID(keys["f1"])
			if err != nil {
				t.Fatal(err)
			}
			f1, f2 := client{t, base, keys["f1"]}, client{t, base, keys["f2"]}
			var rep struct {
				ID     int64 `json:"id"`
				CaseID int64 `json:"case_id"`
			}
			f1.json("POST", "/v1/reports", map[string]any{"category": "grooming", "account_id": "acct-f", "text": "asked for photos"}, 201, &rep)
			other := f2.do("GET", fmt.Sprintf("/v1/reports/%d", rep.ID), "", nil, 404, nil)
			missing := f2.do("GET", fmt.Sprintf("/v1/reports/%d", rep.ID+1000), "", nil, 404, nil)
			if got, want := string(bytes.ReplaceAll(other, []byte(fmt.Sprint(rep.ID)), []byte("N"))),
				string(bytes.ReplaceAll(missing, []byte(fmt.Sprint(rep.ID+1000)), []byte("N"))); got != want {
				t.Errorf("another flagger's report: %s; a missing one: %s (must read the same)", other, missing)
			}
			f1.do("GET", fmt.Sprintf("/v1/reports/%d", rep.ID), "", nil, 200, nil)

			reviewer := client{t, base, keys["reviewer"]}
			for _, path := range []string{fmt.Sprintf("/v1/cases/%d", rep.CaseID), "/v1/queues/grooming"} {
				body := reviewer.do("GET", path, "", nil, 200, nil)
				if strings.Contains(string(body), f1ID) {
					t.Errorf("a reviewer's GET %s shows the flagger's key id %s: %s", path, f1ID, body)
				}
				if !strings.Contains(string(body), "flagger-") && strings.HasPrefix(path, "/v1/cases") {
					t.Errorf("GET %s does not say a flagger reported it: %s", path, body)
				}
			}
		})
	}
}
