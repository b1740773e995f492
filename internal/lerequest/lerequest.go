// Package lerequest is the register of data requests from authorities
// (issue 6, item 4): a police force or court asks what the service holds
// about some accounts over a period, under a legal basis, by a deadline —
// sometimes as an emergency, when a child may be in danger now.
//
// A Request names the agency, the legal basis, the accounts, the period and
// the deadline, and links the review cases it concerns. It is open until
// the liaison officer closes it as fulfilled or refused. Open requests are
// worked in the order Compare gives: emergencies first, then by deadline,
// like the review queues' clocks; a request still open after its deadline
// is overdue. Package export gathers the records a request asks for into a
// package whose manifest lists the SHA-256 of every member.
//
// The Store keeps requests; lerequesttest has an in-memory one and the
// suite every implementation passes. Permissions (only le_liaison) and the
// audit log are the API's.
package lerequest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/limits"
)

// Sentinel errors; stores and the Register wrap them, and the API maps
// ErrInvalid to 422, ErrNotFound to 404 and ErrState to 409.
var (
	ErrNotFound = derrors.New(derrors.NotFound, "not found")
	ErrInvalid  = derrors.New(derrors.Invalid, "invalid request").WithCode("invalid_le_request")
	ErrState    = derrors.New(derrors.WrongState, "not allowed in this state")
)

// State is where a request stands.
type State string

const (
	Open      State = "open"      // being worked on
	Fulfilled State = "fulfilled" // the records were handed over
	Refused   State = "refused"   // declined, with a reason (no valid legal basis, no such account, …)
)

// States lists every state.
var States = []State{Open, Fulfilled, Refused}

// Limits of a request, so one request cannot ask for the whole service or
// fill the store with text, and its audit entry (which names every account
// and case) always fits the log's 64 KiB: 100 x 256 + 500 x 20 + 3 x 4096
// bytes and the JSON around them stay under 50 KiB. More accounts are
// more requests.
const (
	MaxAccounts = 100
	MaxCases    = 500
	maxText     = 4096 // agency, legal basis, reference, reason
	maxID       = 256  // an account id, as review.Report allows
)

// Request is one data request from an authority.
type Request struct {
	ID         int64  `json:"id"`
	Agency     string `json:"agency"`              // who asks: "Metropolitan Police, OCU"
	Reference  string `json:"reference,omitempty"` // the agency's own reference
	LegalBasis string `json:"legal_basis"`         // the warrant, order or statute it relies on
	// Accounts are the platform's account ids the request is about.
	Accounts []string `json:"accounts"`
	// Cases are review cases linked to the request; their reports go in
	// the export whatever account they name.
	Cases []int64 `json:"cases,omitempty"`
	// From and To bound the period asked for (To exclusive); records
	// outside it are not exported.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Deadline is when the agency must have the answer.
	Deadline  time.Time `json:"deadline"`
	Emergency bool      `json:"emergency,omitempty"` // imminent danger: worked before everything else

	State     State     `json:"state"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"` // the API key id
	// Closed, ClosedBy and Reason are set when the request leaves Open.
	Closed   time.Time `json:"closed,omitzero"`
	ClosedBy string    `json:"closed_by,omitempty"`
	Reason   string    `json:"reason,omitempty"`

	// Exports, oldest first: every package made for the request.
	Exports []Export `json:"exports,omitempty"`
}

// Export is one package made for a request.
type Export struct {
	At      time.Time `json:"at"`
	By      string    `json:"by"`     // the API key id
	SHA256  string    `json:"sha256"` // of the package's manifest.json, in hex
	Scans   int       `json:"scans"`
	Cases   int       `json:"cases"`
	Reports int       `json:"reports"`
}

