package api

import (
	"net/http"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
)

// peerFeed serves a published bank's signed feed to a partner instance
// (a key with feeds.read): the body exactly as signed, its signature in
// the Safeguard-Signature header.
func (a *API) peerFeed(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	if a.cfg.Feeds == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "this server publishes no banks (serve --publish BANKS with a peer key; see docs/exchanges.md)")
	}
	after, limit, err := peer.ParseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	body, sig, err := a.cfg.Feeds.Page(r.Context(), k.ID, r.PathValue("bank"), after, limit)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(peer.SignatureHeader, sig)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return nil
}
