// Package scan is the server's decision pipeline: content (or its hashes)
// and the context the platform sent become signals, signals become matches,
// matches and rules become a decision, and the decision becomes actions —
// evidence kept, webhooks queued, the audit log appended — all recorded
// durably before the caller may answer.
//
// It knows nothing of HTTP; internal/api calls it. A Pipeline's steps run in
// an order that survives a crash at any point: evidence first (it needs the
// bytes, which are never kept otherwise), then the scan record naming it,
// then webhook deliveries, then the audit entry. A crash before the record
// leaves at most an orphan evidence item and no answer; a crash after it
// leaves a recorded scan whose caller never got a 200, which it retries.
package scan

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/signal"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Kinds of scan record.
const (
	KindScan   = "scan"   // content was sent and hashed here
	KindLookup = "lookup" // only hashes were sent
)

// Event is the webhook event a notify action sends.
const Event = "scan.decision"

// Request is one piece of content, or its hashes, to decide on.
type Request struct {
	Actor     string // the API key id that sent it
	ContentID string // the platform's id for the content
	AccountID string // the platform's id for the uploader
	Context   rules.Content
	// Content is the uploaded bytes; nil for a lookup, which sets Signals
	// instead (a platform's hashes: claimed, never computed here).
	Content []byte
	// ContentFile, instead of Content, is a video spooled to disk: ffmpeg
	// reads it there and it is never held in memory to be hashed. The
	// caller removes it after Decide.
	ContentFile string
	ContentType string // as the platform sent it, kept with evidence
	// Upload is what the platform says about the upload (address, port,
	// time, user agent); kept with the evidence, for a report, and
	// nowhere else.
	Upload  *evidence.Upload
	Signals signal.Set

	// Banks restricts matching to these banks; empty means all.
	Banks []string
}

// Result is what the pipeline decided, as recorded.
type Result struct {
	Record
	// Blocked is true when a rule asked that the content not be published.
	Blocked bool
}

