package api

import (
	"net/http"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// Exchanges are the hash-list exchanges a server runs (an exchange.Runner).
type Exchanges interface {
	Statuses() []exchange.Status
	Status(name string) (exchange.Status, error)
	Kick(name string) error
}

// exchangeJSON is an exchange's status on this node. Credentials never
// appear; errors name upstream's answer, not the secrets sent.
type exchangeJSON struct {
	Name              string           `json:"name"`
	Kind              string           `json:"kind"`
	Fetching          bool             `json:"fetching"`
	LastFetch         *time.Time       `json:"last_fetch,omitempty"`
	LastSuccess       *time.Time       `json:"last_success,omitempty"`
	Succeeded         bool             `json:"succeeded"`
	UpToDate          bool             `json:"up_to_date"`
	LockedElsewhere   bool             `json:"locked_elsewhere"`
	Stopped           bool             `json:"stopped"`
	LastError         string           `json:"last_error,omitempty"`
	Errors            int64            `json:"errors"`
	ConsecutiveErrors int64            `json:"consecutive_errors"`
	Pages             int64            `json:"pages"`
	Records           int64            `json:"records"`
	Entries           int64            `json:"entries"`
	Removed           int64            `json:"removed"`
	Malformed         int64            `json:"malformed"`
	Problems          []string         `json:"problems,omitempty"`
	Skipped           map[string]int64 `json:"skipped,omitempty"`
	CheckpointAt      *time.Time       `json:"checkpoint_at,omitempty"`
	// BankEntries is the live entries of the exchange's bank, from the
	// store (the counts above are this node's since it started).
	BankEntries *int64 `json:"bank_entries,omitempty"`
}

func when(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (a *API) exchangeOf(r *http.Request, s exchange.Status) exchangeJSON {
	out := exchangeJSON{Name: s.Name, Kind: s.Kind, Fetching: s.Fetching, LastFetch: when(s.LastFetch),
		LastSuccess: when(s.LastSuccess), Succeeded: s.Succeeded, UpToDate: s.UpToDate,
		LockedElsewhere: s.LockedElsewhere, Stopped: s.Stopped, LastError: s.LastError, Errors: s.Errors,
		ConsecutiveErrors: s.ConsecutiveErrors, Pages: s.Pages, Records: s.Records, Entries: s.Entries,
		Removed: s.Removed, Malformed: s.Malformed, Problems: s.Problems, CheckpointAt: when(s.Checkpoint.UpdatedAt)}
	if len(s.Skipped) > 0 {
		out.Skipped = make(map[string]int64, len(s.Skipped))
		for k, n := range s.Skipped {
			out.Skipped[string(k)] = n
		}
	}
	if b, err := a.cfg.Banks.Bank(r.Context(), s.Name); err == nil {
		out.BankEntries = &b.Entries
	}
	return out
}

func (a *API) exchanges() (Exchanges, error) {
	if a.cfg.Exchanges == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeUnavailable, "this server runs no exchanges (serve --exchanges FILE; see docs/exchanges.md)")
	}
	return a.cfg.Exchanges, nil
}

func (a *API) listExchanges(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	ex, err := a.exchanges()
	if err != nil {
		return err
	}
	out := []exchangeJSON{}
	for _, s := range ex.Statuses() {
		out = append(out, a.exchangeOf(r, s))
	}
	writeJSON(w, http.StatusOK, map[string]any{"exchanges": out})
	return nil
}

func (a *API) getExchange(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	ex, err := a.exchanges()
	if err != nil {
		return err
	}
	s, err := ex.Status(r.PathValue("exchange"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.exchangeOf(r, s))
	return nil
}

// fetchExchange asks for a fetch now; it does not wait for it.
func (a *API) fetchExchange(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	ex, err := a.exchanges()
	if err != nil {
		return err
	}
	if err := ex.Kick(r.PathValue("exchange")); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"fetch": "queued"})
	return nil
}
