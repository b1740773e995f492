// Package selfreport is Report Remove's domain: a young person hashes images
// or videos of themselves on their own device and sends only the hashes (a
// video's as vPDQ of a frame a second, plus the file's digests); they go
// into the "self-reported" bank, and the person gets a case code and a PIN
// (no account, no name) to see what happened or to withdraw.
//
// The PIN is stored only as a salted PBKDF2 hash, since six digits are
// otherwise found by trying them all. Submissions are rate-limited per
// address, and PIN checks per address and per case code, so that neither a
// flood of cases nor a guessed PIN gets through. Hashes too flat to mean
// anything (PDQ quality under the floor) are refused with an explanation:
// such a hash would match unrelated images, blocking other people's posts.
//
// Storage is the Store interface, which the SQLite and PostgreSQL stores
// implement; selfreporttest has an in-memory one and the conformance suite.
package selfreport

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
)

// State is where a case stands.
type State string

// The states of a case.
const (
	// Active: its hashes are in the bank and match.
	Active State = "active"
	// Withdrawn: the person withdrew it; its hashes no longer match
	// (unless another active case holds the same hash).
	Withdrawn State = "withdrawn"
)

// Image is the hashes of one image, as the page computed them: lower-case
// hex, the form the banks store.
type Image struct {
	PDQ     string `json:"pdq"`
	Quality int    `json:"quality"`
	MD5     string `json:"md5"`
	SHA256  string `json:"sha256"`
}

// Video is the hashes of one video, as the page computed them: the PDQ of
// a frame a second as the browser decoded them (vPDQ), and the MD5 and
// SHA-256 of the file. VPDQ is bank.VPDQ's stored form once normalised;
// the page sends python-threatexchange's signal string, a JSON array of
// "pdqHex,quality,timestamp".
type Video struct {
	VPDQ   string
	MD5    string
	SHA256 string
}

// Case is one submission.
type Case struct {
	Code        string
	PINHash     string // see hashPIN; never the PIN
	State       State
	Images      []Image
	Videos      []Video
	CreatedAt   time.Time
	WithdrawnAt time.Time // zero while active
}

// Store keeps cases. selfreporttest.Run checks an implementation.
type Store interface {
	// CreateSelfReport stores a new case. An error wrapping ErrExists if the
	// code is taken.
	CreateSelfReport(ctx context.Context, c Case) error
	// SelfReport returns the case with that code; an error wrapping ErrNoCase if
	// there is none.
	SelfReport(ctx context.Context, code string) (Case, error)
	// WithdrawSelfReport marks an active case withdrawn at the time given and
	// returns it; a case already withdrawn is returned unchanged. An error
	// wrapping ErrNoCase if there is none.
	WithdrawSelfReport(ctx context.Context, code string, at time.Time) (Case, error)
	// SelfReportHolders counts the active cases holding a hash value (of any
	// signal: values of different signals differ in length).
	SelfReportHolders(ctx context.Context, value string) (int, error)
}

// Errors. The API maps each to its answer.
var (
	// ErrNoCase: no case has that code, or the PIN is wrong. The two are
	// one answer so that codes cannot be found by trying PINs.
	ErrNoCase = derrors.New(derrors.NotFound, "no case with that code and PIN")
	// ErrExists: a case code is taken (a store's answer; Submit draws
	// another).
	ErrExists = derrors.New(derrors.Exists, "case code already taken")
	// ErrInvalid: the request itself is wrong (a malformed hash or code,
	// too many images). The error says what.
	ErrInvalid = derrors.New(derrors.Invalid, "invalid self-report")
)

// QualityError refuses a submission holding images whose PDQ hash is too
// flat to be matched safely, or videos none of whose frames is detailed
// enough (vPDQ ignores frames under the floor, so such a video matches
// nothing).
type QualityError struct {
	Images []int // 1-based positions among the submission's images
	Videos []int // 1-based positions among its videos
	Floor  int
}

func (e *QualityError) Error() string {
	var parts []string
	if len(e.Images) > 0 {
		parts = append(parts, fmt.Sprintf("image %s: too plain to recognise reliably (PDQ quality under %d); a photo with more detail in it can be blocked, this one cannot without blocking other people's pictures",
			positions(e.Images), e.Floor))
	}
	if len(e.Videos) > 0 {
		parts = append(parts, fmt.Sprintf("video %s: no frame detailed enough to recognise reliably (PDQ quality under %d in every frame)",
			positions(e.Videos), e.Floor))
	}
	return strings.Join(parts, "; ")
}

