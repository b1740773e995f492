// Package hma serves the HTTP API of Meta's Hasher-Matcher-Actioner 2.0
// ("Open Media Match"), so that an integration written for HMA — ROOST's
// Coop, python-threatexchange's client, a platform's own scripts — can be
// pointed at Safeguard unchanged.
//
// The handler speaks HMA's wire format, quirks included (distances as
// strings, errors as {"message": ...}, 422 for a missing query parameter, 201
// and 403 from POST /c/banks); what it answers comes from a Backend, the
// small interface below, written in HMA's words (banks, content, signal
// types) so that the handler knows nothing of Safeguard's store, matcher or
// HTTP API. Engine is the Backend over today's store and matcher.
//
// docs/hma.md lists every route, how Safeguard's answer differs from HMA's
// and why.
package hma

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors a Backend wraps so the handler can pick HMA's status code: test
// them with errors.Is. Anything else is a 500.
var (
	ErrNotFound    = errors.New("not found")          // 404
	ErrExists      = errors.New("already exists")     // 403, as HMA answers
	ErrInvalid     = errors.New("invalid")            // 400
	ErrUnsupported = errors.New("not supported here") // 400 or 403, see the route
)

// Errorf returns an error of one of the kinds above whose message is only
// what the format says, e.g. Errorf(ErrNotFound, "bank '%s' not found", n),
// so answers read as HMA's do.
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind, fmt.Sprintf(format, args...)}
}

type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// The signal and content types HMA names, as far as Safeguard holds them.
const (
	SignalPDQ      = "pdq"
	SignalVideoMD5 = "video_md5" // the MD5 of a file's bytes
	// SignalVPDQ is a video's frame hashes, as python-threatexchange's
	// signal string; its matches' distances read "Q%[C%]", the query's and
	// the banked video's matching shares, as HMA prints them.
	SignalVPDQ   = "vpdq"
	ContentPhoto = "photo"
	ContentVideo = "video"
)

// Bank is a bank as HMA shows it. Names are HMA's: [A-Z_][A-Z0-9_]*.
type Bank struct {
	Name string `json:"name"`
	// EnabledRatio is the share of lookups that see the bank's matches:
	// 1 always, 0 never (a disabled bank), in between for a gradual rollout.
	EnabledRatio float64 `json:"matching_enabled_ratio"`
}

// BankUpdate is a change to a bank; nil fields stay as they are.
type BankUpdate struct {
	Name         *string
	EnabledRatio *float64
}

// Content is one piece of banked content: several signals (a photo's PDQ, a
// video's MD5, ...) under one id, which is what a lookup answers with.
type Content struct {
	ID   int64
	Bank string
	// Signals maps a signal type to its value, lower-case hex.
	Signals map[string]string
	Note    string
	// ExternalID is the caller's own id for the content (HMA's
	// metadata.content_id, which Coop sends).
	ExternalID string
	// DisableUntil is HMA's disable_until_ts: 1 enabled, 0 disabled,
	// otherwise a Unix time before which the content does not match.
	DisableUntil int64
}

// ContentUpdate is a change to content; nil fields stay as they are.
type ContentUpdate struct {
	Note         *string
	DisableUntil *int64
}

// Match is one banked content a signal matched.
type Match struct {
	ContentID int64
	Bank      string
	// Distance is HMA's string form: "0".."256" for PDQ, "0" for exact
	// digests, "100%[98%]" for vPDQ.
	Distance string
}

// Comparison is the answer to comparing two signals of one type.
type Comparison struct {
	Match bool
	// Distance is nil for signal types that only match exactly.
	Distance *int
}

// IndexStatus describes the index of one signal type.
type IndexStatus struct {
	Present bool      // loaded and answering lookups
	Size    int       // signals in the index
	BuiltTo time.Time // when it last caught up with the banks; zero if never
	// OutOfDate is set when banks hold changes the index has not applied.
	OutOfDate bool
}

