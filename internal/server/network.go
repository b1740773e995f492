package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// loadNetworks builds the account-network use case and rebuilds its
// activity from the stored events, so that detection after a restart
// sees what it saw before.
func loadNetworks(ctx context.Context, st store.Store, tx usecase.Tx, log *audit.Log, rv *usecase.Review, logger *slog.Logger) (*usecase.Networks, error) {
	d, err := network.NewDetector()
	if err != nil {
		return nil, err
	}
	u := &usecase.Networks{Tx: tx, Log: log, Review: rv, Detector: d}
	start := time.Now()
	n, err := u.Load(ctx, st)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		logger.Info("network activity loaded", "events", n, "took", time.Since(start).Round(time.Millisecond))
	}
	return u, nil
}

// detectNetworks runs detection every NetworkEvery while events came
// since the last run, so its cost is bounded by the interval: one pass
// over the activity (about 4 s per million events) at most that often.
func (s *Server) detectNetworks(ctx context.Context) {
	every(ctx, s.cfg.NetworkEvery, func() {
		start := time.Now()
		res, err := s.networks.Detect(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("network detection", "err", err)
		case res.Changed > 0:
			s.log.Info("network cases opened or grown", "networks", res.Networks, "cases", res.Changed, "took", time.Since(start).Round(time.Millisecond))
		}
	})
}

// every calls fn every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}
