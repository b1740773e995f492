// Package webhook delivers events to the platform's HTTP endpoints: signed,
// retried with backoff, at least once, and never lost to a restart.
//
// A delivery is written to an Outbox before anything is sent, so a crash
// between deciding and sending loses nothing; a Dispatcher then polls the
// outbox and POSTs what is due. Receivers may see a delivery more than once
// (a crash after the POST but before it was marked delivered sends it again),
// so every delivery carries an idempotency key that stays the same across
// retries and replays. Each request is signed with HMAC-SHA256 over the
// timestamp and body (see Sign and Verify); docs/rules.md describes the
// scheme for receivers.
//
// Storage is expressed as the Outbox and Webhooks interfaces, which the
// SQLite and PostgreSQL stores implement; webhooktest holds an in-memory one
// and a conformance suite for them.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/limits"
)

// Sentinel errors that implementations of Outbox and Webhooks wrap, so the
// dispatcher and the API can tell a missing thing from a failing database.
var (
	ErrNotFound = derrors.New(derrors.NotFound, "not found")
	ErrExists   = derrors.New(derrors.Exists, "already exists")
)

// State is where a delivery is in its life.
type State string

const (
	Pending   State = "pending"   // waiting for its next attempt
	Delivered State = "delivered" // a 2xx answer was received
	Dead      State = "dead"      // gave up: a dead letter, waiting for an admin to replay it
)

// Delivery is one event on its way to one webhook. Body is sent exactly as
// stored, on every attempt, so the signature a receiver checks always covers
// the same bytes.
type Delivery struct {
	// ID is the idempotency key: the same on every attempt and replay.
	ID          string
	Webhook     string // the Endpoint's name, looked up at each attempt
	Event       string // e.g. "scan.decision"
	Body        []byte // the JSON envelope (see NewDelivery)
	CreatedAt   time.Time
	State       State
	Attempts    int       // attempts made so far
	NextAttempt time.Time // when a Pending delivery is next due
	LastError   string    // why the last attempt failed
	DoneAt      time.Time // when it was Delivered or became Dead
}

// envelope is the body of every delivery. The delivery id is inside the
// body as well as in a header so that a receiver that stores bodies can
// deduplicate from the body alone.
type envelope struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// NewDelivery makes a pending delivery of event to the named webhook, due
// now, with a fresh random id. Its body is the JSON envelope
// {"id", "event", "created_at", "data"}, where data is the JSON of data.
func NewDelivery(webhook, event string, data any, now time.Time) (Delivery, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Delivery{}, fmt.Errorf("webhook %q: event %q: encoding data: %w", webhook, event, err)
	}
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand crashes the program instead)
	now = now.UTC()
	d := Delivery{
		ID:          "dlv_" + hex.EncodeToString(b[:]),
		Webhook:     webhook,
		Event:       event,
		CreatedAt:   now,
		State:       Pending,
		NextAttempt: now,
	}
	d.Body, err = json.Marshal(envelope{ID: d.ID, Event: event, CreatedAt: now, Data: raw})
	if err != nil {
		return Delivery{}, fmt.Errorf("webhook %q: event %q: encoding envelope: %w", webhook, event, err)
	}
	return d, nil
}

// Endpoint is a receiver the platform registered: where to POST, and the
// secret both sides sign with.
type Endpoint struct {
	Name string // 1-64 characters of [a-z0-9_.-], starting with a letter or digit
	URL  string // absolute http or https URL
	// Secret is the HMAC key: the bytes of this string, exactly as shown to
	// the receiver's operator. It must be stored readable (not hashed),
	// since signing needs it.
	Secret string
	// PreviousSecret is the secret Rotate replaced, still signed with
	// (beside Secret) until PreviousUntil, so a receiver can switch to the
	// new secret at any time in the overlap without refusing a delivery.
	PreviousSecret string
	PreviousUntil  time.Time
	Enabled        bool // a disabled endpoint's deliveries become dead letters
	CreatedAt      time.Time
}

// Rotate returns e with secret as its signing secret and the one it
// replaces kept, beside it, for overlap from now: during the overlap every
// delivery carries both signatures (see SignatureHeader).
func (e Endpoint) Rotate(secret string, now time.Time, overlap time.Duration) (Endpoint, error) {
	if len(secret) < minSecretLen {
		return e, fmt.Errorf("webhook %q: new secret is %d characters, want at least %d", e.Name, len(secret), minSecretLen)
	}
	if secret == e.Secret {
		return e, fmt.Errorf("webhook %q: the new secret is the current one", e.Name)
	}
	if overlap < 0 {
		return e, fmt.Errorf("webhook %q: overlap %s is negative", e.Name, overlap)
	}
	e.PreviousSecret, e.PreviousUntil, e.Secret = e.Secret, now.Add(overlap), secret
	return e, nil
}

// secrets are the secrets a delivery sent at now is signed with: the
// current one, and the previous one while its overlap lasts.
func (e Endpoint) secrets(now time.Time) [][]byte {
	s := [][]byte{[]byte(e.Secret)}
	if e.PreviousSecret != "" && now.Before(e.PreviousUntil) {
		s = append(s, []byte(e.PreviousSecret))
	}
	return s
}

// minSecretLen keeps keys guessable by nobody; NewSecret makes 49 characters.
const minSecretLen = 16

// Validate reports what is wrong with e, naming it.
func (e Endpoint) Validate() error {
	if err := ValidName(e.Name); err != nil {
		return err
	}
	// Bounded so that the webhook's audit entry, which records the URL,
	// always fits.
	if err := limits.Line("url", e.URL, limits.URL); err != nil {
		return fmt.Errorf("webhook %q: %w", e.Name, err)
	}
	if err := limits.Line("secret", e.Secret, limits.ID); err != nil {
		return fmt.Errorf("webhook %q: %w", e.Name, err)
	}
	if _, err := parseURL(e.URL); err != nil {
		return fmt.Errorf("webhook %q: %w", e.Name, err)
	}
	switch {
	case len(e.Secret) < minSecretLen:
		return fmt.Errorf("webhook %q: secret is %d characters, want at least %d", e.Name, len(e.Secret), minSecretLen)
	}
	return nil
}

// ValidName reports whether name can name a webhook: 1-64 characters of
// [a-z0-9_.-] starting with a letter or digit, as bank names are, so names
// are safe in URLs, logs and metric labels.
func ValidName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("webhook name %q: want 1 to 64 characters", name)
	}
	for i, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return fmt.Errorf("webhook name %q: character %d (%q) is not one of a-z 0-9 _ . - (or starts the name)", name, i+1, c)
		}
	}
	return nil
}

// NewSecret returns a fresh random signing secret, "whsec_" and 32 random
// bytes in unpadded base64url.
func NewSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:])
}
