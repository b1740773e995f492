package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// HTTP is the client every format uses to talk upstream: it bounds the time
// and size of each response, retries what may succeed later (network
// errors, 429, 5xx) with exponential backoff honouring Retry-After, and
// turns 401 and 403 into ErrAuth and other refusals into permanent errors.
// The zero value is ready to use.
type HTTP struct {
	Client  *http.Client  // nil: one with Timeout
	Timeout time.Duration // per attempt; 0: 60 s
	// MaxBody bounds a response body; 0: 64 MiB. A longer body is an error,
	// not a truncated page.
	MaxBody int64
	// Attempts bounds tries per request; 0: 5.
	Attempts int
	// Backoff is the first wait between attempts, doubled each time up to
	// MaxWait; 0: 1 s. MaxWait also caps a Retry-After; 0: 5 min.
	Backoff, MaxWait time.Duration
	// Sleep waits d or until ctx ends; nil: a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultMaxBody is HTTP's bound on a response body when MaxBody is 0.
const DefaultMaxBody = 64 << 20

// StatusError is an upstream answer other than 2xx.
type StatusError struct {
	Method, URL string
	Code        int
	Body        string // the start of the body, for the error message
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Unwrap lets errors.Is(err, ErrAuth) find a refusal of credentials.
func (e *StatusError) Unwrap() error {
	if e.Code == http.StatusUnauthorized || e.Code == http.StatusForbidden {
		return ErrAuth
	}
	return nil
}

// Retryable reports whether the same request may succeed later.
func (e *StatusError) Retryable() bool {
	return e.Code == http.StatusTooManyRequests || e.Code >= 500
}

// Do sends req and returns the body of a 2xx answer. A request with a body
// must have GetBody (http.NewRequest sets it for in-memory bodies) so it
// can be resent.
func (h *HTTP) Do(ctx context.Context, req *http.Request) ([]byte, error) {
	body, _, err := h.DoHeader(ctx, req)
	return body, err
}

// DoHeader is Do, also returning the answer's header (a signature in it).
func (h *HTTP) DoHeader(ctx context.Context, req *http.Request) ([]byte, http.Header, error) {
	attempts := h.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	wait := h.Backoff
	if wait <= 0 {
		wait = time.Second
	}
	for i := 1; ; i++ {
		body, header, retryAfter, err := h.once(ctx, req)
		if err == nil {
			return body, header, nil
		}
		if Permanent(err) {
			return nil, nil, err
		}
		var se *StatusError
		retry := errors.As(err, &se) && se.Retryable() || isNetError(err)
		if !retry || i >= attempts || ctx.Err() != nil || (req.Body != nil && req.GetBody == nil) {
			if errors.As(err, &se) && !se.Retryable() {
				return nil, nil, &PermanentError{err}
			}
			if retry && i >= attempts {
				return nil, nil, fmt.Errorf("%w (gave up after %d attempts)", err, i)
			}
			return nil, nil, err
		}
		d := wait + rand.N(wait/4+1) // jitter, so nodes do not retry in step
		if retryAfter > 0 {
			d = retryAfter
		}
		if err := h.sleep(ctx, min(d, h.maxWait())); err != nil {
			return nil, nil, err
		}
		wait = min(2*wait, h.maxWait())
	}
}

func (h *HTTP) maxWait() time.Duration {
	if h.MaxWait > 0 {
		return h.MaxWait
	}
	return 5 * time.Minute
}

func (h *HTTP) sleep(ctx context.Context, d time.Duration) error {
	if h.Sleep != nil {
		return h.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// once makes one attempt; retryAfter is what a 429 or 503 asked for.
func (h *HTTP) once(ctx context.Context, req *http.Request) (body []byte, header http.Header, retryAfter time.Duration, err error) {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := req.Clone(ctx)
	if req.GetBody != nil {
		if r.Body, err = req.GetBody(); err != nil {
			return nil, nil, 0, err
		}
	}
	client := h.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(r)
	if err != nil {
		return nil, nil, 0, err
	}
	defer resp.Body.Close()
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s %s: reading the answer: %w", req.Method, redact(req.URL), err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			&StatusError{Method: req.Method, URL: redact(req.URL), Code: resp.StatusCode, Body: Clip(string(body))}
	}
	if int64(len(body)) > limit {
		return nil, nil, 0, &PermanentError{fmt.Errorf("%s %s: answer longer than %d bytes", req.Method, redact(req.URL), limit)}
	}
	return body, resp.Header, 0, nil
}

// defaultClient follows at most 5 redirects, each to a URL CheckURL allows:
// a list at https must not be redirected to plain http.
var defaultClient = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return &PermanentError{errors.New("more than 5 redirects")}
	}
	if _, err := CheckURL(req.URL.String()); err != nil {
		return &PermanentError{fmt.Errorf("redirected: %w", err)}
	}
	return nil
}}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		// Capped before multiplying: a huge value would overflow into a
		// negative wait. Do caps the wait at MaxWait in any case.
		return time.Duration(min(s, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// redact drops the query from a URL for messages: ThreatExchange puts its
// access token there.
func redact(u *url.URL) string {
	c := *u
	c.RawQuery, c.User = "", nil
	return c.String()
}

// CheckURL reports what is wrong with an upstream URL, if anything: it must
// be absolute https, or http to a loopback address (tests and local
// proxies), so credentials and lists never cross a network in the clear.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("url %q: %v", Clip(raw), err)
	}
	switch {
	case u.Host == "":
		return nil, fmt.Errorf("url %q: not absolute", Clip(raw))
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("url %q: want https (http only to a loopback address)", Clip(raw))
	}
	if u.User != nil {
		return nil, fmt.Errorf("url %q: credentials belong in the credentials, not the URL", redact(u))
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
