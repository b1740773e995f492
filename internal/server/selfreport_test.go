package server_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/server"
)

// selfReport sends one self-report of picture from client address xff
// (an X-Forwarded-For header) and returns the status.
func selfReport(t *testing.T, base string, picture []byte, xff string) int {
	t.Helper()
	var h hasher.Hasher
	s, err := h.Hash("p", picture)
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"images":[{"pdq":%q,"quality":%d,"md5":%q,"sha256":%q}]}`,
		s.PDQ.String(), s.Quality, hex.EncodeToString(s.MD5[:]), hex.EncodeToString(s.SHA256[:]))
	req, _ := http.NewRequest("POST", base+"/v1/self-reports", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Issue 12, finding 6: Report Remove cannot be turned against anyone. A
// self-reported hash restricts matching uploads (hidden pending review)
// instead of blocking them, queues them first, and when uploads from many
// accounts match it the case is flagged as suspected abuse of the form.
// Behind a trusted proxy each client has its own rate limit.
func TestSelfReportRestricts(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, st := b.open(t)
			cfg.TrustedProxies = []string{"127.0.0.1/32"} // the test's client plays the proxy
			base, _ := start(t, cfg, st)
			keys := keysFor(t, st, map[string]auth.Role{"platform": auth.Integrator, "reviewer": auth.Reviewer})
			platform, reviewer := client{t, base, keys["platform"]}, client{t, base, keys["reviewer"]}
			picture, _ := photo(t, 11)

			for i := range 10 {
				if code := selfReport(t, base, picture, "198.51.100.1"); code != 201 {
					t.Fatalf("self-report %d from one client: %d", i+1, code)
				}
			}
			if code := selfReport(t, base, picture, "198.51.100.1"); code != 429 {
				t.Errorf("11th self-report from one client: %d, want 429", code)
			}
			if code := selfReport(t, base, picture, "198.51.100.2"); code != 201 {
				t.Errorf("a second client behind the same proxy: %d, want 201 (limits are per client)", code)
			}

			var ans struct {
				Blocked    bool `json:"blocked"`
				Restricted bool `json:"restricted"`
				Actions    []struct {
					Kind     string `json:"kind"`
					Priority int    `json:"priority"`
				} `json:"actions"`
			}
			for i := range 5 {
				platform.do("POST", fmt.Sprintf("/v1/scan?content_id=up-%d&account_id=acct-%d", i, i), "image/jpeg", picture, 200, &ans)
				if ans.Blocked || !ans.Restricted {
					t.Fatalf("upload %d matching a self-reported hash: blocked %v restricted %v, want restricted only", i, ans.Blocked, ans.Restricted)
				}
			}
			var v struct {
				Case struct {
					State      string   `json:"state"`
					Category   string   `json:"category"`
					AccountIDs []string `json:"account_ids"`
				} `json:"case"`
				Priority struct {
					Breakdown []struct {
						Factor string `json:"factor"`
						Points int    `json:"points"`
					} `json:"breakdown"`
					Flags []struct {
						Flag string `json:"flag"`
					} `json:"flags"`
				} `json:"priority"`
			}
			reviewer.do("GET", "/v1/cases/1", "", nil, 200, &v)
			if v.Case.State != "open" || v.Case.Category != "self_generated" || len(v.Case.AccountIDs) != 5 {
				t.Errorf("case %+v, want one open self_generated case of the 5 uploaders (a person confirms)", v.Case)
			}
			rulePoints := 0
			for _, c := range v.Priority.Breakdown {
				if c.Factor == "rule" {
					rulePoints = c.Points
				}
			}
			if rulePoints != 20 {
				t.Errorf("rule points %d, want the most a rule can ask (20): %+v", rulePoints, v.Priority)
			}
			if len(v.Priority.Flags) != 1 || v.Priority.Flags[0].Flag != "suspected_form_abuse" {
				t.Errorf("case matched by uploads of 5 accounts: flags %+v, want suspected_form_abuse", v.Priority.Flags)
			}
		})
	}
}

// Without a trusted proxy, X-Forwarded-For is the client's own say-so and
// changes nothing: the peer's limit holds.
func TestForwardedIgnoredUntrusted(t *testing.T) {
	cfg, st := openSQLite(t)
	base, _ := start(t, cfg, st)
	picture, _ := photo(t, 12)
	for i := range 10 {
		if code := selfReport(t, base, picture, fmt.Sprintf("198.51.100.%d", i)); code != 201 {
			t.Fatalf("self-report %d: %d", i+1, code)
		}
	}
	if code := selfReport(t, base, picture, "198.51.100.99"); code != 429 {
		t.Errorf("11th self-report with a made-up X-Forwarded-For: %d, want 429", code)
	}
}

// A rate-limit key that is not the hex of 32 bytes or more stops the
// server at start, naming the setting, instead of storing addresses under
// a weak key.
func TestRateLimitKeyChecked(t *testing.T) {
	cfg, st := openPostgres(t)
	defer st.Close()
	cfg.RateLimitKey = "0123abcd"
	_, err := server.New(context.Background(), cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "rate-limit key") {
		t.Fatalf("server.New with a short rate-limit key: %v, want it refused", err)
	}
}
