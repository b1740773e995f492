package exchange

import (
	"context"
	"time"
)

// Feedback is a reviewer's verdict on a match of an exchange's entry, to be
// sent upstream (NCMEC's entry feedback, StopNCII's SubmitFeedback): users
// of the lists ask for it, and upstream uses it to correct them.
type Feedback struct {
	ID       int64
	Exchange string // the exchange whose entry matched
	RecordID string // the upstream record (the entry's ExternalID)
	Kind     Kind   // the fingerprint that matched
	Value    string
	// Confirmed: the reviewer confirmed the match (NCMEC affirmative,
	// StopNCII Blocked); otherwise they rejected it.
	Confirmed bool
	CaseID    int64
	QueuedAt  time.Time
	// Attempts and LastError say how sending went so far; NextAt is when
	// the next attempt is due.
	Attempts  int
	LastError string
	NextAt    time.Time
}

// FeedbackSender is a Fetcher whose upstream takes feedback.
type FeedbackSender interface {
	SendFeedback(ctx context.Context, fb Feedback) error
}

// FeedbackKinds are the exchange kinds that take feedback, as their
// entries' AddedBy names them.
var FeedbackKinds = []string{"exchange:ncmec", "exchange:stopncii"}

// FeedbackStore keeps the feedback waiting to be sent. Entries are kept
// once settled, as the record of what was sent.
type FeedbackStore interface {
	// QueueFeedback queues feedback, due at once; the same verdict of a
	// case on the same fingerprint is queued once.
	QueueFeedback(ctx context.Context, fbs []Feedback) error
	// DueFeedback returns up to limit unsettled feedback due by now,
	// oldest first.
	DueFeedback(ctx context.Context, now time.Time, limit int) ([]Feedback, error)
	// SettleFeedback records an attempt: sent (done), failed for good
	// (done, with the error), or failed to be tried again at next.
	SettleFeedback(ctx context.Context, id int64, attempts int, lastErr string, done bool, next time.Time) error
}
