// Package peer lets Safeguard instances share banks with each other without
// a central party: a Publisher serves chosen banks as feeds of their
// changes, each page signed with the publisher's Ed25519 key, and a Fetcher
// pulls a feed into a local bank, refusing any page that the key its
// configuration pins did not sign.
//
// A feed is the bank's change log: GET {feed root}/feed/{bank}?after=N
// answers the changes with sequence numbers above N, in order, up to a
// page; the subscriber's checkpoint is the last sequence number applied.
package peer

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// Format names the feed's JSON, so a later format can be told apart.
const Format = "safeguard-feed/1"

// SignatureHeader carries "ed25519 <base64 signature of the body>".
const SignatureHeader = "Safeguard-Signature"

// DefaultPageSize and MaxPageSize bound the changes a page holds.
const (
	DefaultPageSize = 1000
	MaxPageSize     = 5000
)

// Feed is a page of a bank's feed, as signed and sent.
type Feed struct {
	Format      string       `json:"format"`
	Bank        string       `json:"bank"`
	After       int64        `json:"after"` // the request's position
	Next        int64        `json:"next"`  // the position after this page
	More        bool         `json:"more"`  // a page follows
	GeneratedAt time.Time    `json:"generated_at"`
	Changes     []FeedChange `json:"changes"`
}

// FeedChange is one change of a published bank.
type FeedChange struct {
	Seq      int64       `json:"seq"`
	Removed  bool        `json:"removed,omitempty"`
	Signal   bank.Signal `json:"signal"`
	Value    string      `json:"value"`
	Source   string      `json:"source,omitempty"`
	Category string      `json:"category,omitempty"`
	Note     string      `json:"note,omitempty"`
}

// Source reads a bank's change log; the server's store implements it
// (exchange.Store.BankChanges).
type Source interface {
	// BankChanges returns up to limit changes of the named bank with Seq
	// above after, in Seq order. An entry's latest state is enough: a
	// reader applying changes in order converges on the bank's live
	// entries.
	BankChanges(ctx context.Context, bankName string, after int64, limit int) ([]bank.Change, error)
}

// Publisher signs pages of the feeds of the banks it publishes. Who may
// read them is the mounting server's business (internal/api serves Page
// to keys with permission feeds.read); ServeHTTP serves it bare.
type Publisher struct {
	Key    ed25519.PrivateKey
	Source Source
	// Banks are the bank names published; any other is ErrNotPublished.
	Banks []string
	Now   func() time.Time // nil: time.Now
}

// ErrNotPublished is wrapped by the error of a feed of a bank the
// publisher does not publish (the bank may exist: that is not said).
var ErrNotPublished = derrors.New(derrors.NotFound, "not published")

// ErrQuery is wrapped by the errors of ParseQuery.
var ErrQuery = derrors.New(derrors.Invalid, "bad feed query")

// ParseQuery reads a feed request's after (default 0) and limit (default
// DefaultPageSize, at most MaxPageSize).
func ParseQuery(q url.Values) (after int64, limit int, err error) {
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return 0, 0, fmt.Errorf("after %q: want a sequence number: %w", exchange.Clip(v), ErrQuery)
		}
	}
	limit = DefaultPageSize
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return 0, 0, fmt.Errorf("limit %q: want a positive number: %w", exchange.Clip(v), ErrQuery)
		}
		limit = min(limit, MaxPageSize)
	}
	return after, limit, nil
}

// Page returns the signed page of a published bank's feed after position
// after: the JSON body and the value of its SignatureHeader.
func (p *Publisher) Page(ctx context.Context, name string, after int64, limit int) (body []byte, signature string, err error) {
	if !slices.Contains(p.Banks, name) {
		return nil, "", fmt.Errorf("bank %q: %w", exchange.Clip(name), ErrNotPublished)
	}
	if after < 0 || limit < 1 {
		return nil, "", fmt.Errorf("after %d, limit %d: %w", after, limit, ErrQuery)
	}
	limit = min(limit, MaxPageSize)
	// One more than asked says whether another page follows.
	changes, err := p.Source.BankChanges(ctx, name, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("reading the feed of bank %q: %w", name, err)
	}
	f := Feed{Format: Format, Bank: name, After: after, Next: after, More: len(changes) > limit, GeneratedAt: p.now().UTC(), Changes: []FeedChange{}}
	for _, c := range changes[:min(len(changes), limit)] {
		f.Changes = append(f.Changes, FeedChange{Seq: c.Seq, Removed: c.Removed, Signal: c.Entry.Signal, Value: c.Entry.Value,
			Source: c.Entry.Source, Category: c.Entry.Category, Note: c.Entry.Note})
		f.Next = c.Seq
	}
	if body, err = json.Marshal(f); err != nil {
		return nil, "", err
	}
	return body, "ed25519 " + base64.StdEncoding.EncodeToString(ed25519.Sign(p.Key, body)), nil
}

