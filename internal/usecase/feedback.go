package usecase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// Audit actions of exchange feedback.
const (
	FeedbackQueued = "exchange.feedback.queue"
	FeedbackSent   = "exchange.feedback.send"
	FeedbackFailed = "exchange.feedback.fail"
)

// queueFeedback queues, in the decision's transaction, the reviewer's
// verdict on each match of the case whose entry came from an exchange that
// takes feedback (NCMEC, StopNCII). A pending first dismissal is not a
// verdict yet; a decision on appeal is, and queues its own.
func queueFeedback(ctx context.Context, log *audit.Log, tx Stores, actor string, c review.Case) error {
	if tx.Exchanges == nil || tx.Banks == nil || len(c.Decisions) == 0 {
		return nil
	}
	dec := c.Decisions[len(c.Decisions)-1]
	if dec.Pending {
		return nil
	}
	var fbs []exchange.Feedback
	for _, m := range c.Signals.Matches {
		e, err := tx.Banks.Entry(ctx, m.EntryID)
		if errors.Is(err, derrors.NotFound) {
			continue // removed since: nothing upstream to tell about it
		}
		if err != nil {
			return err
		}
		if !slices.Contains(exchange.FeedbackKinds, e.AddedBy) || e.ExternalID == "" {
			continue
		}
		fbs = append(fbs, feedbackOf(e, c.ID, dec.Verdict == review.Confirm))
	}
	if len(fbs) == 0 {
		return nil
	}
	if err := tx.Exchanges.QueueFeedback(ctx, fbs); err != nil {
		return fmt.Errorf("queueing feedback on case %d: %w", c.ID, err)
	}
	return record(ctx, log.In(tx.Audit), actor, FeedbackQueued, caseRef(c.ID), map[string]any{
		"feedback": len(fbs), "confirmed": dec.Verdict == review.Confirm})
}

func feedbackOf(e bank.Entry, caseID int64, confirmed bool) exchange.Feedback {
	return exchange.Feedback{Exchange: e.Source, RecordID: e.ExternalID, Kind: exchange.Kind(e.Signal),
		Value: e.Value, Confirmed: confirmed, CaseID: caseID}
}

// Feedback sends the queued feedback upstream.
type Feedback struct {
	Store exchange.FeedbackStore
	Log   *audit.Log
	// Send sends one verdict (exchange.Runner.SendFeedback).
	Send func(ctx context.Context, fb exchange.Feedback) error
	Now  func() time.Time // nil: time.Now
}

// MaxFeedbackAttempts bounds the tries of one feedback; the backoff
// between them doubles from a minute, so the last is about 8.5 hours
// after the first.
const MaxFeedbackAttempts = 10

// SendDue sends the feedback due now, up to limit: each sent one, and each
// given up on (a permanent refusal, or MaxFeedbackAttempts failures), is
// recorded in the audit log; others are tried again later. It returns how
// many were sent.
func (u *Feedback) SendDue(ctx context.Context, limit int) (int, error) {
	now := time.Now
	if u.Now != nil {
		now = u.Now
	}
	due, err := u.Store.DueFeedback(ctx, now(), limit)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, fb := range due {
		serr := u.Send(ctx, fb)
		if ctx.Err() != nil {
			return sent, ctx.Err() // shutting down: not the upstream's failure
		}
		attempts := fb.Attempts + 1
		detail := map[string]any{"exchange": fb.Exchange, "record": fb.RecordID, "signal": string(fb.Kind),
			"confirmed": fb.Confirmed, "case": fb.CaseID, "attempts": attempts}
		switch {
		case serr == nil:
			if err := u.Store.SettleFeedback(ctx, fb.ID, attempts, "", true, now()); err != nil {
				return sent, err
			}
			sent++
			if err := record(ctx, u.Log, audit.System, FeedbackSent, caseRef(fb.CaseID), detail); err != nil {
				return sent, err
			}
		case exchange.Permanent(serr) || attempts >= MaxFeedbackAttempts:
			msg := exchange.Clip(serr.Error())
			if err := u.Store.SettleFeedback(ctx, fb.ID, attempts, msg, true, now()); err != nil {
				return sent, err
			}
			detail["error"] = msg
			if err := record(ctx, u.Log, audit.System, FeedbackFailed, caseRef(fb.CaseID), detail); err != nil {
				return sent, err
			}
		default:
			next := now().Add(time.Minute << (attempts - 1))
			if err := u.Store.SettleFeedback(ctx, fb.ID, attempts, exchange.Clip(serr.Error()), false, next); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}
