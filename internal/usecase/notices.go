package usecase

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/limits"
	"github.com/safeguard-oss/safeguard/internal/notice"
)

// Notices is the notice register's use case: a notice and its evidence
// are registered with their audit entry; the chasing worker's every step
// (the check, the notice sent, an escalation, the removal found) is
// stored with its events and audit entries in one transaction.
type Notices struct {
	Tx  Tx
	Log *audit.Log
	// Store is read and leased from outside a transaction: the lease
	// must commit before the step's network calls.
	Store notice.Store
	// Chaser checks, sends and escalates (its Now is the clock here too).
	Chaser *notice.Chaser
	// Evidence keeps the material a notice is about, encrypted; nil
	// refuses notices that bring content.
	Evidence *evidence.Store
	// Hasher computes the material's PDQ hash, so a check finds a
	// re-encoded copy; nil keeps MD5 only.
	Hasher *hasher.Hasher
	// Lease is how long a worker holds a due notice (default 10 minutes:
	// longer than a fetch and a sending take).
	Lease time.Duration
	// Batch is how many due notices one Chase takes (default 16).
	Batch int
}

// ErrNoEvidence: content came with a notice, but this server keeps no
// evidence.
var ErrNoEvidence = derrors.New(derrors.Unavailable, "this server keeps no evidence, so a notice's content cannot be kept")

func (u *Notices) now() time.Time {
	now := time.Now
	if u.Chaser != nil && u.Chaser.Now != nil {
		now = u.Chaser.Now
	}
	return now().UTC().Truncate(time.Microsecond)
}

func noticeSubject(id int64) string { return "notice:" + strconv.FormatInt(id, 10) }

// Create registers n, made by actor, with the material (content, which
// may be nil) kept encrypted as its evidence; the notice is due at once,
// so the worker checks the URL and sends the first notice.
func (u *Notices) Create(ctx context.Context, actor string, n notice.Notice, content []byte, contentType string) (notice.Notice, error) {
	if err := n.Validate(); err != nil {
		return notice.Notice{}, err
	}
	if err := limits.Line("content type", contentType, limits.ID); err != nil {
		return notice.Notice{}, err
	}
	now := u.now()
	n.State, n.CreatedBy, n.CreatedAt, n.NextAt = notice.Open, actor, now, now
	n.ID, n.Version, n.Sends, n.Checks, n.Evidence, n.MD5, n.PDQ = 0, 0, 0, 0, "", "", nil
	if content != nil {
		if u.Evidence == nil {
			return notice.Notice{}, ErrNoEvidence
		}
		meta := evidence.Meta{ContentType: contentType, Source: "notice", Reason: "notice to " + n.Host}
		if u.Hasher != nil {
			if sig, err := u.Hasher.HashContext(ctx, "notice content", content); err == nil {
				h := sig.PDQ
				n.PDQ, meta.PDQ = &h, h.String()
			}
		}
		item, err := u.Evidence.Put(content, meta)
		if err != nil {
			return notice.Notice{}, fmt.Errorf("notice: keeping its evidence: %w", err)
		}
		n.Evidence, n.MD5 = item.ID, item.MD5.String()
	}
	err := u.Tx(ctx, func(tx Stores) error {
		var err error
		if n, err = tx.Notices.CreateNotice(ctx, n); err != nil {
			return err
		}
		return record(ctx, u.Log.In(tx.Audit), actor, "notice.create", noticeSubject(n.ID), map[string]any{
			"url": n.URL, "host": n.Host, "contact": n.Contact, "category": n.Category, "legal_basis": n.LegalBasis,
			"evidence": n.Evidence, "md5": n.MD5})
	})
	return n, err
}

// Withdraw stops chasing an open notice.
func (u *Notices) Withdraw(ctx context.Context, actor string, id int64, reason string) (notice.Notice, error) {
	if err := limits.Prose("reason", reason, limits.Description); err != nil {
		return notice.Notice{}, err
	}
	var n notice.Notice
	err := u.Tx(ctx, func(tx Stores) error {
		var err error
		if n, err = tx.Notices.Notice(ctx, id); err != nil {
			return err
		}
		if n.State != notice.Open {
			return fmt.Errorf("notice %d is %s: %w", id, n.State, notice.ErrState)
		}
		n.State = notice.Withdrawn
		if n, err = tx.Notices.SaveNotice(ctx, n, nil); err != nil {
			return err
		}
		return record(ctx, u.Log.In(tx.Audit), actor, "notice.withdraw", noticeSubject(id), map[string]any{"reason": reason})
	})
	return n, err
}

// Chase does one round of the worker: it leases the notices due now and
// steps each (a check, perhaps a sending), storing each step with its
// audit entries. It returns how many it stepped; a notice changed
// meanwhile (withdrawn) is left as it is.
func (u *Notices) Chase(ctx context.Context) (int, error) {
	lease, batch := u.Lease, u.Batch
	if lease == 0 {
		lease = 10 * time.Minute
	}
	if batch == 0 {
		batch = 16
	}
	due, err := u.Store.DueNotices(ctx, u.now(), lease, batch)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, n := range due {
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		next, evs := u.Chaser.Step(ctx, n)
		err := u.Tx(ctx, func(tx Stores) error {
			saved, err := tx.Notices.SaveNotice(ctx, next, evs)
			if err != nil {
				return err
			}
			return u.recordSteps(ctx, tx, saved, evs)
		})
		if errors.Is(err, notice.ErrConflict) {
			continue
		}
		if err != nil {
			return done, fmt.Errorf("notice %d: %w", n.ID, err)
		}
		done++
	}
	return done, nil
}

// recordSteps writes the audit entries of a step's events: the checks
// themselves are evidence in the notice's events, too many for the log.
func (u *Notices) recordSteps(ctx context.Context, tx Stores, n notice.Notice, evs []notice.Event) error {
	log := u.Log.In(tx.Audit)
	for _, e := range evs {
		var action string
		detail := map[string]any{"channel": e.Channel, "to": e.To}
		switch {
		case e.Kind == notice.Sent && e.Error == "":
			action, detail["notice"] = "notice.send", n.Sends
		case e.Kind == notice.Escalated && e.Error == "":
			action = "notice.escalate"
		case e.Kind == notice.Gone:
			action = "notice.removed"
			detail = map[string]any{"status": n.LastCheck.Status, "sha256": n.LastCheck.SHA256, "sends": n.Sends}
		default:
			continue
		}
		if err := record(ctx, log, audit.System, action, noticeSubject(n.ID), detail); err != nil {
			return err
		}
	}
	return nil
}
