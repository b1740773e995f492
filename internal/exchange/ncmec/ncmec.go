// Package ncmec pulls NCMEC's hash sharing lists (API v2: XML over HTTPS
// with HTTP Basic authentication) and sends feedback on their entries.
//
// A fetch reads GET {base}/v2/entries?from=&to= and follows <paging><next>
// to the end. NCMEC does not return a window's entries in time order, so a
// window's end becomes the next window's start only once every page of it
// has been read; until then the checkpoint holds the window and the link to
// its next page, so a restart resumes mid-window. See docs/exchanges.md.
package ncmec

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// Environments maps the names a configuration uses to NCMEC's servers. Each
// environment is a separate list with its own readers and writers; the
// test_ twins hold test data for trying an integration out.
var Environments = map[string]string{
	"industry":                       "https://report.cybertip.org/hashsharing",
	"industry_exploitative":          "https://report.cybertip.org/exploitative-hashsharing",
	"law_enforcement":                "https://lesp.ncmec.org/csam-hashsharing",
	"ngo":                            "https://hashsharing.ncmec.org/npo",
	"exploitative":                   "https://hashsharing.ncmec.org/exploitative",
	"ngo_generative_ai":              "https://hashsharing.ncmec.org/generative-ai-csam",
	"ngo_generative_ai_exploitative": "https://hashsharing.ncmec.org/generative-ai-exploitative",

	"test_industry":                       "https://exttest.cybertip.org/hashsharing",
	"test_industry_exploitative":          "https://exttest.cybertip.org/exploitative-hashsharing",
	"test_law_enforcement":                "https://betalesp.ncmec.org/csam-hashsharing",
	"test_ngo":                            "https://hashsharing-test.ncmec.org/npo",
	"test_exploitative":                   "https://hashsharing-test.ncmec.org/exploitative",
	"test_ngo_generative_ai":              "https://hashsharing-test.ncmec.org/generative-ai-csam",
	"test_ngo_generative_ai_exploitative": "https://hashsharing-test.ncmec.org/generative-ai-exploitative",
}

// MaxPage bounds a page of entries: 1,000 entries with their feedback are
// a few megabytes.
const MaxPage = 32 << 20

// Client talks to one NCMEC environment.
type Client struct {
	Base               *url.URL // the environment's URL, without /v2
	Username, Password string
	HTTP               *exchange.HTTP
}

// New returns a client for an environment's base URL (see Environments).
func New(base, username, password string, h *exchange.HTTP) (*Client, error) {
	u, err := exchange.CheckURL(strings.TrimRight(base, "/"))
	if err != nil {
		return nil, err
	}
	if username == "" || password == "" {
		return nil, fmt.Errorf("ncmec %s: username and password are both needed", u)
	}
	if h == nil {
		h = &exchange.HTTP{}
	}
	if h.MaxBody == 0 {
		c := *h
		c.MaxBody = MaxPage
		h = &c
	}
	return &Client{Base: u, Username: username, Password: password, HTTP: h}, nil
}

