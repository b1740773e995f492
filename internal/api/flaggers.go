package api

import (
	"context"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// flaggerMask hides trusted flaggers' key ids from everyone but admins: a
// reviewer needs to know that a trusted flagger reported a case, and which
// reports came from the same one, not the key the flagger signs in with.
// A flagger's key id becomes "flagger-" and 12 hex digits of its SHA-256,
// the same for every case (so reporter accuracy still reads across cases)
// and useless for anything else.
type flaggerMask struct {
	a       *API
	ctx     context.Context
	viewer  auth.Key
	decided map[string]string // key id → what to show ("" : unchanged)
}

func (a *API) maskFor(ctx context.Context, viewer auth.Key) *flaggerMask {
	return &flaggerMask{a: a, ctx: ctx, viewer: viewer, decided: map[string]string{}}
}

// name is what the viewer is shown for reporter id.
func (m *flaggerMask) name(id string) string {
	if m.viewer.Role == auth.Admin || id == "" || id == m.viewer.ID {
		return id
	}
	if shown, ok := m.decided[id]; ok {
		return shown
	}
	shown := id
	if k, _, err := m.a.keys.KeyByID(m.ctx, id); err == nil && k.Role == auth.Flagger {
		shown = auth.Pseudonym(id)
	}
	m.decided[id] = shown
	return shown
}

// caseView masks c, its priority and its reports in place.
func (m *flaggerMask) caseView(c *review.Case, p *review.Priority, rs []review.Report) {
	acc := make([]review.Accuracy, len(c.Signals.Accuracy))
	for i, x := range c.Signals.Accuracy {
		x.Reporter = m.name(x.Reporter)
		acc[i] = x
	}
	if len(acc) > 0 {
		c.Signals.Accuracy = acc
	}
	for i := range rs {
		rs[i].Reporter = m.name(rs[i].Reporter)
	}
	if p == nil {
		return
	}
	bd := make([]review.Contribution, len(p.Breakdown))
	for i, x := range p.Breakdown {
		for id, shown := range m.decided {
			if shown != id {
				x.Why = strings.ReplaceAll(x.Why, id, shown)
			}
		}
		bd[i] = x
	}
	p.Breakdown = bd
}