// Backend is everything the HMA API needs from Safeguard. Writes name who
// made them (a key id, for the audit log).
//
// Bank names are HMA's; a Backend maps them to its own. Content ids are
// stable for the life of the content.
type Backend interface {
	// SignalTypes lists the signal types that can be banked and looked up.
	SignalTypes() []string
	// ContentTypes maps each content type to the signal types its content
	// is hashed to.
	ContentTypes() map[string][]string

	ListBanks(ctx context.Context) ([]Bank, error)
	Bank(ctx context.Context, name string) (Bank, error)
	// CreateBank fails with ErrExists when the name is taken and
	// ErrInvalid when it is not a valid name.
	CreateBank(ctx context.Context, who string, b Bank) (Bank, error)
	UpdateBank(ctx context.Context, who, name string, u BankUpdate) (Bank, error)
	DeleteBank(ctx context.Context, who, name string) error

	// AddContent banks one piece of content with its signals and returns
	// it with its id. Values are checked here: ErrInvalid names the bad one.
	AddContent(ctx context.Context, who string, c Content) (Content, error)
	Content(ctx context.Context, bank string, id int64) (Content, error)
	UpdateContent(ctx context.Context, who, bank string, id int64, u ContentUpdate) (Content, error)
	// DeleteContent removes content and returns how many were removed
	// (0 when there was none).
	DeleteContent(ctx context.Context, who, bank string, id int64) (int, error)

	// Lookup matches one signal; banks, when not empty, restricts the
	// search to those banks (unknown names match nothing).
	Lookup(ctx context.Context, signalType, value string, banks []string) ([]Match, error)
	// LookupContent hashes content of a content type and matches every
	// signal of it; the answer is keyed by signal type. It may match more
	// than Lookup of the same hashes would (Safeguard also tries a
	// photo's rotations and mirrors).
	LookupContent(ctx context.Context, contentType string, data []byte, banks []string) (map[string][]Match, error)
	// Hash returns the signals of content, keyed by signal type.
	Hash(ctx context.Context, contentType string, data []byte) (map[string]string, error)
	// Compare compares two values of a signal type.
	Compare(signalType, a, b string) (Comparison, error)
	// IndexStatus describes each signal type's index.
	IndexStatus(ctx context.Context) (map[string]IndexStatus, error)

	Exchanges
}

// Exchanges is the read side of the hash-list exchanges (NCMEC, StopNCII,
// ThreatExchange, ...) that fill banks. They are configured in Safeguard's
// configuration, credentials included, never through this API.
type Exchanges interface {
	ExchangeAPIs(ctx context.Context) ([]ExchangeAPI, error)
	ListExchanges(ctx context.Context) ([]Exchange, error)
	// Exchange returns the exchange filling the named bank, or ErrNotFound.
	Exchange(ctx context.Context, name string) (Exchange, error)
	ExchangeStatus(ctx context.Context, name string) (FetchStatus, error)
}

// ExchangeAPI is a kind of exchange Safeguard can fetch from.
type ExchangeAPI struct {
	Name              string
	SupportsAuth      bool
	HasAuth           bool // credentials are configured
	ConfigSchema      []SchemaField
	CredentialsSchema []SchemaField // nil if the API takes none
}

// SchemaField describes one configuration or credential field, in the
// shape HMA's /c/exchanges/api/<api>/schema answers with.
type SchemaField struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // "string", "number", "boolean", "enum", "set_of_number", ...
	Required bool     `json:"required"`
	Default  any      `json:"default"`
	Help     string   `json:"help"`
	Choices  []string `json:"choices"`
}

// Exchange is one configured exchange; its name is the bank it fills.
type Exchange struct {
	Name           string
	API            string
	Enabled        bool
	HasCredentials bool
	// Config holds the API's own settings (privacy group, environment,
	// ...), never credentials.
	Config map[string]any
}

// FetchStatus is an exchange's progress, in HMA's terms. Times are Unix
// seconds; nil when unknown.
type FetchStatus struct {
	CheckpointTS        *int64 `json:"checkpoint_ts"`
	RunningFetchStartTS *int64 `json:"running_fetch_start_ts"`
	LastFetchCompleteTS *int64 `json:"last_fetch_complete_ts"`
	LastFetchSucceeded  *bool  `json:"last_fetch_succeeded"`
	UpToDate            bool   `json:"up_to_date"`
	FetchedItems        int64  `json:"fetched_items"`
}
