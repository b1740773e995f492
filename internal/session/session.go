// Package session keeps the review console's sign-ins in the store, so that
// every server sharing the database knows them and a load balancer needs no
// sticky sessions.
//
// A session is found by the SHA-256 of its cookie's token, and the API
// secret it calls the API with is sealed (AES-256-GCM) under a key derived
// from that token (HKDF-SHA-256): the database never holds the cookie, and
// a read of the database alone gives neither a cookie that signs in nor an
// API key. The CSRF token is derived from the cookie's token too, so it is
// not stored at all.
package session

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
)

// ID is what a session is stored under: the SHA-256 of its token.
type ID [sha256.Size]byte

func (id ID) String() string { return hex.EncodeToString(id[:8]) }

// Session is a signed-in person as stored.
type Session struct {
	ID     ID
	KeyID  string // whose key: for the log, and to end a revoked key's sessions
	Sealed []byte // the API secret, sealed by Seal
	Start  time.Time
	Seen   time.Time // last use, for the idle limit
	// BreakAt is when the reminder to take a break shows.
	BreakAt time.Time
}

// ErrNotFound: no session has that id (never made, signed out, or swept).
var ErrNotFound = derrors.New(derrors.NotFound, "no such session")

// Store keeps sessions. SQLite and PostgreSQL implement it; Memory is the
// store of one process.
type Store interface {
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session id names, or an error wrapping ErrNotFound.
	Session(ctx context.Context, id ID) (Session, error)
	// TouchSession sets when the session was last used.
	TouchSession(ctx context.Context, id ID, seen time.Time) error
	// PutOffBreak sets when the break reminder next shows.
	PutOffBreak(ctx context.Context, id ID, at time.Time) error
	// DeleteSession ends a session, with what it offered; ending one that
	// is gone is not an error.
	DeleteSession(ctx context.Context, id ID) error
	// SweepSessions deletes the sessions last seen before idleBefore or
	// started before startedBefore, and returns how many.
	SweepSessions(ctx context.Context, idleBefore, startedBefore time.Time) (int64, error)
	// OfferContent records the evidence items a case page showed in the
	// session: content is served only for those (replacing what an
	// earlier view of that case offered).
	OfferContent(ctx context.Context, id ID, caseID int64, items []string) error
	// OfferedContent returns what the last view of caseID offered; none
	// when it was never opened in the session.
	OfferedContent(ctx context.Context, id ID, caseID int64) ([]string, error)
}

// NewToken returns a new random cookie token (64 hex digits).
func NewToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand's contract)
	return hex.EncodeToString(b[:])
}

// IDOf is the id token's session is stored under.
func IDOf(token string) ID { return sha256.Sum256([]byte(token)) }

// derive is the key of one purpose made from the token. The token is 256
// random bits, so HKDF needs no salt to make independent keys of it.
func derive(token, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, []byte(token), nil, "safeguard console session: "+purpose, 32)
	if err != nil {
		panic(err) // only for lengths past 255 hashes
	}
	return k
}

func aead(token string) cipher.AEAD {
	b, _ := aes.NewCipher(derive(token, "api secret")) // a 32-byte key is always valid
	g, _ := cipher.NewGCM(b)
	return g
}

// Seal seals the API secret under the token, bound to the session's id.
func Seal(token, secret string) []byte {
	g := aead(token)
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	id := IDOf(token)
	return g.Seal(nonce, nonce, []byte(secret), id[:])
}

// Open returns the API secret s holds, which only the token opens.
func Open(token string, s Session) (string, error) {
	g := aead(token)
	if len(s.Sealed) < g.NonceSize() {
		return "", fmt.Errorf("session %s: sealed secret is %d bytes, too short", s.ID, len(s.Sealed))
	}
	n := g.NonceSize()
	secret, err := g.Open(nil, s.Sealed[:n], s.Sealed[n:], s.ID[:])
	if err != nil {
		return "", fmt.Errorf("session %s: opening its secret: %w", s.ID, err)
	}
	return string(secret), nil
}

// CSRF is the session's CSRF token: derived, so that no server needs to
// store it, and unlike the cookie, shown in pages.
func CSRF(token string) string { return hex.EncodeToString(derive(token, "csrf")) }
