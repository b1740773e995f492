package usecase

import (
	"context"
	"fmt"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// Networks takes a platform's activity in and turns the account networks
// detected in it into review cases. Events are stored (with an audit entry
// per batch) before they count; the activity is kept in memory, rebuilt
// from the store by Load, and detection runs over all of it.
//
// It is safe for concurrent use: one lock guards the activity, so events
// wait while a detection runs (about 4 s per million events).
type Networks struct {
	Tx       Tx // its stores: Network, Audit
	Log      *audit.Log
	Review   *Review // files and grows network cases
	Detector *network.Detector

	mu      sync.Mutex
	act     network.Activity
	pending int // events added since the last detection
}

// Ingested is what one batch of events did.
type Ingested struct {
	Accepted   int `json:"accepted"`   // new events
	Repeated   int `json:"repeated"`   // ids already accepted, ignored
	Unresolved int `json:"unresolved"` // posts naming a content id no scan gave a PDQ hash
}

// Load rebuilds the activity from the stored events; the server calls it
// once at start. It returns how many events it read.
func (u *Networks) Load(ctx context.Context, st network.Store) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	err := st.Events(ctx, func(e network.Event) error {
		u.act.Add(e)
		n++
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("loading network events: %w", err)
	}
	u.pending += n
	return n, nil
}

// Ingest stores checked events for actor and adds them to the activity.
// A post naming a content id takes the PDQ hash of that content's latest
// scan (a post whose scan is unknown keeps no image).
func (u *Networks) Ingest(ctx context.Context, actor string, es []network.Event) (Ingested, error) {
	var res Ingested
	if len(es) == 0 {
		return res, nil
	}
	err := u.Tx(ctx, func(tx Stores) error {
		if tx.Network == nil {
			return fmt.Errorf("network events are not kept on this server: %w", derrors.Unavailable)
		}
		res = Ingested{}
		for i := range es {
			if e := &es[i]; e.ContentID != "" && e.PDQ == "" {
				h, err := tx.Network.ScannedPDQ(ctx, e.ContentID)
				if err != nil {
					return err
				}
				if e.PDQ = h; h == "" {
					res.Unresolved++
				}
			}
		}
		n, err := tx.Network.AddEvents(ctx, es)
		if err != nil {
			return fmt.Errorf("storing %d network events: %w", len(es), err)
		}
		res.Accepted, res.Repeated = n, len(es)-n
		return record(ctx, u.Log.In(tx.Audit), actor, "network.events", "network",
			map[string]any{"accepted": res.Accepted, "repeated": res.Repeated, "unresolved": res.Unresolved})
	})
	if err != nil {
		return Ingested{}, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, e := range es {
		if u.act.Add(e) {
			u.pending++
		}
	}
	return res, nil
}

// Detected is what one detection did.
type Detected struct {
	Networks int `json:"networks"` // found
	Changed  int `json:"changed"`  // cases opened or grown
}

// Detect runs the detector over the activity if events came since the
// last run, and opens or grows a review case for every network found.
func (u *Networks) Detect(ctx context.Context) (Detected, error) {
	u.mu.Lock()
	if u.pending == 0 {
		u.mu.Unlock()
		return Detected{}, nil
	}
	nets := u.Detector.Detect(&u.act)
	u.pending = 0
	u.mu.Unlock()
	res := Detected{Networks: len(nets)}
	for _, nt := range nets {
		err := u.Review.change(ctx, audit.System, func(d *review.Desk) (review.Effects, error) {
			_, fx, changed, err := d.FileNetwork(ctx, nt)
			if changed {
				res.Changed++
			}
			return fx, err
		})
		if err != nil {
			u.mu.Lock()
			u.pending++ // try again on the next run
			u.mu.Unlock()
			return res, fmt.Errorf("network %s: %w", nt.ID, err)
		}
	}
	return res, nil
}
