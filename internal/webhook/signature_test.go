package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("whsec_test-secret-0123456789")
	body := []byte(`{"id":"dlv_1","event":"scan.decision","data":{}}`)
	signedAt := time.Unix(1764036000, 0)
	good := Sign(signedAt, body, secret)
	if want := "t=1764036000,v1="; !strings.HasPrefix(good, want) || len(good) != len(want)+64 {
		t.Fatalf("Sign = %q, want %q and 64 hex digits", good, want)
	}
	sig := strings.TrimPrefix(good, "t=1764036000,v1=")
	other := strings.TrimPrefix(Sign(signedAt, body, []byte("another secret")), "t=1764036000,v1=")

	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, good, body, signedAt, nil},
		{"valid at the edge of tolerance", secret, good, body, signedAt.Add(5 * time.Minute), nil},
		{"valid with a fast sender clock", secret, good, body, signedAt.Add(-5 * time.Minute), nil},
		{"spaces and fields in another order", secret, "v1=" + sig + ", t=1764036000", body, signedAt, nil},
		{"rotation: second v1 matches", secret, "t=1764036000,v1=" + other + ",v1=" + sig, body, signedAt, nil},
		{"unknown scheme ignored", secret, good + ",v2=whatever", body, signedAt, nil},
		{"body changed", secret, good, []byte(`{"id":"dlv_2"}`), signedAt, ErrBadSignature},
		{"wrong secret", []byte("wrong"), good, body, signedAt, ErrBadSignature},
		{"timestamp changed", secret, "t=1764036001,v1=" + sig, body, signedAt, ErrBadSignature},
		{"too old", secret, good, body, signedAt.Add(5*time.Minute + time.Second), ErrStaleSignature},
		{"from the future", secret, good, body, signedAt.Add(-6 * time.Minute), ErrStaleSignature},
		{"empty", secret, "", body, signedAt, ErrMalformedSignature},
		{"no t", secret, "v1=" + sig, body, signedAt, ErrMalformedSignature},
		{"no v1", secret, "t=1764036000", body, signedAt, ErrMalformedSignature},
		{"two t", secret, "t=1764036000,t=1764036000,v1=" + sig, body, signedAt, ErrMalformedSignature},
		{"signed t", secret, "t=+1764036000,v1=" + sig, body, signedAt, ErrMalformedSignature},
		{"t not a number", secret, "t=yesterday,v1=" + sig, body, signedAt, ErrMalformedSignature},
		{"t overflows", secret, "t=99999999999999999999,v1=" + sig, body, signedAt, ErrMalformedSignature},
		{"short v1", secret, "t=1764036000,v1=" + sig[:62], body, signedAt, ErrMalformedSignature},
		{"v1 not hex", secret, "t=1764036000,v1=" + strings.Repeat("zz", 32), body, signedAt, ErrMalformedSignature},
		{"field without =", secret, good + ",junk", body, signedAt, ErrMalformedSignature},
		{"huge header", secret, good + strings.Repeat(",x=y", 2000), body, signedAt, ErrMalformedSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now, DefaultTolerance)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestSignatureVector keeps the worked example in docs/rules.md true
// (openssl dgst -sha256 -hmac gives the same).
func TestSignatureVector(t *testing.T) {
	body := `{"id":"dlv_9f2c4e0d8b7a41c3a5e6f7081928374a","event":"scan.decision","created_at":"2026-11-25T02:00:00Z","data":{"content_id":"post-1","blocked":true}}`
	const want = "t=1764036000,v1=19eade15b3636919df0142c45c435de253648f3dd6d379e634df2b9acf9b6f3b"
	if got := Sign(time.Unix(1764036000, 0), []byte(body), []byte("whsec_example-secret-do-not-use")); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func FuzzVerify(f *testing.F) {
	secret := []byte("whsec_fuzz")
	now := time.Unix(1764036000, 0)
	f.Add(Sign(now, []byte("{}"), secret), []byte("{}"))
	f.Add("t=1,v1=00", []byte(""))
	f.Add("t=1764036000,v1=,v1=,=,,", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := Verify(secret, header, body, now, DefaultTolerance)
		if err == nil && !strings.Contains(header, "v1=") {
			t.Fatalf("accepted %q without a v1 signature", header)
		}
		if err != nil && !errors.Is(err, ErrMalformedSignature) && !errors.Is(err, ErrStaleSignature) && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify(%q) = %v: not one of the documented errors", header, err)
		}
	})
}
