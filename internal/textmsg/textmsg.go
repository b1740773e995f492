// Package textmsg keeps the messages and comments scored by the text signal
// (internal/textrisk), so a conversation between two accounts is scored
// over time, a case shows it as a thread, and a law-enforcement report or a
// data-request export can include the chat log around a flagged message.
//
// Storage is the Store interface, implemented by the SQLite and PostgreSQL
// stores. It keeps at most a bounded number of messages per conversation
// (the newest); a flagged conversation is preserved whole in the encrypted
// evidence store (usecase.Text), so trimming never loses what a case needs.
// Beside the messages it keeps each conversation's scoring State, so the
// score remembers what trimming dropped. Nothing is kept longer than
// needed: Pruner deletes a conversation that has been silent for the
// retention with nothing in it flagged or filed (retention.go).
package textmsg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/limits"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

// Bounds on what a client sends.
const (
	MaxText  = 8 << 10 // bytes of one message: a report's text holds it whole
	MaxBatch = 500     // messages in one batch request
	MaxAge   = 150     // a declared age above this is a mistake
	// Keep is how many messages of a conversation are kept for scoring and
	// for the thread a case shows, the newest first.
	Keep = 200
	// Window is how many kept messages, up to a flagged one, its case's
	// thread is taken from (and an open case of the conversation looked
	// for), and how many a retry of a message no longer the newest is
	// scored after. A new message is scored from its conversation's State,
	// which remembers every earlier message.
	Window = 50
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = derrors.New(derrors.Invalid, "invalid")

// Message is one message or comment as it was sent and as it was scored.
type Message struct {
	ID int64 `json:"id"` // assigned by the store; increases with time
	// ExternalID is the platform's id of the message, unique among kept
	// messages: a request repeated with it (a retry after a failure) is
	// answered from the kept message and completes its filing, and never
	// stores the message twice.
	ExternalID string `json:"external_id,omitempty"`
	// ConversationID groups the messages of one conversation (a DM thread,
	// a post's comments); empty scores the message alone and keeps nothing.
	ConversationID string           `json:"conversation_id,omitempty"`
	Author         string           `json:"author,omitempty"` // the platform's account id of the sender
	Target         string           `json:"target,omitempty"` // the account addressed, if any
	Surface        textrisk.Surface `json:"surface"`
	// ContentID is the content the text is attached to (the post under
	// which a comment sits); ChildContent says that content shows a child.
	ContentID    string `json:"content_id,omitempty"`
	ChildContent bool   `json:"child_content,omitempty"`
	TargetAge    int    `json:"target_age,omitempty"` // the target's declared age, 0 unknown
	AuthorAge    int    `json:"author_age,omitempty"` // the sender's declared age, 0 unknown
	Text         string `json:"text"`

	Score   float64           `json:"score"`
	Flagged bool              `json:"flagged"`
	Labels  []string          `json:"labels"`
	Reasons []textrisk.Reason `json:"reasons"`

	ReceivedAt time.Time `json:"received_at"`

	Filed // set by SetFiled once the message's evidence or case is written
}

// Filed is what was written for a message that fired a filing rule: its
// chat log in the evidence store and the case its report is in (or, for a
// later message of a conversation already in an open case, that case).
type Filed struct {
	Evidence string `json:"evidence,omitempty"`
	CaseID   int64  `json:"case_id,omitempty"`
}

// Validate checks the fields a client sends, each error naming its field.
func (m Message) Validate() error {
	var errs []error
	for _, f := range []struct{ name, v string }{
		{"external_id", m.ExternalID}, {"conversation_id", m.ConversationID}, {"author", m.Author}, {"target", m.Target}, {"content_id", m.ContentID},
	} {
		if err := limits.Line(f.name, f.v, limits.ID); err != nil {
			errs = append(errs, err)
		}
	}
	switch m.Surface {
	case textrisk.DM, textrisk.Comment, textrisk.Caption, textrisk.Bio:
	default:
		errs = append(errs, fmt.Errorf("%w: unknown surface %q: want dm, comment, caption or bio", ErrInvalid, clip(string(m.Surface))))
	}
	if m.TargetAge < 0 || m.TargetAge > MaxAge {
		errs = append(errs, fmt.Errorf("%w: target_age %d out of range 0..%d", ErrInvalid, m.TargetAge, MaxAge))
	}
	if m.AuthorAge < 0 || m.AuthorAge > MaxAge {
		errs = append(errs, fmt.Errorf("%w: author_age %d out of range 0..%d", ErrInvalid, m.AuthorAge, MaxAge))
	}
	if m.Text == "" {
		errs = append(errs, fmt.Errorf("%w: text is empty", ErrInvalid))
	} else if err := limits.Prose("text", m.Text, MaxText); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// Input is what the scorer reads of m.
func (m Message) Input() textrisk.Message {
	return textrisk.Message{Text: m.Text, Surface: m.Surface, OnChildContent: m.ChildContent, TargetAge: m.TargetAge, AuthorAge: m.AuthorAge}
}

// Store keeps messages. Both backends implement it.
type Store interface {
	// AddMessage stores m (its ID is assigned) and drops the oldest
	// messages of its conversation beyond the newest keep. A non-empty
	// ExternalID already kept is refused (ErrExists).
	AddMessage(ctx context.Context, m Message, keep int) (Message, error)
	// MessageByExternalID returns the kept message with that ExternalID,
	// ErrNotFound if none is kept.
	MessageByExternalID(ctx context.Context, externalID string) (Message, error)
	// SetFiled records what was written for message id (ErrNotFound if it
	// is not kept).
	SetFiled(ctx context.Context, id int64, f Filed) error
	// Conversation returns the newest limit messages of a conversation,
	// oldest first; none for an unknown conversation.
	Conversation(ctx context.Context, id string, limit int) ([]Message, error)
	// MessagesAround returns message id with up to before messages of its
	// conversation before it and up to after after it, oldest first: the
	// chat log a law-enforcement report or export includes around a
	// flagged message; ErrNotFound if id is not kept.
	MessagesAround(ctx context.Context, id int64, before, after int) ([]Message, error)
	// FlaggedConversations returns the ids of up to limit conversations
	// holding a flagged message that one of the accounts sent or was sent:
	// the conversations a law-enforcement report about them carries.
	FlaggedConversations(ctx context.Context, accounts []string, limit int) ([]string, error)
	// ConversationState returns the scoring state kept for conversation
	// id (ok false if none). In a transaction it holds the conversation
	// until the transaction ends: another transaction's call for the same
	// conversation waits, so two messages of one conversation, on one
	// server or two, are scored one after the other, each after the other's
	// state.
	ConversationState(ctx context.Context, id string) (st State, ok bool, err error)
	// SetConversationState keeps st as conversation id's state.
	SetConversationState(ctx context.Context, id string, st State) error
	// Prune deletes what retention no longer keeps (Pruner), looking at
	// the messages received in [since, before): each conversation holding
	// one, with its State, if every message it keeps was received before
	// before and none is flagged or filed (Filed: a case or an evidence
	// item); and each such message of no conversation that was not filed.
	// A conversation being scored holds up its prune until the message is
	// stored (ConversationState's hold), so it is judged with that message;
	// several servers may prune at once.
	Prune(ctx context.Context, since, before time.Time) (Pruned, error)
}

// State is what the text use case keeps of a conversation beside its
// messages, written in the transaction that stores each message: the
// scorer's accumulated evidence (textrisk.Conversation.State) after the
// message LastID, so the next message is scored with what every earlier
// one showed, including those no longer kept.
type State struct {
	LastID int64  // the newest message the state includes
	Data   []byte // textrisk's encoding, which names its scorer version
}

// ErrNotFound is returned for a message that is not kept.
var ErrNotFound = derrors.New(derrors.NotFound, "no such message")

// ByExternalID is what a store's MessageByExternalID answers from the
// messages its query found for externalID (none or one) and its error.
func ByExternalID(externalID string, ms []Message, err error) (Message, error) {
	if err != nil {
		return Message{}, fmt.Errorf("reading message %q: %w", externalID, err)
	}
	if len(ms) == 0 {
		return Message{}, fmt.Errorf("message %q: %w", externalID, ErrNotFound)
	}
	return ms[0], nil
}

// ErrExists is returned for a message whose ExternalID is already kept.
var ErrExists = derrors.New(derrors.Exists, "a message with this external_id is kept")

// ChatLog is the evidence item a flagged conversation is kept as (JSON,
// encrypted by the evidence store, content type ChatLogType): every kept
// message of the conversation up to the one that fired a rule. A
// law-enforcement report or data-request export decodes it, or reads
// Store.MessagesAround while the messages are still kept.
type ChatLog struct {
	Format         string    `json:"format"` // ChatLogFormat
	ConversationID string    `json:"conversation_id,omitempty"`
	Flagged        int64     `json:"flagged_message_id"`
	Messages       []Message `json:"messages"`
}

// The chat log's format name and content type.
const (
	ChatLogFormat = "safeguard-chat-log-v1"
	ChatLogType   = "application/vnd.safeguard.chat-log+json"
)