func positions(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// MaxImages bounds one submission: a person may send several photos at
// once, not an album.
const MaxImages = 20

// MaxVideos bounds the videos of one submission, and MaxVideoFrames the
// frames of one: half an hour at the page's one frame a second. Together
// they keep the largest submission (~720 KB of JSON) inside the API's body
// limit; a longer video can be sent in parts of its own.
const (
	MaxVideos      = 5
	MaxVideoFrames = 1800
)

// QualityFloor is the lowest PDQ quality accepted: the matcher's own floor,
// below which PDQ's authors say a hash is not meaningful.
const QualityFloor = match.DefaultQualityFloor

// Normalize checks an image's hashes and returns them in their stored
// form. The error wraps ErrInvalid and names the field (as bank.ParseValue
// does: "pdq value ...").
func (im Image) Normalize() (Image, error) {
	var err error
	if im.PDQ, err = bank.ParseValue(bank.PDQ, im.PDQ); err != nil {
		return im, fmt.Errorf("%w: %v", ErrInvalid, err) // bank.ParseValue names the signal
	}
	if im.MD5, err = bank.ParseValue(bank.MD5, im.MD5); err != nil {
		return im, fmt.Errorf("%w: %v", ErrInvalid, err) // bank.ParseValue names the signal
	}
	if im.SHA256, err = bank.ParseValue(bank.SHA256, im.SHA256); err != nil {
		return im, fmt.Errorf("%w: %v", ErrInvalid, err) // bank.ParseValue names the signal
	}
	if im.Quality < 0 || im.Quality > 100 {
		return im, fmt.Errorf("%w: quality %d out of range 0..100", ErrInvalid, im.Quality)
	}
	return im, nil
}

// Normalize checks a video's hashes and returns them in their stored form,
// with the best quality among its frames. The error wraps ErrInvalid and
// names the field.
func (v Video) Normalize() (Video, int, error) {
	var err error
	if v.VPDQ, err = bank.ParseValue(bank.VPDQ, v.VPDQ); err != nil {
		return v, 0, fmt.Errorf("%w: %v", ErrInvalid, err) // bank.ParseValue names the signal
	}
	frames, err := bank.VPDQFrames(v.VPDQ)
	if err != nil {
		return v, 0, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(frames) > MaxVideoFrames {
		return v, 0, fmt.Errorf("%w: %d frames; at most %d (half an hour at one frame a second)", ErrInvalid, len(frames), MaxVideoFrames)
	}
	if v.MD5, err = bank.ParseValue(bank.MD5, v.MD5); err != nil {
		return v, 0, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if v.SHA256, err = bank.ParseValue(bank.SHA256, v.SHA256); err != nil {
		return v, 0, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	best := 0
	for _, f := range frames {
		best = max(best, f.Quality)
	}
	return v, best, nil
}

// Case codes are 8 characters from an alphabet without 0/O and 1/I, so they
// can be read out and typed without confusion: 32^8, 40 bits, far beyond
// guessing at the rate limits here.
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// NewCode returns a random case code, "XXXX-XXXX".
func NewCode() string {
	var b [8]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = codeAlphabet[b[i]%32]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// ParseCode reads a case code as a person may type it (any case, with or
// without the dash or spaces) and returns its canonical form. The error
// wraps ErrInvalid.
func ParseCode(s string) (string, error) {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) != 8 {
		return "", fmt.Errorf("%w: a case code has 8 letters and digits, like 7KQ4-M2XH", ErrInvalid)
	}
	for _, c := range s {
		if !strings.ContainsRune(codeAlphabet, c) {
			return "", fmt.Errorf("%w: %q is not in case codes (they have no 0, 1, I or O)", ErrInvalid, c)
		}
	}
	return s[:4] + "-" + s[4:], nil
}

// NewPIN returns a random six-digit PIN.
func NewPIN() string {
	var b [8]byte
	rand.Read(b[:])
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return fmt.Sprintf("%06d", n%1_000_000)
}

// pinIterations makes each PIN check cost tens of milliseconds: nothing for
// a person, and a stolen table of PIN hashes then takes a day per million
// guesses per core instead of a second.
const pinIterations = 100_000

// hashPIN returns "pbkdf2-sha256$ITER$SALT$KEY" (base64 without padding).
func hashPIN(pin string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	return encodePIN(pin, salt, pinIterations)
}

func encodePIN(pin string, salt []byte, iter int) string {
	key, err := pbkdf2.Key(sha256.New, pin, salt, iter, 32)
	if err != nil { // only for parameters outside FIPS limits, which these are not
		panic(err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iter, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// dummyPINHash is checked against when no case has the code given: a hash
// made as every case's is, of a PIN nobody was given.
var dummyPINHash = sync.OnceValue(func() string { return hashPIN(NewPIN()) })

// checkPIN reports whether pin is the one stored as hashed.
func checkPIN(hashed, pin string) bool {
	parts := strings.Split(hashed, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	salt, err2 := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil || err2 != nil || iter <= 0 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(encodePIN(pin, salt, iter)), []byte(hashed)) == 1
}