// Config builds a Fetcher from an exchange's configuration: setting
// "environment" (a key of Environments) or "url" (another server speaking
// the API, such as a test double), credentials "username" and "password".
func Config(cfg exchange.Config, h *exchange.HTTP) (*Fetcher, error) {
	if err := cfg.Only([]string{"environment", "url", "negative_reason"}, []string{"username", "password"}); err != nil {
		return nil, err
	}
	base := cfg.Setting("url", "")
	if env := cfg.Setting("environment", ""); env != "" {
		if base != "" {
			return nil, fmt.Errorf("exchange %q: set environment or url, not both", cfg.Name)
		}
		if base = Environments[env]; base == "" {
			names := make([]string, 0, len(Environments))
			for n := range Environments {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("exchange %q: unknown environment %q: want one of %s", cfg.Name, exchange.Clip(env), strings.Join(names, ", "))
		}
	}
	if base == "" {
		return nil, fmt.Errorf("exchange %q: no environment", cfg.Name)
	}
	user, err := cfg.Credential("username")
	if err != nil {
		return nil, err
	}
	pass, err := cfg.Credential("password")
	if err != nil {
		return nil, err
	}
	c, err := New(base, user, pass, h)
	if err != nil {
		return nil, fmt.Errorf("exchange %q: %w", cfg.Name, err)
	}
	return &Fetcher{Client: c, NegativeReason: cfg.Setting("negative_reason", "")}, nil
}

func (c *Client) get(ctx context.Context, pathAndQuery string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base.String()+pathAndQuery, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Accept", "application/xml")
	return c.HTTP.Do(ctx, req)
}

// Member is an NCMEC member (an ESP, an NGO).
type Member struct {
	ID   int64
	Name string
}

// Status asks who the credentials belong to: a cheap check that they work.
func (c *Client) Status(ctx context.Context) (Member, error) {
	body, err := c.get(ctx, "/v2/status")
	if err != nil {
		return Member{}, err
	}
	var s statusDoc
	if err := decode(body, &s); err != nil {
		return Member{}, fmt.Errorf("GET %s/v2/status: %w", c.Base, err)
	}
	id, err := strconv.ParseInt(strings.TrimSpace(s.Member.ID), 10, 64)
	if err != nil {
		return Member{}, fmt.Errorf("GET %s/v2/status: member id %q is not a number", c.Base, exchange.Clip(s.Member.ID))
	}
	return Member{ID: id, Name: strings.TrimSpace(s.Member.Name)}, nil
}

// entries reads one page: the first of a window, or the one a <next> link
// names. The link must stay on /v2/entries of this server: it comes from
// upstream, and the request carries our credentials.
func (c *Client) entries(ctx context.Context, from, to time.Time, next string) (page, error) {
	q := next
	if q == "" {
		v := url.Values{"from": {formatTime(from)}, "to": {formatTime(to)}}
		q = "/v2/entries?" + v.Encode()
	} else if !strings.HasPrefix(q, "/v2/entries?") {
		return page{}, &exchange.PermanentError{Err: fmt.Errorf("paging link %q: not a /v2/entries link of this server", exchange.Clip(q))}
	}
	body, err := c.get(ctx, q)
	if err != nil {
		return page{}, err
	}
	p, err := parseEntries(body)
	if err != nil {
		return page{}, fmt.Errorf("GET %s%s: %w", c.Base, q, err)
	}
	return p, nil
}

// position is a Checkpoint's Position: the window being read and the link
// to its next page, or only From when no window is open.
type position struct {
	From int64  `json:"from"`           // Unix seconds; the window's start
	To   int64  `json:"to,omitempty"`   // its end, while one is open
	Next string `json:"next,omitempty"` // the next page of the open window
	At   int64  `json:"at,omitempty"`   // when Next was received
}

// Fetcher is the exchange.Fetcher of an NCMEC environment.
type Fetcher struct {
	Client *Client
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Lag keeps a window's end this far behind now, so entries written
	// while a window is read fall in the next; 0: 5 s.
	Lag time.Duration
	// NegativeReason is the GUID of NCMEC's reason (Client.Reasons) sent
	// with negative feedback; setting "negative_reason". Without it, a
	// rejected match sends no feedback (NCMEC requires a reason).
	NegativeReason string
}

var _ exchange.FeedbackSender = (*Fetcher)(nil)

// SendFeedback implements exchange.FeedbackSender: affirmative for a
// confirmed match, negative with NegativeReason for a rejected one.
func (f *Fetcher) SendFeedback(ctx context.Context, fb exchange.Feedback) error {
	t, err := FingerprintOf(fb.Kind)
	if err != nil {
		return &exchange.PermanentError{Err: err}
	}
	v := Feedback{Affirmative: fb.Confirmed}
	if !fb.Confirmed {
		if f.NegativeReason == "" {
			return &exchange.PermanentError{Err: fmt.Errorf("negative feedback on %s needs the setting negative_reason (a reason GUID from NCMEC's feedback reasons)", fb.RecordID)}
		}
		v.ReasonIDs = []string{f.NegativeReason}
	}
	return f.Client.SendFeedback(ctx, fb.RecordID, t, v)
}

// LinkLife is how long a <next> link is trusted after it was received: a
// checkpoint older than that restarts its window from the start (which
// re-reads it, changing nothing already applied) rather than follow a link
// upstream may have expired.
const LinkLife = 12 * time.Hour

// Fetch implements exchange.Fetcher.
func (f *Fetcher) Fetch(ctx context.Context, from exchange.Checkpoint, emit func(exchange.Page) error) error {
	var pos position
	if err := exchange.ReadPosition(from, &pos); err != nil {
		return err
	}
	now := f.now()
	if pos.Next != "" && now.Sub(time.Unix(pos.At, 0)) > LinkLife {
		pos.Next, pos.At = "", 0 // restart the open window
	}
	if pos.To == 0 {
		lag := f.Lag
		if lag <= 0 {
			lag = 5 * time.Second
		}
		pos.To = now.Add(-lag).Unix()
		if pos.To <= pos.From {
			return nil // nothing new can be complete yet
		}
	}
	for {
		p, err := f.Client.entries(ctx, time.Unix(pos.From, 0), time.Unix(pos.To, 0), pos.Next)
		if err != nil {
			return err
		}
		if p.Next == "" {
			// The window is exhausted: only now may its end become the start.
			pos = position{From: pos.To}
		} else {
			pos.Next, pos.At = p.Next, f.now().Unix()
		}
		p.Checkpoint = exchange.PositionOf(pos)
		if err := emit(p.Page); err != nil {
			return err
		}
		if pos.To == 0 {
			return nil
		}
	}
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// SplitID splits a record ID ("{member}-{id}", the entries' ExternalID)
// into the member and entry id that Feedback needs.
func SplitID(recordID string) (member int64, entryID string, err error) {
	m, id, ok := strings.Cut(recordID, "-")
	if ok && isDigits(m) && id != "" {
		n, err := strconv.ParseInt(m, 10, 64)
		return n, id, err
	}
	return 0, "", fmt.Errorf("%q is not an NCMEC record id (member-id)", exchange.Clip(recordID))
}

// FingerprintType is a fingerprint as feedback names it.
type FingerprintType string

// The fingerprint types feedback may be given on.
const (
	FingerprintMD5  FingerprintType = "MD5"
	FingerprintSHA1 FingerprintType = "SHA1"
	FingerprintPDNA FingerprintType = "PDNA"
	FingerprintPDQ  FingerprintType = "PDQ"
	FingerprintTMK  FingerprintType = "TMK_PDQF"
)

// FingerprintOf returns the feedback type of a fingerprint kind.
func FingerprintOf(k exchange.Kind) (FingerprintType, error) {
	switch k {
	case exchange.MD5:
		return FingerprintMD5, nil
	case exchange.SHA1:
		return FingerprintSHA1, nil
	case exchange.PhotoDNA:
		return FingerprintPDNA, nil
	case exchange.PDQ:
		return FingerprintPDQ, nil
	case exchange.TMK:
		return FingerprintTMK, nil
	}
	return "", fmt.Errorf("NCMEC takes no feedback on %q fingerprints", exchange.Clip(string(k)))
}

// Feedback is a reviewer's verdict on an entry's fingerprint: Affirmative
// (it is what the list says) or not, with the GUIDs of NCMEC's reasons
// (see Reasons).
type Feedback struct {
	Affirmative bool
	ReasonIDs   []string // for negative feedback: at least one
}

type feedbackDoc struct {
	XMLName     xml.Name
	Affirmative *struct{} `xml:"affirmative"`
	Negative    *struct {
		GUIDs []string `xml:"reasonIds>guid"`
	} `xml:"negative"`
}

// SendFeedback sends feedback on one fingerprint of an entry:
// PUT {base}/v2/entries/{member}/{id}/{type}/feedback. It is what the
// server calls when reviewers confirm or reject a match on an NCMEC entry;
// recordID is the entry's ExternalID.
func (c *Client) SendFeedback(ctx context.Context, recordID string, t FingerprintType, fb Feedback) error {
	esp, id, err := SplitID(recordID)
	if err != nil {
		return err
	}
	doc := feedbackDoc{XMLName: xml.Name{Space: Namespace, Local: "feedbackSubmission"}}
	if fb.Affirmative {
		doc.Affirmative = &struct{}{}
	} else {
		if len(fb.ReasonIDs) == 0 {
			return fmt.Errorf("negative feedback on %s %s needs a reason (see Reasons)", recordID, t)
		}
		doc.Negative = &struct {
			GUIDs []string `xml:"reasonIds>guid"`
		}{GUIDs: slices.Clone(fb.ReasonIDs)}
	}
	body, err := xml.Marshal(doc)
	if err != nil {
		return err
	}
	u := c.Base.JoinPath("v2", "entries", strconv.FormatInt(esp, 10), id, string(t), "feedback")
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	_, err = c.HTTP.Do(ctx, req) // a PUT of the same verdict is idempotent: safe to retry
	return err
}

// reasonsDoc is the answer of GET /v2/feedback/{type}/reasons; only its
// <availableFeedbackReasons> child matters.
type reasonsDoc struct {
	XMLName xml.Name
	Reasons []struct {
		GUID string `xml:"guid,attr"`
		Name string `xml:"name,attr"`
	} `xml:"availableFeedbackReasons>reason"`
}

// Reason is one of NCMEC's reasons for negative feedback.
type Reason struct{ GUID, Name string }

// Reasons lists the reasons negative feedback on a fingerprint type may
// give: GET {base}/v2/feedback/{type}/reasons.
func (c *Client) Reasons(ctx context.Context, t FingerprintType) ([]Reason, error) {
	p := "/v2/feedback/" + url.PathEscape(string(t)) + "/reasons"
	body, err := c.get(ctx, p)
	if err != nil {
		return nil, err
	}
	var d reasonsDoc
	if err := decode(body, &d); err != nil {
		return nil, fmt.Errorf("GET %s%s: %w", c.Base, p, err)
	}
	var out []Reason
	for _, r := range d.Reasons {
		out = append(out, Reason{GUID: r.GUID, Name: r.Name})
	}
	return out, nil
}
