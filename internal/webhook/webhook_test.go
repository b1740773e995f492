package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestNewDelivery(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	a, err := NewDelivery("hook", "scan.decision", map[string]int{"n": 1}, now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewDelivery("hook", "scan.decision", map[string]int{"n": 1}, now)
	if a.ID == b.ID || !strings.HasPrefix(a.ID, "dlv_") || len(a.ID) != 36 {
		t.Errorf("ids %q and %q: want distinct dlv_ and 32 hex digits", a.ID, b.ID)
	}
	if a.State != Pending || !a.NextAttempt.Equal(now) || a.Attempts != 0 || a.CreatedAt.Location() != time.UTC {
		t.Errorf("new delivery %+v: want pending, due now, created in UTC", a)
	}
	var env map[string]any
	if err := json.Unmarshal(a.Body, &env); err != nil {
		t.Fatal(err)
	}
	if env["id"] != a.ID || env["event"] != "scan.decision" || env["created_at"] != "2026-11-25T02:04:05Z" {
		t.Errorf("envelope %s", a.Body)
	}
	if _, err := NewDelivery("hook", "x", func() {}, now); err == nil || !strings.Contains(err.Error(), `webhook "hook": event "x"`) {
		t.Errorf("unencodable data: %v, want an error naming webhook and event", err)
	}
}

func TestEndpointValidate(t *testing.T) {
	ok := Endpoint{Name: "trust-safety.v2", URL: "https://hooks.example.com/safeguard", Secret: NewSecret(), Enabled: true}
	tests := []struct {
		change func(*Endpoint)
		want   string // "" for valid
	}{
		{func(*Endpoint) {}, ""},
		{func(e *Endpoint) { e.URL = "http://127.0.0.1:8081/" }, ""},
		{func(e *Endpoint) { e.Name = "" }, `webhook name "": want 1 to 64 characters`},
		{func(e *Endpoint) { e.Name = strings.Repeat("a", 65) }, "want 1 to 64 characters"},
		{func(e *Endpoint) { e.Name = "Hooks" }, `character 1 ('H')`},
		{func(e *Endpoint) { e.Name = "-hook" }, `character 1 ('-')`},
		{func(e *Endpoint) { e.Name = "my hook" }, `character 3 (' ')`},
		{func(e *Endpoint) { e.URL = "ftp://example.com/" }, "scheme must be http or https"},
		{func(e *Endpoint) { e.URL = "/relative" }, "scheme must be http or https"},
		{func(e *Endpoint) { e.URL = "https:///nohost" }, "no host"},
		{func(e *Endpoint) { e.URL = "https://user:pw@example.com/" }, "credentials in the URL"},
		{func(e *Endpoint) { e.URL = "http://[::1" }, `webhook "trust-safety.v2": url:`},
		{func(e *Endpoint) { e.Secret = "short" }, "secret is 5 characters, want at least 16"},
	}
	for _, tt := range tests {
		e := ok
		tt.change(&e)
		err := e.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: Validate = %v, want %q", e, err, tt.want)
		}
	}
	if s := NewSecret(); len(s) != 49 || s == NewSecret() {
		t.Errorf("NewSecret = %q: want 49 characters, fresh each time", s)
	}
}
