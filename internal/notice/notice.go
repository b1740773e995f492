// Package notice is the register of notices an organisation that finds
// material on other services (an NGO, a hotline) sends to the hosts of
// that material, and the chasing of each notice until the material is
// gone: the URL is re-checked on a schedule through a safe fetcher, the
// notice is sent again every 24 hours while the material is still up (the
// practice of Project Arachnid), and escalated to a regulator or authority
// after a set time. Every check and every sending is kept as an Event, the
// evidence behind the per-host figures (Figures: notices sent, removed,
// median time to removal, still up).
//
// A Chaser does the work of one notice at a time (Step) over a Fetcher
// and Senders; the store keeps notices and their events (Store, with
// noticetest.Memory and the suite noticetest.Run); usecase.Notices
// writes each step with its audit entries in one transaction.
package notice

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/limits"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// Errors the store and the Chaser wrap.
var (
	ErrNotFound = derrors.New(derrors.NotFound, "not found")
	// ErrConflict: the notice changed since it was read.
	ErrConflict = derrors.New(derrors.Conflict, "changed since it was read")
	ErrState    = derrors.New(derrors.WrongState, "not allowed in this state").WithCode("wrong_state")
)

// State is where a notice stands.
type State string

const (
	Open      State = "open"      // the material was up when last checked: chased
	Removed   State = "removed"   // a check found it gone
	Withdrawn State = "withdrawn" // its sender stopped chasing it
)

// Notice is one notice about material at one URL.
type Notice struct {
	ID      int64 `json:"id"`
	Version int   `json:"version"` // Store.SaveNotice refuses a stale one
	State   State `json:"state"`

	URL string `json:"url"`
	// Host is the host or platform the notice goes to: the URL's host
	// name unless the sender names the platform ("example-images").
	Host string `json:"host"`
	// Contact is the host's abuse contact, an e-mail address. A host
	// with a web API configured (Senders.APIs) gets the notice there
	// instead.
	Contact    string          `json:"contact,omitempty"`
	Category   review.Category `json:"category"`
	LegalBasis string          `json:"legal_basis"` // the law or terms the notice relies on
	Note       string          `json:"note,omitempty"`

	// Evidence is the id of the material as found, kept encrypted in the
	// evidence store; MD5 and PDQ are its hashes, what a check looks for
	// at the URL. Without evidence, the first check's body is the
	// baseline: its MD5 is kept.
	Evidence string    `json:"evidence,omitempty"`
	MD5      string    `json:"md5,omitempty"`
	PDQ      *pdq.Hash `json:"pdq,omitempty"`

	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`

	Sends       int       `json:"sends"` // notices delivered to the host
	FirstSentAt time.Time `json:"first_sent_at,omitzero"`
	LastSentAt  time.Time `json:"last_sent_at,omitzero"`
	Checks      int       `json:"checks"`
	LastCheck   *Check    `json:"last_check,omitempty"`
	EscalatedAt time.Time `json:"escalated_at,omitzero"`
	RemovedAt   time.Time `json:"removed_at,omitzero"` // the check that found it gone
	// NextAt is when the Chaser takes the notice next.
	NextAt time.Time `json:"next_at"`
}

// Bounds on a notice's fields.
const (
	MaxLegalBasis = 1 << 10
	MaxNote       = limits.Description
)

// Validate checks a notice as its sender makes it, naming each problem's
// field, and fills Host from the URL when it is empty.
func (n *Notice) Validate() error {
	var errs []string
	add := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	add(limits.Line("url", n.URL, limits.URL))
	if u, err := url.Parse(n.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		errs = append(errs, "url must be an absolute http or https URL")
	} else if n.Host == "" {
		n.Host = strings.ToLower(u.Hostname())
	}
	add(limits.Line("host", n.Host, limits.ID))
	if n.Contact != "" {
		add(limits.Line("contact", n.Contact, limits.ID))
		if a, err := mail.ParseAddress(n.Contact); err != nil || a.Address != n.Contact {
			errs = append(errs, "contact must be a bare e-mail address (abuse@example.com)")
		}
	}
	if !n.Category.Valid() {
		errs = append(errs, fmt.Sprintf("unknown category %q", clip(string(n.Category))))
	}
	if n.LegalBasis == "" {
		errs = append(errs, "legal_basis is required")
	}
	add(limits.Prose("legal_basis", n.LegalBasis, MaxLegalBasis))
	add(limits.Prose("note", n.Note, MaxNote))
	if len(errs) > 0 {
		return derrors.Wrap(fmt.Errorf("notice: %s", strings.Join(errs, "; ")), derrors.Invalid)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Kind is what an event records.
type Kind string

const (
	Checked   Kind = "check"    // the URL was fetched
	Sent      Kind = "send"     // a notice went (or failed to go) to the host
	Escalated Kind = "escalate" // a notice went to the authority
	Gone      Kind = "removed"  // a check found the material gone
)

// Event is one thing done about a notice, kept for good: the evidence.
type Event struct {
	NoticeID int64     `json:"notice_id"`
	Seq      int       `json:"seq"` // 1, 2, ... per notice; the store assigns it
	Kind     Kind      `json:"kind"`
	At       time.Time `json:"at"`
	Check    *Check    `json:"check,omitempty"`
	// Channel ("email", "api") and To say where a notice went; Error why
	// it did not.
	Channel string `json:"channel,omitempty"`
	To      string `json:"to,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Check is what one fetch of the URL found.
type Check struct {
	At       time.Time `json:"at"`
	Status   int       `json:"status,omitempty"`    // the HTTP status; 0 when nothing answered
	FinalURL string    `json:"final_url,omitempty"` // after redirects, when it differs
	Size     int64     `json:"size,omitempty"`      // bytes of body read
	SHA256   string    `json:"sha256,omitempty"`    // of the body read
	MD5      string    `json:"md5,omitempty"`
	// Found: the material is still there (the same MD5, or a PDQ hash
	// within the Chaser's distance, Distance bits).
	Found    bool   `json:"found"`
	Distance int    `json:"pdq_distance,omitempty"`
	Gone     bool   `json:"gone"`            // 404, 410, or a 2xx without the material
	Error    string `json:"error,omitempty"` // why nothing could be fetched
}

// Store keeps notices and their events. noticetest.Run checks an
// implementation; noticetest.Memory is one in memory. Times come back in
// whole microseconds, UTC.
type Store interface {
	// CreateNotice stores n with the next ID and Version 1.
	CreateNotice(ctx context.Context, n Notice) (Notice, error)
	// Notice returns one; ErrNotFound if there is none.
	Notice(ctx context.Context, id int64) (Notice, error)
	// Notices returns every notice, by ID.
	Notices(ctx context.Context) ([]Notice, error)
	// SaveNotice stores n as Version n.Version+1 if n.Version is the
	// stored version (else ErrConflict), with events appended to the
	// notice's (their Seq assigned in order), at once.
	SaveNotice(ctx context.Context, n Notice, events []Event) (Notice, error)
	// NoticeEvents returns a notice's events by Seq.
	NoticeEvents(ctx context.Context, id int64) ([]Event, error)
	// DueNotices returns up to limit Open notices whose NextAt is at or
	// before now, earliest first (then by ID), and leases them: in the same
	// transaction their NextAt moves to now+lease, so another worker (in
	// this process or another server) skips them while one works, and a
	// worker that dies leaves them due again when the lease runs out (on
	// PostgreSQL: FOR UPDATE SKIP LOCKED). They come back as stored after
	// the lease, Version unchanged.
	DueNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Notice, error)
}
