package exchange

import (
	"bytes"
	"testing"
	"time"
)

func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte(`{"exchanges": [{"name": "ncmec_ngo", "kind": "ncmec", "interval": "30m",
		"settings": {"environment": "ngo"}, "credentials": {"username": "u", "password": "env:P"}}]}`))
	f.Add([]byte(`{"exchanges": [{"name": "a", "kind": "list", "interval": "-5s"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfgs, err := LoadConfig(bytes.NewReader(data), func(string) string { return "secret" })
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, c := range cfgs {
			if c.Name == "" || c.Kind == "" || seen[c.Name] || c.Interval != 0 && c.Interval < MinInterval {
				t.Fatalf("config %+v accepted", c)
			}
			seen[c.Name] = true
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Tue, 01 Dec 2026 10:00:30 GMT")
	f.Fuzz(func(t *testing.T, v string) {
		if d := parseRetryAfter(v, time.Now()); d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v", v, d)
		}
	})
}
