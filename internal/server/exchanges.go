package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/kinds"
	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/hma"
	"github.com/safeguard-oss/safeguard/internal/hma/safeguard"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// exchangeActor is who the audit log says created an exchange's bank.
const exchangeActor = "system:exchanges"

// NewExchanges builds the runner of the configured exchanges over the bank
// use case, and creates each exchange's bank if it is missing. The runner's
// workers are goroutines of their own (started by Run), never a request's:
// a backfill holds no lookup up.
func NewExchanges(ctx context.Context, cfgs []exchange.Config, banks *usecase.Banks, logger *slog.Logger) (*exchange.Runner, error) {
	ex := &usecase.Exchanges{Banks: banks}
	// Statuses live in the store, so every node answers the same.
	r := &exchange.Runner{Sink: ex, Checkpoints: ex, Lock: ex, StatusStore: banks.Stores.Exchanges, Log: logger.With("part", "exchanges")}
	if err := kinds.AddAll(r, cfgs, &exchange.HTTP{}); err != nil {
		return nil, err
	}
	for _, c := range cfgs {
		_, err := banks.Create(ctx, exchangeActor, bank.Bank{Name: c.Name, Description: "filled by exchange " + c.Name + " (" + c.Kind + ")"})
		if err != nil && !errors.Is(err, derrors.Exists) {
			return nil, fmt.Errorf("exchange %q: creating its bank: %w", c.Name, err)
		}
	}
	return r, nil
}

// newPublisher builds the publisher of the banks cfg.Publish names, over
// the store's per-bank change feed, or nil if none is published.
func newPublisher(cfg Config, st store.Store) (*peer.Publisher, error) {
	if len(cfg.Publish) == 0 {
		if cfg.PeerKey != "" {
			return nil, errors.New("peer key given but no bank to publish: name them with --publish")
		}
		return nil, nil
	}
	if cfg.PeerKey == "" {
		return nil, errors.New("publish: no peer key to sign the feeds with: set SAFEGUARD_PEER_KEY (or peer-key in --config) to a seed made by safeguard exchange peer-key")
	}
	key, err := peer.ParsePrivateKey(cfg.PeerKey)
	if err != nil {
		return nil, fmt.Errorf("peer key: %w", err)
	}
	var names []string
	for _, n := range cfg.Publish {
		n = strings.TrimSpace(n)
		if err := bank.ValidName(n); err != nil {
			return nil, fmt.Errorf("publish %q: %w", n, err)
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return &peer.Publisher{Key: key, Source: st, Banks: names}, nil
}

// newHMA builds the handler of the HMA 2.0-compatible listener
// (docs/hma.md) over the same bank use case, matcher, hasher, key cache,
// key limiter and request-body budget as the API.
func newHMA(cfg Config, banks *usecase.Banks, h *hasher.Hasher, r *exchange.Runner, keys *auth.Cache, limits *auth.Limiter, bodies *media.Budget, logger *slog.Logger) (http.Handler, error) {
	b, err := safeguard.New(banks, h)
	if err != nil {
		return nil, err
	}
	if r != nil {
		b.Exchanges = &safeguard.Exchanges{Runner: r, Configs: cfg.Exchanges}
	}
	role := auth.Role(cfg.HMAAnonymous)
	if role != "" && !role.Valid() {
		return nil, fmt.Errorf("hma-anonymous %q: want a role (%v)", role, auth.Roles())
	}
	return hma.New(hma.Config{
		Backend:      b,
		Authenticate: func(ctx context.Context, k string) (auth.Key, error) { return auth.Authenticate(ctx, keys, k) },
		Anonymous:    role,
		Limits:       limits,
		FetchAllow:   cfg.HMAFetchAllow,
		MaxContent:   cfg.MaxBody,
		BodyBudget:   bodies,
		StaleAfter:   time.Minute,
		Log:          logger.With("part", "hma"),
	})
}

// feedbackEvery is how often queued feedback is sent upstream.
const feedbackEvery = 30 * time.Second

// feedbackLock names the lock of the feedback sender, so that one node at
// a time sends (the name is no bank's: it cannot be an exchange's).
const feedbackLock = "feedback:"

// sendFeedback sends queued reviewers' verdicts upstream until ctx ends,
// on one node at a time.
func sendFeedback(ctx context.Context, f *usecase.Feedback, lock exchange.Store, logger *slog.Logger) {
	t := time.NewTicker(feedbackEvery)
	defer t.Stop()
	for {
		release, ok, err := lock.TryLockExchange(ctx, feedbackLock)
		if err == nil && ok {
			for {
				n, err := f.SendDue(ctx, 50)
				if err != nil && ctx.Err() == nil {
					logger.Error("sending exchange feedback", "err", err)
				}
				if err != nil || n < 50 {
					break
				}
			}
			release()
		} else if err != nil && ctx.Err() == nil {
			logger.Error("exchange feedback: taking its lock", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
