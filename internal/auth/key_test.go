package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
)

var keyForm = regexp.MustCompile(`^sg_[a-z2-7]{16}_[a-z2-7]{59}$`)

func TestGenerate(t *testing.T) {
	p1, k1, h1, err := auth.Generate(auth.Integrator, "platform backend")
	if err != nil {
		t.Fatal(err)
	}
	p2, k2, _, err := auth.Generate(auth.Integrator, "platform backend")
	if err != nil {
		t.Fatal(err)
	}
	if !keyForm.MatchString(p1) {
		t.Errorf("plaintext %q is not of the documented form", p1)
	}
	if p1 == p2 || k1.ID == k2.ID {
		t.Errorf("two keys alike: %s %s", p1, p2)
	}
	if h1 != sha256.Sum256([]byte(p1)) {
		t.Error("hash is not the SHA-256 of the plaintext")
	}
	if k1.Role != auth.Integrator || k1.Name != "platform backend" || k1.CreatedAt.IsZero() || k1.RevokedAt != nil {
		t.Errorf("key %+v", k1)
	}
	if id, err := auth.ParseID(p1); err != nil || id != k1.ID || p1[3:19] != id {
		t.Errorf("ParseID(%s) = %q, %v; want %q", p1, id, err, k1.ID)
	}
}

func TestGenerateRefuses(t *testing.T) {
	tests := []struct {
		role auth.Role
		name string
		want string
	}{
		{"root", "x", `unknown role "root"`},
		{"", "x", `unknown role ""`},
		{auth.Admin, "", "needs a name"},
		{auth.Admin, strings.Repeat("n", auth.MaxNameLen+1), "longer than 100 bytes"},
		{auth.Admin, "tab\there", "only printable"},
		{auth.Admin, "bad \xff utf-8", "only printable"},
	}
	for _, tt := range tests {
		if _, _, _, err := auth.Generate(tt.role, tt.name); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Generate(%q, %q): %v, want %q", tt.role, tt.name, err, tt.want)
		}
	}
}

