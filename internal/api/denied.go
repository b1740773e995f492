package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// deniedWindow is how long refused accesses of one key to one route are
// folded into one audit entry.
const deniedWindow = time.Minute

// deniedLog coalesces access.denied entries: the first refusal of a key on
// a route is recorded at once; further ones in the next minute are only
// counted, and when the minute is over one more entry records how many
// there were. A key that probes a thousand times a second writes two
// entries a minute per route, not sixty thousand, and the count is kept.
type deniedLog struct {
	window time.Duration // deniedWindow if 0
	mu     sync.Mutex
	open   map[deniedKey]*deniedCount
}

type deniedKey struct{ key, route string }

type deniedCount struct {
	n       int
	subject string
	detail  map[string]any
}

// note records or counts one refusal; record writes an entry.
func (d *deniedLog) note(k deniedKey, subject string, detail map[string]any, record func(subject string, detail map[string]any)) {
	d.mu.Lock()
	if c, ok := d.open[k]; ok {
		c.n++
		d.mu.Unlock()
		return
	}
	if d.open == nil {
		d.open = map[deniedKey]*deniedCount{}
	}
	d.open[k] = &deniedCount{subject: subject, detail: detail}
	d.mu.Unlock()
	record(subject, detail)
	window := d.window
	if window == 0 {
		window = deniedWindow
	}
	time.AfterFunc(window, func() {
		d.mu.Lock()
		c := d.open[k]
		delete(d.open, k)
		d.mu.Unlock()
		if c != nil && c.n > 0 {
			detail := map[string]any{"count": c.n, "window_seconds": window.Seconds()}
			for key, v := range c.detail {
				detail[key] = v
			}
			record(c.subject, detail)
		}
	})
}

// recordDenied puts in the audit log that key k was refused route rt, for
// the routes whose refusals matter (law-enforcement reports, evidence),
// coalesced per key and route (deniedLog).
func (a *API) recordDenied(r *http.Request, k auth.Key, rt route) {
	if !deniedAudited(rt) || a.cfg.Log == nil {
		return
	}
	subject := rt.method + " " + clip(r.URL.Path)
	detail := map[string]any{"role": string(k.Role), "needs": string(rt.perm)}
	a.denied.note(deniedKey{k.ID, rt.method + " " + rt.path}, subject, detail, func(subject string, detail map[string]any) {
		// Not the request's context: the summary is written after it ended.
		if err := a.record(context.WithoutCancel(r.Context()), k, "access.denied", subject, detail); err != nil {
			a.log.Error("api: recording a refused access", "key", k.ID, "path", subject, "err", err)
		}
	})
}
