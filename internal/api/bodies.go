package api

import (
	"net/http"
)

// admitBody takes, from the body budget (Config.BodyBudget), the memory a
// request's content will hold once read, before a byte of it is read: 24
// uploads of 30 MB at once then wait their turn (their senders held back
// by TCP) instead of costing 720 MB together. The amount is the declared
// Content-Length, or the whole limit when none is declared. The body
// budget is apart from the decode budget: a request holding its body and
// waiting for a decode must not starve the decodes of others' bodies.
func (a *API) admitBody(r *http.Request, limit int64) (release func(), err error) {
	if a.cfg.BodyBudget == nil {
		return func() {}, nil
	}
	n := r.ContentLength
	if n <= 0 || n > limit {
		n = limit
	}
	return a.cfg.BodyBudget.Acquire(r.Context(), "request body", min(n, a.cfg.BodyBudget.Total()))
}
