// Package stopncii pulls StopNCII.org's hashes — of intimate images that the
// people in them submitted so platforms can block them — and sends feedback
// on matches.
//
// FetchHashes pages by a nextPageToken from a startTimestamp; a record is
// the current state of one signal type and hash, replacing any earlier
// record of the pair. Records whose status is Withdrawn or Deleted are
// removed: the person withdrew their submission, and it must stop matching.
package stopncii

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// BaseURL is StopNCII's API.
const BaseURL = "https://api.stopncii.org/v1"

// DefaultPageSize is the records a page asks for, as StopNCII's own client
// asks.
const DefaultPageSize = 800

// Client talks to the StopNCII API. Each endpoint has its own function key.
type Client struct {
	Base            *url.URL
	SubscriptionKey string
	FetchKey        string // x-functions-key of FetchHashes
	FeedbackKey     string // x-functions-key of SubmitFeedback; may be empty
	HTTP            *exchange.HTTP
}

// Config builds a Fetcher from an exchange's configuration: settings "url"
// (default BaseURL) and "page_size"; credentials "subscription_key",
// "fetch_key" and, to send feedback, "feedback_key".
func Config(cfg exchange.Config, h *exchange.HTTP) (*Fetcher, error) {
	if err := cfg.Only([]string{"url", "page_size"}, []string{"subscription_key", "fetch_key", "feedback_key"}); err != nil {
		return nil, err
	}
	u, err := exchange.CheckURL(strings.TrimRight(cfg.Setting("url", BaseURL), "/"))
	if err != nil {
		return nil, fmt.Errorf("exchange %q: %w", cfg.Name, err)
	}
	size, err := strconv.Atoi(cfg.Setting("page_size", strconv.Itoa(DefaultPageSize)))
	if err != nil || size < 1 || size > 10_000 {
		return nil, fmt.Errorf("exchange %q: page_size %q: want 1 to 10000", cfg.Name, cfg.Setting("page_size", ""))
	}
	sub, err := cfg.Credential("subscription_key")
	if err != nil {
		return nil, err
	}
	fetch, err := cfg.Credential("fetch_key")
	if err != nil {
		return nil, err
	}
	if h == nil {
		h = &exchange.HTTP{}
	}
	c := &Client{Base: u, SubscriptionKey: sub, FetchKey: fetch, FeedbackKey: cfg.Credentials["feedback_key"], HTTP: h}
	return &Fetcher{Client: c, PageSize: size}, nil
}

func (c *Client) do(ctx context.Context, method, endpoint, key string, q url.Values, body []byte) ([]byte, error) {
	if key == "" {
		return nil, &exchange.PermanentError{Err: fmt.Errorf("stopncii %s: no function key configured for it", endpoint)}
	}
	u := c.Base.JoinPath(endpoint)
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", c.SubscriptionKey)
	req.Header.Set("x-functions-key", key)
	return c.HTTP.Do(ctx, req)
}

// response is the JSON of FetchHashes. Records are decoded one by one, so
// one record upstream changed the shape of cannot fail a whole page.
type response struct {
	Count            int               `json:"count"`
	NextPageToken    *string           `json:"nextPageToken"`
	NextSetTimestamp int64             `json:"nextSetTimestamp"`
	HasMoreRecords   bool              `json:"hasMoreRecords"`
	HashRecords      []json.RawMessage `json:"hashRecords"`
}

type hashRecord struct {
	LastModTimestamp int64             `json:"lastModtimestamp"`
	SignalType       string            `json:"signalType"`
	HashValue        string            `json:"hashValue"`
	HashStatus       string            `json:"hashStatus"`
	CaseNumbers      map[string]string `json:"caseNumbers"`
	CSPFeedbacks     []struct {
		FeedbackValue string   `json:"feedbackValue"`
		Tags          []string `json:"tags"`
		Source        string   `json:"source"`
	} `json:"CSPFeedbacks"`
}

// Signal types as StopNCII names them.
const (
	ImagePDQ = "ImagePDQ"
	VideoMD5 = "VideoMD5"
	VideoTMK = "VideoTMK"
)

