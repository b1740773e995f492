package server

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// newNotices is the notice register over st, configured by
// cfg.NoticesFile (docs/notices.md); without one, notices are registered
// and checked (public addresses only) but no e-mail goes out.
func newNotices(cfg Config, st store.Store, tx usecase.Tx, log *audit.Log, ev *evidence.Store, h *hasher.Hasher) (*usecase.Notices, error) {
	var c notice.Config
	setup := notice.Setup{Fetch: &notice.Safe{}, Senders: &notice.Senders{}}
	if cfg.NoticesFile != "" {
		var err error
		if c, setup, err = notice.LoadConfig(cfg.NoticesFile, cfg.SMTPUser, cfg.SMTPPassword, os.Getenv); err != nil {
			return nil, err
		}
	}
	chaser := &notice.Chaser{Fetch: setup.Fetch, Senders: setup.Senders, Org: c.Org, Distance: c.Distance,
		CheckEvery: setup.CheckEvery, Resend: setup.Resend, EscalateAfter: setup.EscalateAfter,
		PDQ: func(ctx context.Context, b []byte) (pdq.Hash, error) {
			s, err := h.HashContext(ctx, "notice check", b)
			return s.PDQ, err
		}}
	return &usecase.Notices{Tx: tx, Log: log, Store: st, Chaser: chaser, Evidence: ev, Hasher: h}, nil
}

// chaseNotices runs the notice worker: every ChaseEvery, rounds of due
// notices until none is left. Workers on several servers share the work
// through the store's leases.
func chaseNotices(ctx context.Context, u *usecase.Notices, period time.Duration, log *slog.Logger) {
	round := func() {
		for ctx.Err() == nil {
			n, err := u.Chase(ctx)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("chasing notices", "err", err)
				}
				return
			}
			if n == 0 {
				return
			}
			log.Info("chased notices", "notices", n)
		}
	}
	round()
	every(ctx, period, round)
}
