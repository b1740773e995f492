package network

import (
	"context"
	"fmt"
)

// Store keeps the events a live service accepted (POST /v1/events), so
// that its Activity is rebuilt as it was after a restart and on every
// node. Implemented by the stores of internal/store.
type Store interface {
	// AddEvents stores the events whose Key is new, in order, and returns
	// how many it stored; a repeated key is ignored (the first wins), so a
	// platform may resend a batch.
	AddEvents(ctx context.Context, es []Event) (int, error)
	// Events calls fn with every stored event in the order stored; an
	// error from fn stops it and is returned.
	Events(ctx context.Context, fn func(Event) error) error
	// ScannedPDQ returns the PDQ hash (hex) of the latest scan of content
	// id that gave a usable one, or "" when there is none.
	ScannedPDQ(ctx context.Context, contentID string) (string, error)
}

// Key is what makes an event a repeat: its type and id, or for a follow
// (which has no id) the pair of accounts, length-prefixed so that no two
// pairs share a key.
func (e *Event) Key() string {
	if e.Type == "follow" {
		return fmt.Sprintf("follow:%d:%s:%s", len(e.Account), e.Account, e.Target)
	}
	return e.Type + ":" + e.ID
}
