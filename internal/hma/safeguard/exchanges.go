package safeguard

import (
	"context"
	"maps"
	"slices"

	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/kinds"
	"github.com/safeguard-oss/safeguard/internal/hma"
)

// Exchanges answers HMA's exchange routes from the exchanges a server
// runs. They are configured in Safeguard's exchange file, not through the
// API (docs/exchanges.md); these routes only show them.
type Exchanges struct {
	Runner  *exchange.Runner
	Configs []exchange.Config
}

var _ hma.Exchanges = (*Exchanges)(nil)

// kindFields are each kind's settings and credentials, as
// docs/exchanges.md lists them, for HMA's schema route.
var kindFields = map[string]struct{ settings, credentials []string }{
	"ncmec":          {[]string{"environment", "url"}, []string{"username", "password"}},
	"stopncii":       {[]string{"url", "page_size"}, []string{"subscription_key", "fetch_key", "feedback_key"}},
	"threatexchange": {[]string{"privacy_group", "url", "page_size"}, []string{"access_token"}},
	"list":           {[]string{"url", "path", "format", "signal_type", "max_bytes"}, []string{"authorization"}},
	"peer":           {[]string{"url", "bank", "public_key", "page_size"}, []string{"token"}},
}

func fields(names []string) []hma.SchemaField {
	out := make([]hma.SchemaField, 0, len(names))
	for _, n := range names {
		out = append(out, hma.SchemaField{Name: n, Type: "string", Help: "see docs/exchanges.md"})
	}
	return out
}

// ExchangeAPIs implements hma.Exchanges: every kind Safeguard fetches.
func (x *Exchanges) ExchangeAPIs(context.Context) ([]hma.ExchangeAPI, error) {
	out := make([]hma.ExchangeAPI, 0, len(kinds.Names))
	for _, k := range kinds.Names {
		f := kindFields[k]
		api := hma.ExchangeAPI{Name: k, SupportsAuth: len(f.credentials) > 0,
			ConfigSchema: fields(f.settings), CredentialsSchema: fields(f.credentials)}
		for _, c := range x.Configs {
			api.HasAuth = api.HasAuth || (c.Kind == k && len(c.Credentials) > 0)
		}
		out = append(out, api)
	}
	return out, nil
}

func toExchange(c exchange.Config) hma.Exchange {
	cfg := make(map[string]any, len(c.Settings))
	for _, k := range slices.Sorted(maps.Keys(c.Settings)) {
		cfg[k] = c.Settings[k]
	}
	return hma.Exchange{Name: hmaName(c.Name), API: c.Kind, Enabled: true, HasCredentials: len(c.Credentials) > 0, Config: cfg}
}

// ListExchanges implements hma.Exchanges.
func (x *Exchanges) ListExchanges(context.Context) ([]hma.Exchange, error) {
	out := make([]hma.Exchange, 0, len(x.Configs))
	for _, c := range x.Configs {
		out = append(out, toExchange(c))
	}
	return out, nil
}

// Exchange implements hma.Exchanges; the name is the bank's, in either case.
func (x *Exchanges) Exchange(_ context.Context, name string) (hma.Exchange, error) {
	for _, c := range x.Configs {
		if c.Name == ourName(name) {
			return toExchange(c), nil
		}
	}
	return hma.Exchange{}, hma.Errorf(hma.ErrNotFound, "Exchange '%s' not found", name)
}

// ExchangeStatus implements hma.Exchanges from the runner's status on this
// node. fetched_items counts the records applied since the node started.
func (x *Exchanges) ExchangeStatus(_ context.Context, name string) (hma.FetchStatus, error) {
	s, err := x.Runner.Status(ourName(name))
	if err != nil {
		return hma.FetchStatus{}, hma.Errorf(hma.ErrNotFound, "Exchange '%s' not found", name)
	}
	unix := func(t interface{ Unix() int64 }) *int64 { v := t.Unix(); return &v }
	out := hma.FetchStatus{UpToDate: s.UpToDate, FetchedItems: s.Records}
	if !s.Checkpoint.UpdatedAt.IsZero() {
		out.CheckpointTS = unix(s.Checkpoint.UpdatedAt)
	}
	if s.Fetching {
		out.RunningFetchStartTS = unix(s.LastFetch)
	}
	if !s.LastFetch.IsZero() && !s.Fetching {
		ok := s.Succeeded
		out.LastFetchSucceeded = &ok
		if !s.LastSuccess.IsZero() {
			out.LastFetchCompleteTS = unix(s.LastSuccess)
		}
	}
	return out, nil
}
