package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/derrors"
)

// Key is an API key as stored: everything but its secret, which exists only
// in the plaintext handed out once at creation and, hashed, in the store.
type Key struct {
	ID         string     `json:"id"` // 16 base32 characters, public: it appears in logs and the audit log
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`             // the creating key's id, or who ran the CLI
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`   // from then on the key is refused
	LastUsedAt *time.Time `json:"last_used_at,omitempty"` // to within TouchEvery
	// Limit is the key's own rate limit; nil: the server's default.
	Limit *RateLimit `json:"rate_limit,omitempty"`
}

// RateLimit is how many requests a key may make: Burst at once, the
// bucket refilled at PerSecond.
type RateLimit struct {
	Burst     int     `json:"burst"`
	PerSecond float64 `json:"per_second"`
}

// Bounds of a RateLimit: past the maxima a limit limits nothing a server
// can serve; the minimum (a request in 1,000 s) keeps a bucket's refill
// time, Burst/PerSecond, within what a time.Duration holds.
const (
	MaxBurst     = 1_000_000
	MaxPerSecond = 1_000_000
	MinPerSecond = 0.001
)

// Validate says what is wrong with l, if anything.
func (l RateLimit) Validate() error {
	if l.Burst < 1 || l.Burst > MaxBurst {
		return fmt.Errorf("auth: rate limit burst %d: want 1..%d requests", l.Burst, MaxBurst)
	}
	// NaN fails both comparisons, so it is refused too.
	if !(l.PerSecond >= MinPerSecond && l.PerSecond <= MaxPerSecond) {
		return fmt.Errorf("auth: rate limit of %v a second: want %g..%d", l.PerSecond, MinPerSecond, MaxPerSecond)
	}
	return nil
}

// Created is what the audit log records of k's creation (the API's and
// the CLI's alike).
func (k Key) Created() map[string]any {
	d := map[string]any{"role": k.Role, "name": k.Name}
	if k.Limit != nil {
		d["rate_limit"] = *k.Limit
	}
	return d
}

// Revoked reports whether k is refused at time t.
func (k Key) Revoked(t time.Time) bool { return k.RevokedAt != nil && !t.Before(*k.RevokedAt) }

// Hash is the SHA-256 of a key's plaintext, the only form of the secret the
// store keeps.
type Hash [32]byte

// Store keeps API keys.
type Store interface {
	// CreateKey stores k and the hash of its plaintext.
	CreateKey(ctx context.Context, k Key, h Hash) error
	// KeyByID returns the key with the id and its hash, or an error
	// wrapping ErrUnknown when there is none.
	KeyByID(ctx context.Context, id string) (Key, Hash, error)
	// ListKeys returns every key, revoked ones included.
	ListKeys(ctx context.Context) ([]Key, error)
	// RevokeKey sets the key's RevokedAt to at, or returns an error
	// wrapping ErrUnknown. A time in the future lets a key being replaced
	// keep working until then; a key already revoked keeps the earlier time.
	RevokeKey(ctx context.Context, id string, at time.Time) error
	// TouchKey sets the key's LastUsedAt to at, or returns an error
	// wrapping ErrUnknown.
	TouchKey(ctx context.Context, id string, at time.Time) error
	// SetKeyLimit sets the key's own rate limit (nil: the server's
	// default), or returns an error wrapping ErrUnknown. Revoked keys
	// may be changed too; it changes nothing they can do.
	SetKeyLimit(ctx context.Context, id string, l *RateLimit) error
}

// The errors Authenticate returns, wrapped, for a key it refuses. All three
// mean 401; they differ so logs can tell a typo from an attack from a key
// that was retired.
var (
	ErrMalformed = errors.New("malformed API key")
	ErrUnknown   = derrors.New(derrors.NotFound, "unknown API key")
	ErrRevoked   = errors.New("revoked API key")
)

// The plaintext form: "sg_", the id, "_", then the secret and a checksum:
//
//	sg_<16 id chars>_<52 secret chars><7 checksum chars>
//
// in lower-case base32 (a–z, 2–7), so a key survives a double click, a URL
// and a shell. The id (80 random bits) is how the store finds the key; the
// secret is 256 random bits; the checksum is the CRC-32 of everything before
// it, so a mistyped or truncated key is refused as malformed without a
// database lookup, and secret scanners can recognise a real key.
const (
	prefix      = "sg_"
	idBytes     = 10
	secretBytes = 32
	idLen       = 16 // base32 of idBytes
	secretLen   = 52 // base32 of secretBytes, unpadded
	checkLen    = 7  // base32 of a CRC-32, unpadded
	keyLen      = len(prefix) + idLen + 1 + secretLen + checkLen
)

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// MaxNameLen bounds a key's name.
const MaxNameLen = 100

// Generate makes a new key with the role and name: its plaintext, to hand
// to its holder once; the Key to store (CreatedBy is left to the caller); and
// the hash of the plaintext to store with it.
func Generate(role Role, name string) (plaintext string, k Key, h Hash, err error) {
	if !role.Valid() {
		return "", Key{}, Hash{}, fmt.Errorf("auth: new key %q: unknown role %q", name, role)
	}
	if err := checkName(name); err != nil {
		return "", Key{}, Hash{}, err
	}
	var raw [idBytes + secretBytes]byte
	rand.Read(raw[:]) // never fails: crypto/rand crashes the program rather than return weak bytes
	id := b32.EncodeToString(raw[:idBytes])
	body := prefix + id + "_" + b32.EncodeToString(raw[idBytes:])
	plaintext = body + checksum(body)
	k = Key{ID: id, Name: name, Role: role, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	return plaintext, k, sha256.Sum256([]byte(plaintext)), nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("auth: a key needs a name (who or what holds it)")
	case len(name) > MaxNameLen:
		return fmt.Errorf("auth: key name %.20q…: longer than %d bytes", name, MaxNameLen)
	case !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return fmt.Errorf("auth: key name %q: only printable characters are allowed", name)
	}
	return nil
}