func kindOf(signalType string) exchange.Kind {
	switch signalType {
	case ImagePDQ:
		return exchange.PDQ
	case VideoMD5:
		return exchange.MD5
	case VideoTMK:
		return exchange.TMK
	}
	return exchange.Kind("stopncii:" + signalType)
}

// SignalType is the inverse of the mapping a fetch applies: StopNCII's name
// for a fingerprint kind, for feedback.
func SignalType(k exchange.Kind) (string, error) {
	switch k {
	case exchange.PDQ:
		return ImagePDQ, nil
	case exchange.MD5:
		return VideoMD5, nil
	case exchange.TMK:
		return VideoTMK, nil
	}
	return "", fmt.Errorf("StopNCII has no signal type for %q", exchange.Clip(string(k)))
}

// parsePage reads a FetchHashes answer. A body that is not the answer's
// JSON is an error; a record that cannot be read is skipped and noted.
func parsePage(body []byte) (response, exchange.Page, error) {
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		return r, exchange.Page{}, fmt.Errorf("not a FetchHashes answer: %v", err)
	}
	var p exchange.Page
	for i, raw := range r.HashRecords {
		var h hashRecord
		if err := json.Unmarshal(raw, &h); err != nil {
			p.Skip("record %d: %v", i+1, err)
			continue
		}
		rec, err := h.record()
		if err != nil {
			p.Skip("record %d: %v", i+1, err)
			continue
		}
		p.Records = append(p.Records, rec)
	}
	return r, p, nil
}

// record turns a hash record into a record whose ID is "signalType:hash",
// the pair StopNCII keys its records by.
func (h hashRecord) record() (exchange.Record, error) {
	if h.SignalType == "" || h.HashValue == "" {
		return exchange.Record{}, fmt.Errorf("no signalType or hashValue")
	}
	if len(h.SignalType) > 64 {
		return exchange.Record{}, fmt.Errorf("signalType %q is not a name", exchange.Clip(h.SignalType))
	}
	rec := exchange.Record{ID: h.SignalType + ":" + h.HashValue}
	switch h.HashStatus {
	case "Withdrawn", "Deleted":
		// The status of the record itself, not of its hash value (which
		// python-threatexchange compares, so it never removes a hash).
		rec.Deleted = true
		return rec, nil
	case "Received", "Active":
	default:
		return exchange.Record{}, fmt.Errorf("%s: unknown hashStatus %q", exchange.Clip(rec.ID), exchange.Clip(h.HashStatus))
	}
	cases := make([]string, 0, len(h.CaseNumbers))
	for c := range h.CaseNumbers {
		cases = append(cases, c)
	}
	slices.Sort(cases)
	rec.Note = "StopNCII cases: " + strings.Join(cases, ", ")
	rec.Fingerprints = []exchange.Fingerprint{{Kind: kindOf(h.SignalType), Value: h.HashValue}}
	return rec, nil
}

// position is a Checkpoint's Position.
type position struct {
	Start int64  `json:"start"`           // startTimestamp of the fetch under way, or of the next
	Token string `json:"token,omitempty"` // nextPageToken, while paging
	At    int64  `json:"at,omitempty"`    // when Token was received
	Set   int64  `json:"set,omitempty"`   // the last page's nextSetTimestamp
}

// TokenLife is how long a nextPageToken is trusted: StopNCII says they do
// not last long. An older one restarts the fetch from its startTimestamp,
// re-reading pages already applied, which changes nothing.
const TokenLife = time.Hour

// DefaultStart is the startTimestamp of a first fetch, as StopNCII's own
// client uses.
const DefaultStart = 10

// Fetcher is the exchange.Fetcher of StopNCII.
type Fetcher struct {
	Client   *Client
	PageSize int
	Now      func() time.Time // nil: time.Now
}

var _ exchange.FeedbackSender = (*Fetcher)(nil)