// Validate checks the fields a client sets, and reports every problem at
// once, wrapped in ErrInvalid.
func (r *Request) Validate() error {
	var problems []string
	text := func(name, v string, required bool) {
		switch {
		case required && strings.TrimSpace(v) == "":
			problems = append(problems, name+" is required")
		case limits.Prose(name, v, maxText) != nil:
			problems = append(problems, limits.Prose(name, v, maxText).Error())
		}
	}
	text("agency", r.Agency, true)
	text("legal_basis", r.LegalBasis, true)
	text("reference", r.Reference, false)
	switch {
	case len(r.Accounts) == 0:
		problems = append(problems, "accounts: at least one account is required")
	case len(r.Accounts) > MaxAccounts:
		problems = append(problems, fmt.Sprintf("accounts: %d, more than %d", len(r.Accounts), MaxAccounts))
	}
	seen := map[string]bool{}
	for i, a := range r.Accounts {
		switch {
		case a == "" || strings.TrimSpace(a) != a:
			problems = append(problems, fmt.Sprintf("accounts[%d] %q is empty or has surrounding space", i, a))
		case limits.Line("", a, maxID) != nil:
			problems = append(problems, fmt.Sprintf("accounts[%d]%v", i, limits.Line("", a, maxID)))
		case seen[a]:
			problems = append(problems, fmt.Sprintf("accounts[%d] %q is listed twice", i, a))
		}
		seen[a] = true
	}
	if len(r.Cases) > MaxCases {
		problems = append(problems, fmt.Sprintf("cases: %d, more than %d", len(r.Cases), MaxCases))
	}
	for i, c := range r.Cases {
		if c <= 0 {
			problems = append(problems, fmt.Sprintf("cases[%d] %d is not a case id", i, c))
		}
	}
	switch {
	case r.From.IsZero() || r.To.IsZero():
		problems = append(problems, "from and to (the period asked for) are required")
	case !r.From.Before(r.To):
		problems = append(problems, fmt.Sprintf("from %s is not before to %s", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339)))
	}
	if r.Deadline.IsZero() {
		problems = append(problems, "deadline is required")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// Overdue reports whether the request is open after its deadline.
func (r *Request) Overdue(now time.Time) bool {
	return r.State == Open && now.After(r.Deadline)
}

// close moves an open request to state, for Register.Close.
func (r *Request) close(state State, by, reason string, at time.Time) error {
	if state != Fulfilled && state != Refused {
		return fmt.Errorf("%w: a request closes as %s or %s, not %q", ErrInvalid, Fulfilled, Refused, state)
	}
	if state == Refused && strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: refusing a request needs a reason", ErrInvalid)
	}
	if len(reason) > maxText {
		return fmt.Errorf("%w: reason is %d bytes, more than %d", ErrInvalid, len(reason), maxText)
	}
	if r.State != Open {
		return fmt.Errorf("request %d is %s: %w", r.ID, r.State, ErrState)
	}
	r.State, r.ClosedBy, r.Reason, r.Closed = state, by, reason, at
	return nil
}

// Compare orders requests as they are worked: open before closed; among
// open ones emergencies first, then the nearest deadline; then by ID.
// Closed requests follow, most recently closed first.
func Compare(a, b Request) int {
	if ao, bo := a.State == Open, b.State == Open; ao != bo {
		if ao {
			return -1
		}
		return 1
	}
	if a.State == Open {
		if a.Emergency != b.Emergency {
			if a.Emergency {
				return -1
			}
			return 1
		}
		if c := a.Deadline.Compare(b.Deadline); c != 0 {
			return c
		}
	} else if c := b.Closed.Compare(a.Closed); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Sort sorts rs in the order of Compare.
func Sort(rs []Request) { slices.SortStableFunc(rs, Compare) }

// Store keeps requests. Requests come back as they went in, with times as whole
// microseconds in UTC.
type Store interface {
	// CreateLERequest stores a new request and returns it with its ID,
	// the next one.
	CreateLERequest(ctx context.Context, r Request) (Request, error)
	// LERequest returns a request, or an error wrapping ErrNotFound.
	LERequest(ctx context.Context, id int64) (Request, error)
	// UpdateLERequest reads a request, lets update change it and stores
	// the result, in one transaction: updates of one request apply one
	// after the other. An error from update is returned as it is and
	// nothing is stored. ErrNotFound if there is no such request.
	UpdateLERequest(ctx context.Context, id int64, update func(*Request) error) (Request, error)
	// LERequests returns the requests in state, or all of them if state
	// is empty, by ID.
	LERequests(ctx context.Context, state State) ([]Request, error)
}

// Register is the register of requests: it stamps who and when, and checks
// each change. Now is its clock (time.Now if nil).
type Register struct {
	Store Store
	Now   func() time.Time
}

func (g *Register) now() time.Time {
	if g.Now != nil {
		return g.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// Create validates r and enters it as open, entered by the key by.
func (g *Register) Create(ctx context.Context, r Request, by string) (Request, error) {
	if err := r.Validate(); err != nil {
		return Request{}, err
	}
	r.ID, r.State, r.Created, r.CreatedBy = 0, Open, g.now(), by
	r.Closed, r.ClosedBy, r.Reason, r.Exports = time.Time{}, "", "", nil
	us := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
	r.From, r.To, r.Deadline = us(r.From), us(r.To), us(r.Deadline)
	return g.Store.CreateLERequest(ctx, r)
}

// List returns the requests in state (all if empty) in the order of
// Compare.
func (g *Register) List(ctx context.Context, state State) ([]Request, error) {
	if state != "" && !slices.Contains(States, state) {
		return nil, fmt.Errorf("%w: no state %q", ErrInvalid, state)
	}
	rs, err := g.Store.LERequests(ctx, state)
	if err != nil {
		return nil, err
	}
	Sort(rs)
	return rs, nil
}

// Close closes an open request as Fulfilled or Refused (which needs a
// reason). ErrState if it is not open.
func (g *Register) Close(ctx context.Context, id int64, state State, by, reason string) (Request, error) {
	at := g.now()
	return g.Store.UpdateLERequest(ctx, id, func(r *Request) error { return r.close(state, by, reason, at) })
}

// Exported adds e, a package just made for the request, to its Exports
// (stamped now if e.At is zero), whatever the request's state: a
// fulfilled request may be exported again.
func (g *Register) Exported(ctx context.Context, id int64, e Export) (Request, error) {
	if e.At.IsZero() {
		e.At = g.now()
	}
	return g.Store.UpdateLERequest(ctx, id, func(r *Request) error {
		r.Exports = append(r.Exports, e)
		return nil
	})
}
