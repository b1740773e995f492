package review

import (
	"context"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"

	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// Sentinel errors. Implementations of Store wrap ErrNotFound and
// ErrConflict; the Desk wraps all of them, and the API maps each to one
// HTTP status (ErrInvalid 400, ErrNotFound 404, ErrConflict and ErrState
// 409, ErrSecondReviewer 403).
var (
	ErrNotFound = derrors.New(derrors.NotFound, "not found")
	// ErrConflict: the case changed since it was read (another reviewer
	// decided it first); read it again.
	ErrConflict = derrors.New(derrors.Conflict, "changed since it was read")
	// ErrState: the case is not in a state that allows the request
	// (deciding a decided case, appealing a dismissal).
	ErrState = derrors.New(derrors.WrongState, "not allowed in this state").WithCode("wrong_state")
	// ErrSecondReviewer: the decision needs a different reviewer (the
	// second dismissal of a trusted flagger's report, or an appeal).
	ErrSecondReviewer = derrors.New(derrors.Conflict, "needs a different reviewer").WithCode("second_reviewer")
)

// Store keeps reports and cases. reviewtest.Run checks an implementation;
// reviewtest.Memory is one in memory. Cases and reports come back as they
// went in, with times as whole microseconds in UTC.
type Store interface {
	// FileReport stores a new report and the case it joins, at once:
	// nothing accepted is lost between the two. r gets the next report
	// ID and r.CaseID the case's ID. If c.ID is 0 the case is new: it
	// gets the next case ID and Version 1; otherwise c.Version must be
	// the stored version (else ErrConflict, and nothing is stored) and
	// the case is stored as c.Version+1. Both are returned as stored.
	FileReport(ctx context.Context, r Report, c Case) (Report, Case, error)
	// SaveCase stores c as version c.Version+1 together with rs, reports
	// of the case whose status changed, at once. ErrConflict if c.Version
	// is not the stored version; ErrNotFound if there is no case c.ID.
	SaveCase(ctx context.Context, c Case, rs []Report) (Case, error)

	Case(ctx context.Context, id int64) (Case, error)
	Report(ctx context.Context, id int64) (Report, error)
	// CaseReports returns a case's reports by ID (none for an unknown
	// case).
	CaseReports(ctx context.Context, caseID int64) ([]Report, error)
	// Related returns, by ID, every case (whatever its state) that lists
	// any of the content IDs, account IDs or digests.
	Related(ctx context.Context, contentIDs, accountIDs, digests []string) ([]Case, error)
	// OpenCases returns, by ID, every case that is not Decided.
	OpenCases(ctx context.Context) ([]Case, error)
	// CountOpenCases counts the cases not Decided per queue, those due
	// at or before now, and the earliest due time after now, without
	// reading the cases: metrics ask every few seconds on every node.
	// Queues with no open case may be left out.
	CountOpenCases(ctx context.Context, now time.Time) ([]QueueCount, error)
	// CasesSince returns, by ID, every case whose OpenedAt is at or
	// after since, whatever its state (an appealed case's OpenedAt is its
	// appeal's time).
	CasesSince(ctx context.Context, since time.Time) ([]Case, error)
	// Reports returns, by ID, the reports received at or after since.
	Reports(ctx context.Context, since time.Time) ([]Report, error)
	// ReporterReports returns, by ID, the reports of one reporter from
	// one source (a trusted flagger's key id, or a platform user's id), for
	// the reporter's own view of them (Desk.Flagger).
	ReporterReports(ctx context.Context, source Source, reporter string) ([]Report, error)
	// Reporter counts a reporter's reports whose status is Actioned
	// (Confirmed) or NoAction (Dismissed).
	Reporter(ctx context.Context, reporter string) (Accuracy, error)
}

// IntakeLocker is a Store that several processes share (PostgreSQL): the
// Desk's own lock orders one process's filings, and LockIntake orders
// every process's. It takes a lock that lasts until the transaction the
// store is in ends, so two servers given the same new content at once do
// not both see no case and open two: the second waits for the first's
// case to commit, then finds and joins it.
type IntakeLocker interface {
	LockIntake(ctx context.Context) error
}

// Index finds cases about near-duplicates. A store can answer by a scan
// or SQL; a server with many cases keeps a Hamming index in step.
type Index interface {
	// NearCases returns the cases, whatever their state, that list a PDQ
	// hash within d bits of h, each with the nearest distance, by ID.
	NearCases(ctx context.Context, h pdq.Hash, d int) ([]Near, error)
}

// Near is a case with a PDQ hash near another.
type Near struct {
	CaseID   int64 `json:"case_id"`
	Distance int   `json:"distance"`
}