func checksum(body string) string {
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], crc32.ChecksumIEEE([]byte(body)))
	return b32.EncodeToString(c[:])
}

// ParseID checks the form of a presented key and returns its id. It never
// puts the presented text in its error: a malformed key may still be most
// of a real secret.
func ParseID(presented string) (string, error) {
	if len(presented) != keyLen {
		return "", fmt.Errorf("auth: %d characters, want %d: %w", len(presented), keyLen, ErrMalformed)
	}
	body, check := presented[:keyLen-checkLen], presented[keyLen-checkLen:]
	id, secret, ok := strings.Cut(strings.TrimPrefix(body, prefix), "_")
	if !strings.HasPrefix(body, prefix) || !ok || len(id) != idLen || !isBase32(id) || !isBase32(secret) || !isBase32(check) {
		return "", fmt.Errorf(`auth: not of the form "sg_<id>_<secret>": %w`, ErrMalformed)
	}
	if checksum(body) != check {
		return "", fmt.Errorf("auth: key %s: checksum does not match (mistyped or cut short?): %w", id, ErrMalformed)
	}
	return id, nil
}

func isBase32(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// Create generates a key, records who created it, and stores it. The
// plaintext is returned once and kept nowhere.
func Create(ctx context.Context, s Store, role Role, name, createdBy string) (string, Key, error) {
	return CreateLimited(ctx, s, role, name, createdBy, nil)
}

// CreateLimited is Create of a key with a rate limit of its own (nil: the
// server's default).
func CreateLimited(ctx context.Context, s Store, role Role, name, createdBy string, limit *RateLimit) (string, Key, error) {
	plaintext, k, h, err := Generate(role, name)
	if err != nil {
		return "", Key{}, err
	}
	if limit != nil {
		if err := limit.Validate(); err != nil {
			return "", Key{}, fmt.Errorf("auth: new key %q: %w", name, err)
		}
		l := *limit
		k.Limit = &l
	}
	k.CreatedBy = createdBy
	if err := s.CreateKey(ctx, k, h); err != nil {
		return "", Key{}, fmt.Errorf("auth: storing new key %s (%q): %w", k.ID, name, err)
	}
	return plaintext, k, nil
}

// SetLimit gives the key id a rate limit of its own, or with nil the
// server's default again, after checking it (Validate).
func SetLimit(ctx context.Context, s Store, id string, l *RateLimit) error {
	if l != nil {
		if err := l.Validate(); err != nil {
			return derrors.Wrap(fmt.Errorf("auth: key %s: %w", id, err), derrors.Invalid)
		}
	}
	if err := s.SetKeyLimit(ctx, id, l); err != nil {
		return fmt.Errorf("auth: setting the rate limit of key %s: %w", id, err)
	}
	return nil
}

// LimitChanged is what the audit log records of a change of a key's rate
// limit from was to now: each a limit, or "default".
func LimitChanged(was, now *RateLimit) map[string]any {
	say := func(l *RateLimit) any {
		if l == nil {
			return "default"
		}
		return *l
	}
	return map[string]any{"rate_limit": say(now), "was": say(was)}
}

// TouchEvery is how stale a key's LastUsedAt may get: Authenticate writes it
// at most this often per key, so busy keys do not cost a write per request.
const TouchEvery = time.Minute

// Authenticate returns the key a request presented. It refuses, with an
// error wrapping ErrMalformed, ErrUnknown or ErrRevoked, a key that is not of
// the right form, that no stored key matches, or that was revoked; other
// errors are the store's.
//
// The secret is compared as a SHA-256 in constant time. A fast hash is right
// here, unlike for passwords: a key holds 256 random bits, so there is no
// dictionary to try and a slow hash (bcrypt, argon2) would only slow every
// request without making a stolen hash any easier to reverse.
func Authenticate(ctx context.Context, s Store, presented string) (Key, error) {
	id, err := ParseID(presented)
	if err != nil {
		return Key{}, err
	}
	k, want, err := s.KeyByID(ctx, id)
	if err != nil {
		if errors.Is(err, ErrUnknown) {
			return Key{}, fmt.Errorf("auth: key %s: %w", id, ErrUnknown)
		}
		return Key{}, fmt.Errorf("auth: looking up key %s: %w", id, err)
	}
	got := sha256.Sum256([]byte(presented))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return Key{}, fmt.Errorf("auth: key %s: secret does not match: %w", id, ErrUnknown)
	}
	now := time.Now()
	if k.Revoked(now) {
		return Key{}, fmt.Errorf("auth: key %s (%q) revoked at %s: %w", id, k.Name, k.RevokedAt.UTC().Format(time.RFC3339), ErrRevoked)
	}
	if !k.Role.Valid() {
		// Fail closed: a role this build does not know grants nothing.
		return Key{}, fmt.Errorf("auth: key %s (%q) has role %q, which this version does not know", id, k.Name, k.Role)
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= TouchEvery {
		now = now.UTC().Truncate(time.Microsecond)
		// Bookkeeping: a failed write (a full disk, a read-only replica)
		// must not fail the request, least of all a read; the next
		// request tries again.
		if err := s.TouchKey(ctx, id, now); err == nil {
			k.LastUsedAt = &now
		}
	}
	return k, nil
}

// Pseudonym is what roles other than admin are shown for a trusted
// flagger's key id: stable per key (so a reviewer can tell two flaggers
// apart and count each one's record) without the id itself.
func Pseudonym(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "flagger-" + hex.EncodeToString(sum[:6])
}
