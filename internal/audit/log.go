package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// System is the actor of entries no API key caused: startup, the rules
// engine acting on a scan the platform sent, periodic anchors.
const System = "system"

// Actions the service records. Subjects name what was acted on (a content
// id, a bank or rule name, a key id, an evidence item id).
const (
	ScanDecision   = "scan.decision"   // a rule decided actions for scanned content
	BankCreate     = "bank.create"     //
	BankDelete     = "bank.delete"     //
	BankEntries    = "bank.entries"    // entries added, removed or imported
	BankExport     = "bank.export"     // a hash list left the service
	BankFeed       = "bank.feed"       // a partner read a published bank's feed from its start
	RuleCreate     = "rule.create"     //
	RuleUpdate     = "rule.update"     // includes disabling
	KeyCreate      = "key.create"      //
	KeyRevoke      = "key.revoke"      //
	KeyLimit       = "key.limit"       // a key's rate limit changed; detail: rate_limit and was
	WebhookUpdate  = "webhook.update"  // created, changed, deleted, dead letters replayed
	ReviewDecision = "review.decision" //
	EvidencePut    = "evidence.put"    // content preserved; detail holds its SHA-256
	EvidenceRead   = "evidence.read"   // chain of custody: every read of preserved content
	EvidenceRewrap = "evidence.rewrap" // an item's data key rewrapped under another master key
	TextDecision   = "text.decision"   // a text rule decided actions for a message (usecase.Text)
)

// MaxDetail bounds an entry's Detail: the log records decisions, not content.
const MaxDetail = 64 << 10

// Log appends entries to a Store. It is safe for concurrent use as far as
// its Store is, which AppendAudit's contract requires.
type Log struct {
	store Store
	now   func() time.Time
}

// NewLog returns a log that keeps its entries in s.
func NewLog(s Store) *Log { return &Log{store: s, now: time.Now} }

// In returns the log writing to s instead (with the same clock): a store's
// transaction view, so that an entry commits with the change it records.
func (l *Log) In(s Store) *Log { return &Log{store: s, now: l.now} }

// SetClock makes the log read the time from now; for tests.
func (l *Log) SetClock(now func() time.Time) { l.now = now }

// Record appends an entry: actor did action to subject. Detail, if not nil,
// is marshalled to JSON; it must be an object or other value that says what
// was decided and why, never the content itself.
func (l *Log) Record(ctx context.Context, actor, action, subject string, detail any) (Entry, error) {
	if actor == "" || action == "" {
		return Entry{}, fmt.Errorf("audit: record %q by %q: actor and action are required", action, actor)
	}
	raw, err := canonicalDetail(detail)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: record %s %q: %w", action, subject, err)
	}
	return l.store.AppendAudit(ctx, func(last *Entry) (Entry, error) {
		return Next(last, l.now(), actor, action, subject, raw), nil
	})
}

// canonicalDetail marshals detail to compact JSON. Marshalling again yields
// the same bytes (encoding/json compacts and escapes json.RawMessage too), so
// an entry exported as JSON and read back still hashes the same.
func canonicalDetail(detail any) (json.RawMessage, error) {
	if detail == nil {
		return nil, nil
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		return nil, fmt.Errorf("detail: %w", err)
	}
	if string(raw) == "null" {
		return nil, nil
	}
	if len(raw) > MaxDetail {
		return nil, fmt.Errorf("detail is %d bytes, more than the %d allowed", len(raw), MaxDetail)
	}
	return raw, nil
}

// Head returns the anchor of the log's last entry, or false when the log is
// empty.
func (l *Log) Head(ctx context.Context) (Anchor, bool, error) {
	e, err := l.store.LastAudit(ctx)
	if err != nil || e == nil {
		return Anchor{}, false, err
	}
	return Anchor{Seq: e.Seq, Hash: e.Hash}, true, nil
}

// AnchorEvery calls publish with the log's head every interval while it has
// moved on since the last call, until ctx is done. Publishing anchors
// somewhere the operator does not control (a transparency report, a
// timestamping service, an email to the auditor) is what stops an operator
// from rewriting the whole log and re-hashing it: an anchor fixes every entry
// up to it. Errors reading the head go to onErr, which may be nil.
func (l *Log) AnchorEvery(ctx context.Context, interval time.Duration, publish func(Anchor), onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last Anchor
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a, ok, err := l.Head(ctx)
		switch {
		case err != nil:
			if onErr != nil && ctx.Err() == nil {
				onErr(err)
			}
		case ok && a != last:
			publish(a)
			last = a
		}
	}
}

// Anchor is a published head of the log: entry Seq had hash Hash. Its text
// form, "sgaudit:SEQ:HASH", is short enough to print, post or email.
type Anchor struct {
	Seq  int64
	Hash Sum
}

const anchorPrefix = "sgaudit:"

func (a Anchor) String() string {
	return anchorPrefix + strconv.FormatInt(a.Seq, 10) + ":" + a.Hash.String()
}

// errAnchor is wrapped by every ParseAnchor failure.
var errAnchor = errors.New(`want "sgaudit:SEQ:HASH"`)

// ParseAnchor reads an anchor in the form Anchor.String writes.
func ParseAnchor(s string) (Anchor, error) {
	rest, ok := strings.CutPrefix(s, anchorPrefix)
	seqText, hashText, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return Anchor{}, fmt.Errorf("audit: anchor %q: %w", clip(s), errAnchor)
	}
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil || seq < 1 || seqText[0] == '+' {
		return Anchor{}, fmt.Errorf("audit: anchor %q: sequence number %q is not a positive integer: %w", clip(s), clip(seqText), errAnchor)
	}
	h, err := ParseSum(hashText)
	if err != nil {
		return Anchor{}, fmt.Errorf("audit: anchor %q: %w", clip(s), err)
	}
	return Anchor{Seq: seq, Hash: h}, nil
}

// MarshalText implements encoding.TextMarshaler.
func (a Anchor) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Anchor) UnmarshalText(text []byte) error {
	v, err := ParseAnchor(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