// ServeHTTP answers GET /feed/{bank}?after=N&limit=L with a signed page,
// errors in plain text (for a feed mounted outside internal/api).
func (p *Publisher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/feed/")
	if !ok || r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "not found: want GET /feed/{bank}", http.StatusNotFound)
		return
	}
	after, limit, err := ParseQuery(r.URL.Query())
	var body []byte
	var sig string
	if err == nil {
		body, sig, err = p.Page(r.Context(), name, after, limit)
	}
	switch {
	case errors.Is(err, ErrNotPublished):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case errors.Is(err, ErrQuery):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		http.Error(w, "reading the feed failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(SignatureHeader, sig)
	w.Write(body)
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// EncodeKey writes a public key as a configuration holds it: base64.
func EncodeKey(k ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(k) }

// ParsePublicKey reads a key written by EncodeKey.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key %q: want %d bytes in base64", exchange.Clip(s), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// ParsePrivateKey reads a publisher's key: the base64 of its 32-byte seed.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, fmt.Errorf("private key: want a %d-byte seed in base64", ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(b), nil
}

// Fetcher pulls one bank's feed from a publisher.
type Fetcher struct {
	Root     *url.URL // the feed root: GET {Root}/feed/{Bank}
	Bank     string   // the publisher's bank name
	Key      ed25519.PublicKey
	Token    string // sent as "Authorization: Bearer", if set
	PageSize int
	HTTP     *exchange.HTTP
}

// MaxFeedPage bounds a page: MaxPageSize changes of a few hundred bytes.
const MaxFeedPage = 16 << 20

// Config builds a Fetcher from an exchange's configuration: settings "url"
// (the publisher's feed root), "bank" (its bank's name; default: this
// exchange's name), "public_key" (the publisher's key, base64: pinned) and
// "page_size"; credential "token".
func Config(cfg exchange.Config, h *exchange.HTTP) (*Fetcher, error) {
	if err := cfg.Only([]string{"url", "bank", "public_key", "page_size"}, []string{"token"}); err != nil {
		return nil, err
	}
	root, err := exchange.CheckURL(strings.TrimRight(cfg.Setting("url", ""), "/"))
	if err != nil {
		return nil, fmt.Errorf("exchange %q: %w", cfg.Name, err)
	}
	key, err := ParsePublicKey(cfg.Setting("public_key", ""))
	if err != nil {
		return nil, fmt.Errorf("exchange %q: %w", cfg.Name, err)
	}
	name := cfg.Setting("bank", cfg.Name)
	if err := bank.ValidName(name); err != nil {
		return nil, fmt.Errorf("exchange %q: %w", cfg.Name, err)
	}
	size, err := strconv.Atoi(cfg.Setting("page_size", strconv.Itoa(DefaultPageSize)))
	if err != nil || size < 1 || size > MaxPageSize {
		return nil, fmt.Errorf("exchange %q: page_size: want 1 to %d", cfg.Name, MaxPageSize)
	}
	if h == nil {
		h = &exchange.HTTP{}
	}
	c := *h
	c.MaxBody = MaxFeedPage
	return &Fetcher{Root: root, Bank: name, Key: key, Token: cfg.Credentials["token"], PageSize: size, HTTP: &c}, nil
}

// ErrSignature is wrapped by the error of a page the pinned key did not
// sign: the publisher changed its key, or someone between changed the page.
var ErrSignature = errors.New("the feed's signature does not verify with the pinned key")

// Fetch implements exchange.Fetcher. The position is the last sequence
// number applied.
func (f *Fetcher) Fetch(ctx context.Context, from exchange.Checkpoint, emit func(exchange.Page) error) error {
	var after int64
	if from.Position != "" {
		var err error
		if after, err = strconv.ParseInt(from.Position, 10, 64); err != nil {
			return &exchange.PermanentError{Err: fmt.Errorf("checkpoint %q: not a sequence number", exchange.Clip(from.Position))}
		}
	}
	for {
		u := f.Root.JoinPath("feed", f.Bank)
		u.RawQuery = url.Values{"after": {strconv.FormatInt(after, 10)}, "limit": {strconv.Itoa(f.PageSize)}}.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return err
		}
		if f.Token != "" {
			req.Header.Set("Authorization", "Bearer "+f.Token)
		}
		body, header, err := f.HTTP.DoHeader(ctx, req)
		if err != nil {
			return err
		}
		feed, p, err := f.verify(body, header.Get(SignatureHeader), after)
		if err != nil {
			return fmt.Errorf("GET %s: %w", u.Redacted(), err)
		}
		p.Checkpoint = exchange.Checkpoint{Position: strconv.FormatInt(feed.Next, 10)}
		if err := emit(p); err != nil {
			return err
		}
		after = feed.Next
		if !feed.More {
			return nil
		}
	}
}