// Pipeline decides on content. Every field but Evidence and Wake is
// required. It is safe for concurrent use.
type Pipeline struct {
	Hasher  *hasher.Hasher
	Matcher *match.Matcher
	Rules   rules.Store
	Scans   Store
	Outbox  webhook.Outbox
	Audit   *audit.Log
	// Evidence keeps the bytes of content a rule quarantines or reports;
	// when nil such content cannot be kept and the record says so.
	Evidence *evidence.Store
	// Wake, if set, is called after deliveries are queued (the
	// dispatcher's Wake), so they go out at once instead of at the next
	// poll.
	Wake func()
	// Slots, if set, bounds how many contents are decoded and hashed at
	// once, since each holds a decoded image in memory. Only hashing
	// takes a slot: the rest of a decision waits on the store, and a slow
	// database must not leave the CPUs idle.
	Slots chan struct{}
	// VideoSlots, if set, bounds how many videos are hashed at once (each
	// runs ffmpeg children under their own memory limits); videos take no
	// Slot.
	VideoSlots chan struct{}
	// Enqueue, if set, files the report a rule's enqueue or report action
	// asks for, once a scan (with the enqueue action when there are both;
	// the server hands it to the review desk), once the scan is on
	// record and before webhooks are queued. Its failure fails the scan:
	// the platform retries, and a report asked for is not lost.
	Enqueue func(ctx context.Context, rec Record, a rules.Decided) error
	// Unkept, if set, is called each time a scan fails because content a
	// rule keeps could not be written (a metric counts it).
	Unkept func()
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

// ErrNoSignal is returned (wrapped) for a request with neither content nor
// any hash.
var ErrNoSignal = derrors.New(derrors.Invalid, "nothing to match: no content and no hashes")

// ErrNoTarget says why a scan's enqueue or report action was skipped: a
// case is about a content_id, an account_id or the content's PDQ, MD5 or
// SHA-256 (review.Report's target), and the request gave none.
var ErrNoTarget = errors.New("no target for a case: the request has no content_id, account_id, or PDQ (of quality 50 or more), MD5 or SHA-256 to review")

// CasePDQ is the PDQ a review case about this scan holds: none when the
// hash is too plain to mean anything (LowQuality), as it would join every
// other plain image's case.
func (rec *Record) CasePDQ() string {
	if rec.LowQuality {
		return ""
	}
	return rec.PDQ
}

// target is what a review case about rec could be about (the report
// Enqueue files from it).
func (rec *Record) target() signal.Target {
	return signal.Target{ContentID: rec.ContentID, AccountID: rec.AccountID, PDQ: rec.CasePDQ() != "", MD5: rec.MD5 != "", SHA256: rec.SHA256 != ""}
}

// Decide runs the pipeline on one request. A *media.Error from hashing is
// returned as is (the caller's content was bad); match.ErrUnknownBank
// wrapped when a requested bank does not exist; other errors are the
// server's.
func (p *Pipeline) Decide(ctx context.Context, req Request) (Result, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	rec := Record{
		ID:         NewID(),
		Time:       now().UTC().Truncate(time.Microsecond),
		Kind:       KindLookup,
		Actor:      req.Actor,
		ContentID:  req.ContentID,
		AccountID:  req.AccountID,
		Surface:    string(req.Context.Surface),
		Visibility: string(req.Context.Visibility),
		Quality:    -1,
	}
	q := match.Query{Set: req.Signals, Radius: -1, Banks: req.Banks}
	if req.ContentFile != "" {
		rec.Kind = KindScan
		set, err := p.hashVideo(ctx, req.ContentFile)
		if err != nil {
			return Result{}, err
		}
		q.Set = set
	} else if req.Content != nil {
		rec.Kind = KindScan
		if p.Slots != nil {
			select {
			case p.Slots <- struct{}{}:
			case <-ctx.Done():
				return Result{}, ctx.Err()
			}
		}
		sig, err := p.Hasher.HashContext(ctx, "content", req.Content)
		if p.Slots != nil {
			<-p.Slots
		}
		if err != nil {
			return Result{}, err
		}
		q.Set = sig.Set()
	} else if q.Empty() {
		return Result{}, ErrNoSignal
	}
	if q.PDQ != nil {
		rec.PDQ, rec.Quality = q.PDQ.String(), q.Quality
	}
	rec.MD5, rec.SHA256 = q.MD5Hex(), q.SHA256Hex()

	res, err := p.Matcher.Match(ctx, q)
	if err != nil {
		return Result{}, err
	}
	rec.LowQuality = res.LowQuality
	rec.Matches = append(make([]match.Match, 0, len(res.Matches)), res.Matches...)
	rec.Decision = rules.Decision{Actions: []rules.Decided{}, Fired: []rules.RuleRef{}}
	if len(rec.Matches) > 0 {
		// Rules are read only when something matched: most content matches
		// nothing, and then no rule can fire.
		rs, err := p.Rules.ListRules(ctx)
		if err != nil {
			return Result{}, fmt.Errorf("scan: reading rules: %w", err)
		}
		rec.Decision = rules.Decide(rs, req.Context, rec.Matches)
		if !rec.target().Any() {
			// A lookup of a vPDQ alone (or of a PDQ too plain to match)
			// names nothing a case could be about: its matches and the
			// other actions are still the platform's to act on, so the
			// answer gives them and says which actions were not taken.
			rec.Decision = rec.Decision.Skip(ErrNoTarget.Error(), rules.Enqueue, rules.Report)
		}
	}

	if kept := rec.Decision.Has(rules.Quarantine) || rec.Decision.Has(rules.Report); kept {
		if err := p.keep(ctx, &rec, req); err != nil {
			if p.Unkept != nil {
				p.Unkept()
			}
			return Result{}, err
		}
	}
	if err := p.Scans.RecordScan(ctx, rec); err != nil {
		return Result{}, fmt.Errorf("scan %s: recording the decision: %w", rec.ID, err)
	}
	if p.Enqueue != nil {
		// A report action files for review too: a person confirms before
		// a law-enforcement draft is opened (the confirmation opens it).
		// One report per scan, at the enqueue action's priority if any.
		var file *rules.Decided
		for _, a := range rec.Decision.Actions {
			if a.Kind == rules.Enqueue || a.Kind == rules.Report && file == nil {
				file = &a
			}
		}
		if file != nil {
			if err := p.Enqueue(ctx, rec, *file); err != nil {
				return Result{}, fmt.Errorf("scan %s: enqueueing for review: %w", rec.ID, err)
			}
		}
	}
	if err := p.notify(ctx, rec); err != nil {
		return Result{}, err
	}
	if len(rec.Decision.Fired) > 0 {
		subject := rec.ContentID
		if subject == "" {
			subject = rec.ID
		}
		if _, err := p.Audit.Record(ctx, audit.System, audit.ScanDecision, subject, auditDetail(rec)); err != nil {
			return Result{}, fmt.Errorf("scan %s: %w", rec.ID, err)
		}
	}
	return Result{Record: rec, Blocked: rec.Decision.Has(rules.Block)}, nil
}

// keep preserves the content a rule quarantined or reported. It fails
// closed: when content was sent and cannot be kept, the scan fails with
// ErrNotKept (503, and the platform retries) rather than answer an action
// it did not carry out. A lookup sends only hashes, so there is nothing to
// keep; its record says so.
func (p *Pipeline) keep(ctx context.Context, rec *Record, req Request) error {
	var why rules.Decided
	for _, a := range rec.Decision.Actions {
		if a.Kind == rules.Quarantine || a.Kind == rules.Report {
			why = a
			break
		}
	}
	// The content is an image's bytes, which hashing needed whole, or a
	// video spooled to disk, which is streamed from its file (read twice,
	// a segment at a time: evidence.Store.PutFrom), never whole in memory.
	var content io.ReaderAt
	var size int64
	switch {
	case req.ContentFile != "":
		f, err := os.Open(req.ContentFile)
		if err == nil {
			defer f.Close()
			var info os.FileInfo
			if info, err = f.Stat(); err == nil {
				content, size = f, info.Size()
			}
		}
		if err != nil {
			return fmt.Errorf("scan %s: reading the spooled video to keep it: %v: %w", rec.ID, err, ErrNotKept)
		}
	case req.Content != nil:
		content, size = bytes.NewReader(req.Content), int64(len(req.Content))
	}
	switch {
	case content == nil:
		rec.EvidenceError = "no content to keep: only hashes were sent"
		return nil
	case p.Evidence == nil:
		p.logger().Error("scan: content not kept: no evidence store", "scan", rec.ID, "rule", why.Rule.ID)
		return fmt.Errorf("scan %s: rule %d %ss the content and this server has no evidence store (set SAFEGUARD_EVIDENCE_KEYS): %w", rec.ID, why.Rule.ID, why.Kind, ErrNotKept)
	}
	item, err := p.Evidence.PutFrom(content, size, evidence.Meta{
		ContentType: req.ContentType,
		ContentID:   req.ContentID,
		AccountID:   req.AccountID,
		Source:      "scan " + rec.ID,
		Upload:      req.Upload,
		Reason:      fmt.Sprintf("%s by rule %d v%d %q", why.Kind, why.Rule.ID, why.Rule.Version, why.Rule.Name),
	})
	if err != nil {
		// The cause (a full or read-only volume) is the operator's to
		// read in the log; the platform needs only to retry.
		p.logger().Error("scan: content not kept", "scan", rec.ID, "err", err)
		return fmt.Errorf("scan %s: rule %d %ss the content and keeping it failed: %w", rec.ID, why.Rule.ID, why.Kind, ErrNotKept)
	}
	rec.Evidence = item.ID
	// The evidence.put entry precedes the decision's, so the chain of
	// custody starts with the intake.
	if _, err := p.Audit.Record(ctx, audit.System, audit.EvidencePut, item.ID,
		map[string]string{"sha256": item.SHA256.String(), "scan": rec.ID, "content_id": rec.ContentID}); err != nil {
		p.logger().Error("scan: recording evidence intake", "scan", rec.ID, "evidence", item.ID, "err", err)
	}
	return nil
}

// ErrNotKept is returned (wrapped) when a rule keeps content and the copy
// could not be written: nothing of the decision was carried out or recorded.
var ErrNotKept = derrors.New(derrors.Unavailable, "the content could not be kept as evidence; try again")

func (p *Pipeline) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// notify queues one delivery per notify action, in one call, so that they
// are stored together before anyone is told.
func (p *Pipeline) notify(ctx context.Context, rec Record) error {
	var ds []webhook.Delivery
	for _, a := range rec.Decision.Actions {
		if a.Kind != rules.Notify {
			continue
		}
		d, err := webhook.NewDelivery(a.Webhook, Event, EventData(rec), rec.Time)
		if err != nil {
			return fmt.Errorf("scan %s: %w", rec.ID, err)
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		return nil
	}
	if err := p.Outbox.EnqueueDeliveries(ctx, ds...); err != nil {
		return fmt.Errorf("scan %s: queueing webhooks: %w", rec.ID, err)
	}
	if p.Wake != nil {
		p.Wake()
	}
	return nil
}

// Answer is the part of a decision the platform sees, in the scan answer and
// in the scan.decision webhook: never the listed hash values or where an
// entry came from, since hash lists are confidential.
type Answer struct {
	ID         string `json:"scan_id"`
	ContentID  string `json:"content_id,omitempty"`
	AccountID  string `json:"account_id,omitempty"`
	Surface    string `json:"surface,omitempty"`
	Visibility string `json:"visibility,omitempty"`
	Blocked    bool   `json:"blocked"`
	// Restricted: hide the content pending review (a restrict action,
	// and no block).
	Restricted bool         `json:"restricted"`
	Matches    []MatchInfo  `json:"matches"`
	Actions    []ActionInfo `json:"actions"`
	// Skipped: actions a rule asked for that were not taken, with why
	// (an enqueue or report action on a lookup with no target).
	Skipped   []SkippedInfo `json:"skipped,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
}

// SkippedInfo is an action not taken, as the platform sees it.
type SkippedInfo struct {
	ActionInfo
	Reason string `json:"reason"`
}

// MatchInfo is a match as the platform sees it.
type MatchInfo struct {
	Bank     string      `json:"bank"`
	EntryID  int64       `json:"entry_id"`
	Signal   bank.Signal `json:"signal"`
	Distance int         `json:"distance"`
	// For a vPDQ match: how much of the video matched the entry's.
	QueryPercent    float64 `json:"query_match_percent,omitempty"`
	ComparedPercent float64 `json:"compared_match_percent,omitempty"`
}

// ActionInfo is an action as the platform sees it.
type ActionInfo struct {
	Kind     rules.ActionKind `json:"kind"`
	Priority int              `json:"priority,omitempty"`
	Webhook  string           `json:"webhook,omitempty"`
	Rule     rules.RuleRef    `json:"rule"`
}

// EventData is what the platform may know of a decision.
func EventData(rec Record) Answer {
	a := Answer{
		ID: rec.ID, ContentID: rec.ContentID, AccountID: rec.AccountID,
		Surface: rec.Surface, Visibility: rec.Visibility,
		Blocked: rec.Decision.Has(rules.Block), CreatedAt: rec.Time,
		Restricted: rec.Decision.Has(rules.Restrict) && !rec.Decision.Has(rules.Block),
		Matches:    make([]MatchInfo, 0, len(rec.Matches)),
		Actions:    make([]ActionInfo, 0, len(rec.Decision.Actions)),
	}
	for _, m := range rec.Matches {
		a.Matches = append(a.Matches, MatchInfo{Bank: m.Bank, EntryID: m.EntryID, Signal: m.Signal, Distance: m.Distance,
			QueryPercent: m.QueryPercent, ComparedPercent: m.ComparedPercent})
	}
	info := func(d rules.Decided) ActionInfo {
		return ActionInfo{Kind: d.Kind, Priority: d.Priority, Webhook: d.Webhook, Rule: d.Rule}
	}
	for _, d := range rec.Decision.Actions {
		a.Actions = append(a.Actions, info(d))
	}
	for _, d := range rec.Decision.Skipped {
		a.Skipped = append(a.Skipped, SkippedInfo{ActionInfo: info(d.Decided), Reason: d.Reason})
	}
	return a
}

// auditDetail says what was decided and why, never the content or the
// listed hash values: entry ids point at the bank for anyone allowed to
// look.
func auditDetail(rec Record) any {
	type act struct {
		Kind     rules.ActionKind `json:"kind"`
		Priority int              `json:"priority,omitempty"`
		Webhook  string           `json:"webhook,omitempty"`
		Rule     int64            `json:"rule"`
		Version  int              `json:"version"`
		Bank     string           `json:"bank"`
		Entry    int64            `json:"entry"`
		Distance int              `json:"distance"`
	}
	d := struct {
		Scan          string          `json:"scan"`
		Key           string          `json:"key,omitempty"`
		Account       string          `json:"account,omitempty"`
		Fired         []rules.RuleRef `json:"fired"`
		Actions       []act           `json:"actions"`
		Evidence      string          `json:"evidence,omitempty"`
		EvidenceError string          `json:"evidence_error,omitempty"`
	}{Scan: rec.ID, Key: rec.Actor, Account: rec.AccountID, Fired: rec.Decision.Fired,
		Evidence: rec.Evidence, EvidenceError: rec.EvidenceError}
	for _, a := range rec.Decision.Actions {
		d.Actions = append(d.Actions, act{a.Kind, a.Priority, a.Webhook, a.Rule.ID, a.Rule.Version, a.Match.Bank, a.Match.EntryID, a.Match.Distance})
	}
	return d
}

// NewID returns a fresh scan id: "scn_" and 16 random bytes in hex.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return "scn_" + hex.EncodeToString(b[:])
}
