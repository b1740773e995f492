package kinds_test

import (
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/kinds"
)

// A configuration of every kind, as docs/exchanges.md shows it, builds.
func TestEveryKindFromOneConfig(t *testing.T) {
	env := map[string]string{"NCMEC_USER": "u", "NCMEC_PASSWORD": "p", "STOPNCII_SUB": "s", "STOPNCII_FETCH": "f", "TE_TOKEN": "a|b"}
	cfgs, err := exchange.LoadConfig(strings.NewReader(`{"exchanges": [
	  {"name": "ncmec_industry", "kind": "ncmec", "interval": "30m", "settings": {"environment": "industry"},
	   "credentials": {"username": "env:NCMEC_USER", "password": "env:NCMEC_PASSWORD"}},
	  {"name": "stopncii", "kind": "stopncii", "interval": "1h",
	   "credentials": {"subscription_key": "env:STOPNCII_SUB", "fetch_key": "env:STOPNCII_FETCH"}},
	  {"name": "te_csam", "kind": "threatexchange", "settings": {"privacy_group": "1234567890"},
	   "credentials": {"access_token": "env:TE_TOKEN"}},
	  {"name": "hotline_list", "kind": "list", "interval": "6h", "settings": {"url": "https://hotline.example/hashes.csv", "format": "hma"}},
	  {"name": "partner_ngo", "kind": "peer",
	   "settings": {"url": "https://safeguard.partner.example/v1/peer", "bank": "shared", "public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}}
	]}`), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	r := &exchange.Runner{}
	if err := kinds.AddAll(r, cfgs, nil); err != nil {
		t.Fatal(err)
	}
	if got := len(r.Statuses()); got != 5 {
		t.Errorf("%d exchanges added, want 5", got)
	}
	if _, err := kinds.New(exchange.Config{Name: "x", Kind: "ftp"}, nil); err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("unknown kind: %v", err)
	}
}