func TestParseIDMalformed(t *testing.T) {
	good, _, _, _ := auth.Generate(auth.Admin, "a")
	flip := func(i int) string {
		b := []byte(good)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct{ name, key, want string }{
		{"empty", "", "0 characters, want 79"},
		{"cut short", good[:78], "78 characters"},
		{"too long", good + "a", "80 characters"},
		{"bearer prefix kept", "Bearer " + good[:72], "not of the form"},
		{"upper case", strings.ToUpper(good), "not of the form"},
		{"other prefix", "xx" + good[2:], "not of the form"},
		{"separator moved", good[:18] + "_" + good[19:], "not of the form"},
		{"secret mistyped", flip(30), "checksum does not match"},
		{"id mistyped", flip(5), "checksum does not match"},
		{"checksum mistyped", flip(76), "checksum does not match"},
	}
	for _, tt := range tests {
		_, err := auth.ParseID(tt.key)
		if !errors.Is(err, auth.ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrMalformed %q", tt.name, err, tt.want)
		}
		if err != nil && len(tt.key) > 40 && strings.Contains(err.Error(), tt.key[20:40]) {
			t.Errorf("%s: error %q repeats the secret", tt.name, err)
		}
	}
}

func FuzzParseID(f *testing.F) {
	good, _, _, _ := auth.Generate(auth.Admin, "a")
	f.Add(good)
	f.Add(good[:78] + "_")
	f.Add("sg__" + strings.Repeat("a", 75))
	f.Fuzz(func(t *testing.T, s string) {
		id, err := auth.ParseID(s)
		if err != nil {
			if !errors.Is(err, auth.ErrMalformed) {
				t.Errorf("ParseID(%q): %v is not ErrMalformed", s, err)
			}
			return
		}
		if !keyForm.MatchString(s) || s[3:19] != id {
			t.Errorf("ParseID accepted %q with id %q", s, id)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	ctx := t.Context()
	s := new(authtest.Memory)
	plain, k, err := auth.Create(ctx, s, auth.Reviewer, "alice", "k_admin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := auth.Authenticate(ctx, s, plain)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != k.ID || got.Role != auth.Reviewer || got.CreatedBy != "k_admin" || got.LastUsedAt == nil {
		t.Errorf("Authenticate = %+v", got)
	}
	// Uses within TouchEvery write LastUsedAt once.
	for range 5 {
		if _, err := auth.Authenticate(ctx, s, plain); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Touches(); n != 1 {
		t.Errorf("6 uses wrote LastUsedAt %d times, want 1", n)
	}

	// A key of the right form that was never issued.
	other, _, _, _ := auth.Generate(auth.Admin, "never stored")
	// The stored key's id with another secret (and a valid checksum).
	forged := forgeSecret(t, plain, other)

	past := time.Now().Add(-time.Second)
	revoked, rk, _ := auth.Create(ctx, s, auth.Admin, "old", "k_admin")
	if err := s.RevokeKey(ctx, rk.ID, past); err != nil {
		t.Fatal(err)
	}
	later, lk, _ := auth.Create(ctx, s, auth.Admin, "rotating", "k_admin")
	if err := s.RevokeKey(ctx, lk.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, key string
		want      error
		msg       string
	}{
		{"unknown id", other, auth.ErrUnknown, "auth: key " + other[3:19] + ": unknown API key"},
		{"wrong secret", forged, auth.ErrUnknown, "secret does not match"},
		{"revoked", revoked, auth.ErrRevoked, `key ` + rk.ID + ` ("old") revoked at`},
		{"revocation in the future", later, nil, ""},
		{"malformed", plain[:70], auth.ErrMalformed, "70 characters"},
	}
	for _, tt := range tests {
		_, err := auth.Authenticate(ctx, s, tt.key)
		if !errors.Is(err, tt.want) || (err != nil && !strings.Contains(err.Error(), tt.msg)) {
			t.Errorf("%s: %v, want %v %q", tt.name, err, tt.want, tt.msg)
		}
	}
}

// forgeSecret returns a well-formed key with plain's id and other's secret,
// its checksum computed the documented way.
func forgeSecret(t *testing.T, plain, other string) string {
	t.Helper()
	body := plain[:20] + other[20:72]
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], crc32.ChecksumIEEE([]byte(body)))
	k := body + strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString(c[:]), "="))
	if _, err := auth.ParseID(k); err != nil {
		t.Fatalf("forged key is malformed: %v", err)
	}
	return k
}

func TestAuthenticateStoreError(t *testing.T) {
	plain, _, _, _ := auth.Generate(auth.Admin, "a")
	boom := errors.New("database is locked")
	_, err := auth.Authenticate(t.Context(), failing{boom}, plain)
	if !errors.Is(err, boom) || errors.Is(err, auth.ErrUnknown) {
		t.Errorf("Authenticate with a failing store: %v", err)
	}
}

func TestAuthenticateUnknownRole(t *testing.T) {
	ctx := t.Context()
	s := new(authtest.Memory)
	plain, k, h, _ := auth.Generate(auth.Admin, "from a newer version")
	k.Role = "superuser"
	if err := s.CreateKey(ctx, k, h); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.Authenticate(ctx, s, plain); err == nil || !strings.Contains(err.Error(), `role "superuser"`) {
		t.Errorf("key with an unknown role: %v", err)
	}
}

func TestRevokeKeepsEarlierTime(t *testing.T) {
	ctx := context.Background()
	s := new(authtest.Memory)
	_, k, _ := auth.Create(ctx, s, auth.Flagger, "f", "k_admin")
	early := time.Now().Add(-time.Hour)
	_ = s.RevokeKey(ctx, k.ID, early)
	_ = s.RevokeKey(ctx, k.ID, time.Now().Add(time.Hour))
	got, _, _ := s.KeyByID(ctx, k.ID)
	if !got.Revoked(time.Now()) {
		t.Error("a second, later revocation un-revoked the key")
	}
}

type failing struct{ err error }

func (f failing) CreateKey(context.Context, auth.Key, auth.Hash) error { return f.err }
func (f failing) KeyByID(context.Context, string) (auth.Key, auth.Hash, error) {
	return auth.Key{}, auth.Hash{}, f.err
}
func (f failing) ListKeys(context.Context) ([]auth.Key, error)               { return nil, f.err }
func (f failing) RevokeKey(context.Context, string, time.Time) error         { return f.err }
func (f failing) TouchKey(context.Context, string, time.Time) error          { return f.err }
func (f failing) SetKeyLimit(context.Context, string, *auth.RateLimit) error { return f.err }

// fullDisk is a store whose writes fail, as on a full disk.
type fullDisk struct{ *authtest.Memory }

func (fullDisk) TouchKey(context.Context, string, time.Time) error {
	return errors.New("database or disk is full")
}

// Issue 12, finding 8: a read must not fail because recording the key's
// last use (bookkeeping) failed.
func TestAuthenticateTouchFails(t *testing.T) {
	ctx := t.Context()
	s := fullDisk{new(authtest.Memory)}
	plain, k, h, _ := auth.Generate(auth.Auditor, "reader")
	if err := s.CreateKey(ctx, k, h); err != nil {
		t.Fatal(err)
	}
	got, err := auth.Authenticate(ctx, s, plain)
	if err != nil {
		t.Fatalf("Authenticate with a failing last-used write: %v", err)
	}
	if got.ID != k.ID || got.LastUsedAt != nil {
		t.Errorf("got %+v, want key %s with no last use recorded", got, k.ID)
	}
}

func TestRateLimitValidate(t *testing.T) {
	for _, c := range []struct {
		l  auth.RateLimit
		ok bool
	}{
		{auth.RateLimit{Burst: 1, PerSecond: 0.001}, true},
		{auth.RateLimit{Burst: auth.MaxBurst, PerSecond: auth.MaxPerSecond}, true},
		{auth.RateLimit{Burst: 0, PerSecond: 1}, false},
		{auth.RateLimit{Burst: -5, PerSecond: 1}, false},
		{auth.RateLimit{Burst: auth.MaxBurst + 1, PerSecond: 1}, false},
		{auth.RateLimit{Burst: 10, PerSecond: 0}, false},
		{auth.RateLimit{Burst: 10, PerSecond: 1e-9}, false}, // a refill of 317 years
		{auth.RateLimit{Burst: 10, PerSecond: math.NaN()}, false},
		{auth.RateLimit{Burst: 10, PerSecond: math.Inf(1)}, false},
	} {
		if err := c.l.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: %v, want ok %v", c.l, err, c.ok)
		}
	}
}