// SendFeedback implements exchange.FeedbackSender: Blocked for a confirmed
// match, NotBlocked for a rejected one.
func (f *Fetcher) SendFeedback(ctx context.Context, fb exchange.Feedback) error {
	v := NotBlocked
	if fb.Confirmed {
		v = Blocked
	}
	return f.Client.SubmitFeedback(ctx, []Feedback{{Kind: fb.Kind, Value: fb.Value, Verdict: v}})
}

// Fetch implements exchange.Fetcher.
func (f *Fetcher) Fetch(ctx context.Context, from exchange.Checkpoint, emit func(exchange.Page) error) error {
	pos := position{Start: DefaultStart}
	if err := exchange.ReadPosition(from, &pos); err != nil {
		return err
	}
	if pos.Token != "" && f.now().Sub(time.Unix(pos.At, 0)) > TokenLife {
		pos.Token, pos.At = "", 0
	}
	size := f.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	for {
		q := url.Values{"startTimestamp": {strconv.FormatInt(pos.Start, 10)}, "pageSize": {strconv.Itoa(size)}}
		if pos.Token != "" {
			q.Set("nextPageToken", pos.Token)
		}
		body, err := f.Client.do(ctx, http.MethodGet, "FetchHashes", f.Client.FetchKey, q, nil)
		if err != nil {
			return err
		}
		r, p, err := parsePage(body)
		if err != nil {
			return fmt.Errorf("GET %s/FetchHashes (startTimestamp %d): %w", f.Client.Base, pos.Start, err)
		}
		pos.Set = max(pos.Set, r.NextSetTimestamp)
		more := r.HasMoreRecords && r.NextPageToken != nil && *r.NextPageToken != ""
		if more && *r.NextPageToken == pos.Token {
			return fmt.Errorf("GET %s/FetchHashes: the same nextPageToken again: upstream is not advancing", f.Client.Base)
		}
		if more {
			pos.Token, pos.At = *r.NextPageToken, f.now().Unix()
		} else {
			// Played out: the next fetch asks for what changed since.
			pos = position{Start: max(pos.Start, pos.Set)}
		}
		p.Checkpoint = exchange.PositionOf(pos)
		if err := emit(p); err != nil {
			return err
		}
		if !more {
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

// Feedback values a platform reports on a hash.
const (
	Blocked       = "Blocked"       // reviewed: it is NCII, and blocked
	NotBlocked    = "NotBlocked"    // reviewed: inconclusive, not blocked
	PendingReview = "PendingReview" // matched, not yet reviewed
)

// Feedback is a platform's verdict on one hash.
type Feedback struct {
	Kind    exchange.Kind // the fingerprint's kind: pdq, md5, tmk
	Value   string        // the hash, as StopNCII sent it
	Verdict string        // Blocked, NotBlocked, PendingReview
	Tags    []string
}

type feedbackJSON struct {
	HashValue     string   `json:"hashValue"`
	SignalType    string   `json:"signalType"`
	FeedbackValue string   `json:"feedbackValue"`
	Tags          []string `json:"tags"`
}

// SubmitFeedback sends verdicts on hashes: POST {base}/SubmitFeedback. It
// is what the server calls when reviewers confirm or reject a match on a
// StopNCII hash. Signal types are sent by their StopNCII names.
func (c *Client) SubmitFeedback(ctx context.Context, fbs []Feedback) error {
	out := struct {
		Count         int            `json:"count"`
		HashFeedbacks []feedbackJSON `json:"hashFeedbacks"`
	}{Count: len(fbs)}
	for _, fb := range fbs {
		st, err := SignalType(fb.Kind)
		if err != nil {
			return err
		}
		switch fb.Verdict {
		case Blocked, NotBlocked, PendingReview:
		default:
			return fmt.Errorf("feedback on %s %s: unknown verdict %q: want Blocked, NotBlocked or PendingReview", st, fb.Value, exchange.Clip(fb.Verdict))
		}
		tags := fb.Tags
		if tags == nil {
			tags = []string{}
		}
		out.HashFeedbacks = append(out.HashFeedbacks, feedbackJSON{HashValue: fb.Value, SignalType: st, FeedbackValue: fb.Verdict, Tags: tags})
	}
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPost, "SubmitFeedback", c.FeedbackKey, nil, body)
	return err
}
