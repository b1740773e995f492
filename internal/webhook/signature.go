package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>", the
	// HMAC keyed by the endpoint's secret over "<t>." followed by the body.
	// Signing the timestamp with the body lets a receiver refuse a captured
	// request replayed later. While a rotated secret's overlap lasts
	// (Endpoint.Rotate) there are two v1 values, the new secret's first:
	// "t=1764640000,v1=<new>,v1=<old>". A receiver accepts the request when
	// any v1 matches a secret it holds, so it can move to the new secret at
	// any time in the overlap.
	SignatureHeader = "Safeguard-Signature"
	// IdempotencyHeader carries the delivery's ID, the same on every retry.
	IdempotencyHeader = "Safeguard-Idempotency-Key"
	// EventHeader carries the delivery's event, e.g. "scan.decision".
	EventHeader = "Safeguard-Event"
	// AttemptHeader carries the attempt number, from 1.
	AttemptHeader = "Safeguard-Attempt"
)

// DefaultTolerance is how far a signature's timestamp may be from a
// receiver's clock: enough for clock skew and a slow network, short enough
// that a captured request soon becomes useless.
const DefaultTolerance = 5 * time.Minute

// Errors Verify returns, wrapped with detail; receivers may answer them
// differently (a stale timestamp often means a skewed clock).
var (
	ErrMalformedSignature = errors.New("malformed signature header")
	ErrStaleSignature     = errors.New("signature timestamp outside tolerance")
	ErrBadSignature       = errors.New("signature does not match")
)

// maxSignatureHeader bounds the header Verify parses: far more than a few
// v1 values need, and little enough that a hostile header costs nothing.
const maxSignatureHeader = 4096

// Sign returns the SignatureHeader value for body sent at t, with one v1
// signature for each secret, in order.
func Sign(t time.Time, body []byte, secrets ...[]byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	h := "t=" + ts
	for _, s := range secrets {
		h += ",v1=" + hex.EncodeToString(mac(s, ts, body))
	}
	return h
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a SignatureHeader value: that it is well formed, that its
// timestamp is within tolerance of now (either side), and that one of its
// v1 signatures is the HMAC of body under secret. Fields other than t and
// v1 are ignored, so a later scheme can be added beside v1.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(header) > maxSignatureHeader {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMalformedSignature, len(header), maxSignatureHeader)
	}
	var ts string
	var sigs [][]byte
	for field := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return fmt.Errorf("%w: field %q is not key=value", ErrMalformedSignature, field)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: more than one t", ErrMalformedSignature)
			}
			if v == "" {
				return fmt.Errorf("%w: empty t", ErrMalformedSignature)
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return fmt.Errorf("%w: v1 %q is not %d hex digits", ErrMalformedSignature, v, 2*sha256.Size)
			}
			sigs = append(sigs, sig)
		}
	}
	if ts == "" {
		return fmt.Errorf("%w: no t", ErrMalformedSignature)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no v1", ErrMalformedSignature)
	}
	// Digits only: ParseInt would take "+5", and the HMAC covers ts as
	// written, so two spellings of one time must not both be accepted.
	for _, c := range []byte(ts) {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: t %q is not unix seconds", ErrMalformedSignature, ts)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: t %q is not unix seconds", ErrMalformedSignature, ts)
	}
	if age := now.Sub(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now, tolerance %s", ErrStaleSignature,
			time.Unix(sec, 0).UTC().Format(time.RFC3339), age.Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return ErrBadSignature
}
