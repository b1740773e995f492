package network

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/hamming"
	"github.com/safeguard-oss/safeguard/internal/limits"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// Event is one line of activity as a platform sends it: an account, a post,
// a comment or a follow. Fields that a type does not use stay empty.
type Event struct {
	Type string    `json:"type"`
	ID   string    `json:"id,omitempty"`
	At   time.Time `json:"at"`

	// account
	Bio         string `json:"bio,omitempty"`
	DeclaredAge int    `json:"declared_age,omitempty"`

	// post, comment, follow: the acting account
	Account string `json:"account,omitempty"`
	// post
	PDQ     string `json:"pdq,omitempty"`
	Caption string `json:"caption,omitempty"`
	// ContentID, on a post instead of pdq, names content the service
	// scanned earlier (POST /v1/scan's content_id): the server takes that
	// scan's PDQ hash. A post with neither has no image.
	ContentID string `json:"content_id,omitempty"`
	// comment: the post commented on
	Post string `json:"post,omitempty"`
	Text string `json:"text,omitempty"`
	// follow: the followed account
	Target string `json:"target,omitempty"`
}

// Limits on one event. A line longer than MaxLine is refused before it is
// decoded, so a hostile file cannot make the reader hold a gigabyte line.
const (
	MaxLine = 64 << 10
	MaxID   = 256
	MaxText = 8 << 10
	MaxAge  = 150
)

// ParseEvent decodes and checks one JSON event. The error says which field
// is wrong and why; nothing is half-accepted.
func ParseEvent(line []byte) (Event, error) {
	var e Event
	if len(line) > MaxLine {
		return e, fmt.Errorf("line of %d bytes is over the %d-byte limit", len(line), MaxLine)
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	if err := d.Decode(&e); err != nil {
		return Event{}, fmt.Errorf("not a JSON event: %v", err)
	}
	if d.More() {
		return Event{}, errors.New("not a JSON event: more than one value on the line")
	}
	return e, e.Check()
}

// Check reports the first thing wrong with e for its type.
func (e *Event) Check() error {
	switch e.Type {
	case "account", "post", "comment", "follow":
	case "":
		return errors.New("missing \"type\" (account, post, comment or follow)")
	default:
		return fmt.Errorf("unknown type %q: want account, post, comment or follow", clip(e.Type))
	}
	id := clip(e.ID)
	if e.At.IsZero() {
		return fmt.Errorf("%s %q: missing \"at\" (RFC 3339 time)", e.Type, id)
	}
	for _, f := range []struct{ name, v string }{{"bio", e.Bio}, {"caption", e.Caption}, {"text", e.Text}} {
		if len(f.v) > MaxText {
			return fmt.Errorf("%s %q: %s of %d bytes is over the %d-byte limit", e.Type, id, f.name, len(f.v), MaxText)
		}
		if err := limits.Prose(f.name, f.v, MaxText); err != nil {
			return fmt.Errorf("%s %q: %v", e.Type, id, err)
		}
	}
	for _, f := range []struct{ name, v string }{{"id", e.ID}, {"account", e.Account}, {"post", e.Post}, {"target", e.Target}, {"content_id", e.ContentID}} {
		if err := limits.Line(f.name, f.v, MaxID); err != nil && len(f.v) <= MaxID { // length: below, per type
			return fmt.Errorf("%s %q: %v", e.Type, id, err)
		}
	}
	if e.ContentID != "" && (e.Type != "post" || e.PDQ != "") {
		return fmt.Errorf("%s %q: content_id is for a post without pdq", e.Type, id)
	}
	need := func(name, v string) error {
		if v == "" {
			return fmt.Errorf("%s %q: missing %q", e.Type, id, name)
		}
		if len(v) > MaxID {
			return fmt.Errorf("%s: %s of %d bytes is over the %d-byte limit", e.Type, name, len(v), MaxID)
		}
		return nil
	}
	switch e.Type {
	case "account":
		if e.DeclaredAge < 0 || e.DeclaredAge > MaxAge {
			return fmt.Errorf("account %q: declared_age %d is not an age (0 to %d)", id, e.DeclaredAge, MaxAge)
		}
		return need("id", e.ID)
	case "post":
		if e.PDQ != "" {
			if _, err := pdq.ParseHex(e.PDQ); err != nil {
				return fmt.Errorf("post %q: %v", id, err)
			}
		}
		return first(need("id", e.ID), need("account", e.Account))
	case "comment":
		return first(need("id", e.ID), need("account", e.Account), need("post", e.Post))
	case "follow":
		if e.Account == e.Target && e.Account != "" {
			return fmt.Errorf("follow: account %q follows itself", clip(e.Account))
		}
		return first(need("account", e.Account), need("target", e.Target))
	}
	return nil
}

// first returns the first error that is not nil.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// code returns the post's PDQ hash as an index code; ok is false when the
// post has none. Check has already validated the hex.
func (e *Event) code() (c hamming.Code, ok bool) {
	if e.PDQ == "" {
		return c, false
	}
	h, err := pdq.ParseHex(e.PDQ)
	if err != nil {
		return c, false
	}
	return hamming.Code(h.Words()), true
}

// clip keeps error messages short when the input is long garbage.
func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