// verify checks a page's signature before reading a byte of it, then that
// it is the page asked for, and turns it into records.
func (f *Fetcher) verify(body []byte, sigHeader string, after int64) (Feed, exchange.Page, error) {
	var feed Feed
	b64, ok := strings.CutPrefix(sigHeader, "ed25519 ")
	sig, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || !ed25519.Verify(f.Key, body, sig) {
		return feed, exchange.Page{}, &exchange.PermanentError{Err: ErrSignature}
	}
	return parseFeed(body, f.Bank, after, f.PageSize)
}

// parseFeed reads a signed page and checks that it answers the request:
// its bank and position are the ones asked for (a validly signed page of
// another bank or position must not be replayed in its place), and its
// sequence numbers rise within (after, next].
func parseFeed(body []byte, bankName string, after int64, limit int) (Feed, exchange.Page, error) {
	var feed Feed
	if err := json.Unmarshal(body, &feed); err != nil {
		return feed, exchange.Page{}, fmt.Errorf("not a feed page: %v", err)
	}
	switch {
	case feed.Format != Format:
		return feed, exchange.Page{}, &exchange.PermanentError{Err: fmt.Errorf("feed format %q: want %q", exchange.Clip(feed.Format), Format)}
	case feed.Bank != bankName || feed.After != after:
		return feed, exchange.Page{}, fmt.Errorf("a page of bank %q after %d, not of %q after %d as asked", exchange.Clip(feed.Bank), feed.After, bankName, after)
	case len(feed.Changes) > limit:
		return feed, exchange.Page{}, fmt.Errorf("%d changes in a page of at most %d", len(feed.Changes), limit)
	case feed.More && len(feed.Changes) == 0:
		return feed, exchange.Page{}, errors.New("an empty page that says more follow: the feed is not advancing")
	}
	var p exchange.Page
	last := after
	for _, c := range feed.Changes {
		if c.Seq <= last || c.Seq > feed.Next {
			return feed, exchange.Page{}, fmt.Errorf("change %d out of order (after %d, next %d)", c.Seq, last, feed.Next)
		}
		last = c.Seq
		id := string(c.Signal) + ":" + c.Value
		if c.Removed {
			p.Records = append(p.Records, exchange.Record{ID: id, Deleted: true})
			continue
		}
		note := c.Note
		if c.Source != "" {
			note = strings.TrimSpace("from " + c.Source + ". " + note)
		}
		p.Records = append(p.Records, exchange.Record{ID: id, Classification: c.Category, Note: note,
			Fingerprints: []exchange.Fingerprint{{Kind: exchange.Kind(c.Signal), Value: c.Value}}})
	}
	if feed.Next < last || (len(feed.Changes) == 0 && feed.Next != after) {
		return feed, exchange.Page{}, fmt.Errorf("next %d does not follow the page's changes", feed.Next)
	}
	return feed, p, nil
}
