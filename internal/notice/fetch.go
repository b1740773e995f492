package notice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Fetched is what a fetch of a URL got: the status, the URL that answered
// after redirects, and at most the fetcher's MaxBytes of the body.
type Fetched struct {
	Status   int
	FinalURL string
	Body     []byte
	// Truncated: the body was longer than MaxBytes; Body is its start.
	Truncated bool
}

// Fetcher fetches a notice's URL.
type Fetcher interface {
	Fetch(ctx context.Context, rawURL string) (Fetched, error)
}

// Safe fetches with bounds: a time limit for the whole fetch, a size
// limit on the body, at most MaxRedirects redirects, and every address it
// connects to, the first and each redirect's, checked against Policy
// (webhook's target policy: no loopback, private, link-local or metadata
// addresses unless Policy.Allow names them), at the dial itself, so DNS
// rebinding cannot move it inside. The URL it fetches is a host's, chosen
// by whoever registered the notice.
type Safe struct {
	Policy       webhook.Policy
	Timeout      time.Duration // whole fetch; 0: 30 s
	MaxBytes     int64         // of the body read; 0: 32 MiB
	MaxRedirects int           // 0: 5
	// UserAgent is sent with every fetch; empty: "Safeguard-notice-check".
	UserAgent string

	client *http.Client
}

// Defaults of Safe.
const (
	DefaultFetchTimeout = 30 * time.Second
	DefaultMaxBytes     = 32 << 20
	DefaultRedirects    = 5
)

// ErrTooManyRedirects is the error of a fetch redirected more than
// MaxRedirects times.
var ErrTooManyRedirects = errors.New("too many redirects")

func (s *Safe) init() {
	if s.client != nil {
		return
	}
	redirects := s.MaxRedirects
	if redirects == 0 {
		redirects = DefaultRedirects
	}
	tr := &http.Transport{
		DialContext:           s.Policy.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 20 * time.Second,
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		DisableCompression:    true, // the body's hash is of what the host serves
	}
	s.client = &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > redirects {
			return ErrTooManyRedirects
		}
		// Refused by scheme or name before any connection; the dial
		// checks the address.
		return webhook.CheckURL(req.Context(), req.URL.String(), s.Policy)
	}}
}

// Fetch implements Fetcher. Refused targets and failures to connect are
// errors; any HTTP answer is not.
func (s *Safe) Fetch(ctx context.Context, rawURL string) (Fetched, error) {
	s.init()
	timeout := s.Timeout
	if timeout == 0 {
		timeout = DefaultFetchTimeout
	}
	max := s.MaxBytes
	if max == 0 {
		max = DefaultMaxBytes
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := webhook.CheckURL(ctx, rawURL, s.Policy); err != nil {
		return Fetched{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Fetched{}, err
	}
	ua := s.UserAgent
	if ua == "" {
		ua = "Safeguard-notice-check"
	}
	req.Header.Set("User-Agent", ua)
	resp, err := s.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return Fetched{}, fmt.Errorf("fetch: timed out after %s", timeout)
		}
		return Fetched{}, err
	}
	defer resp.Body.Close()
	f := Fetched{Status: resp.StatusCode, FinalURL: resp.Request.URL.String()}
	f.Body, err = io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return f, fmt.Errorf("fetch: reading the body: %w", err)
	}
	if int64(len(f.Body)) > max {
		f.Body, f.Truncated = f.Body[:max], true
	}
	return f, nil
}
