// Package cybertip sends law-enforcement reports through the CyberTipline's
// HTTP reporting flow: /submit the report XML and get a report id, /upload
// each file and get a file id, /fileinfo its details, /finish; or /retract
// to cancel a report not yet finished.
//
// API is that flow; Client speaks it over HTTP with basic authentication.
// Submitter drives a stored report through it, recording each step in the
// store as it goes, so a submission cut short (a crash, a timeout) resumes
// where it stopped rather than sending a second report or a file twice.
package cybertip

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// API is the CyberTipline's reporting flow.
type API interface {
	// Submit sends a <report> document and returns the recipient's id for it.
	Submit(ctx context.Context, report []byte) (reportID string, err error)
	// Upload sends one file of the report, the size bytes of content, and
	// returns its file id. Content is streamed to the recipient, never
	// held whole; an Upload that fails has consumed it, so a retry opens
	// the file again.
	Upload(ctx context.Context, reportID, fileName string, content io.Reader, size int64) (fileID string, err error)
	// FileInfo sends the <fileDetails> document of an uploaded file.
	FileInfo(ctx context.Context, details []byte) error
	// Finish tells the recipient the report is complete.
	Finish(ctx context.Context, reportID string) error
	// Retract cancels a report that is not finished.
	Retract(ctx context.Context, reportID string) error
}

// Client is the API over HTTP. Its zero value is not usable: set BaseURL
// (e.g. "https://report.cybertip.org/ispws", or the test environment's) and
// the credentials the recipient issued.
type Client struct {
	BaseURL  string
	User     string
	Password string
	HTTP     *http.Client // http.DefaultClient if nil
}

var _ API = (*Client)(nil)

// maxResponse bounds what is read of an answer: answers are a few hundred
// bytes of XML, and a misbehaving server must not exhaust memory.
const maxResponse = 1 << 20

// APIError is an answer whose responseCode is not 0 (success).
type APIError struct {
	Op          string // submit, upload, fileinfo, finish, retract
	Code        int
	Description string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("cybertip: %s: response code %d: %s", e.Op, e.Code, e.Description)
}

// Response is what the endpoints answer, whatever the root element's name
// (reportResponse, reportDoneResponse, …).
type Response struct {
	Code        int    `xml:"responseCode"`
	Description string `xml:"responseDescription"`
	ReportID    string `xml:"reportId"`
	FileID      string `xml:"fileId"`
}

// ParseResponse reads an endpoint's XML answer. It refuses an answer
// without a responseCode, so an HTML error page or an empty body is never
// taken for success.
func ParseResponse(body []byte) (Response, error) {
	var raw struct {
		Code        *string `xml:"responseCode"`
		Description string  `xml:"responseDescription"`
		ReportID    string  `xml:"reportId"`
		FileID      string  `xml:"fileId"`
	}
	if err := xml.Unmarshal(body, &raw); err != nil {
		return Response{}, fmt.Errorf("answer is not XML: %w", err)
	}
	if raw.Code == nil {
		return Response{}, errors.New("answer has no responseCode")
	}
	var code int
	if _, err := fmt.Sscanf(strings.TrimSpace(*raw.Code), "%d", &code); err != nil {
		return Response{}, fmt.Errorf("responseCode %q is not a number", *raw.Code)
	}
	return Response{
		Code:        code,
		Description: strings.TrimSpace(raw.Description),
		ReportID:    strings.TrimSpace(raw.ReportID),
		FileID:      strings.TrimSpace(raw.FileID),
	}, nil
}

// CheckURL refuses a reporting API URL that is not https: reports carry
// the content itself and the account's password. Plain http is allowed to
// loopback only, for a test double on the same machine.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("cybertip URL %q: want an absolute https:// URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("cybertip URL %q: want https:// (plain http only to loopback, for tests)", raw)
}

// do posts the length bytes of body to op. The length is sent as the
// Content-Length (the transport fails the request if body yields another
// count), so a streamed upload is not sent chunked.
func (c *Client) do(ctx context.Context, op, contentType string, body io.Reader, length int64) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+"/"+op, body)
	if err != nil {
		return Response{}, fmt.Errorf("cybertip: %s: %w", op, err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	req.SetBasicAuth(c.User, c.Password)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("cybertip: %s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return Response{}, fmt.Errorf("cybertip: %s: reading the answer: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		// The body is not shown: it could be anything a proxy or the
		// recipient put there, and it would reach the client and the log.
		return Response{}, fmt.Errorf("cybertip: %s: HTTP %d %s (a body of %d bytes, not shown)", op, resp.StatusCode, http.StatusText(resp.StatusCode), len(b))
	}
	r, err := ParseResponse(b)
	if err != nil {
		return Response{}, fmt.Errorf("cybertip: %s: %w", op, err)
	}
	if r.Code != 0 {
		return Response{}, &APIError{Op: op, Code: r.Code, Description: snippet([]byte(r.Description))}
	}
	return r, nil
}

// snippet is the recipient's words made safe to pass on: printable
// characters only (no control characters, no escape sequences for a
// terminal reading the log), whitespace folded, at most 200 bytes.
func snippet(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(b), ""))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

func (c *Client) Submit(ctx context.Context, report []byte) (string, error) {
	r, err := c.do(ctx, "submit", "text/xml; charset=utf-8", bytes.NewReader(report), int64(len(report)))
	if err != nil {
		return "", err
	}
	if r.ReportID == "" {
		return "", errors.New("cybertip: submit: success without a reportId")
	}
	return r.ReportID, nil
}

// Upload sends a multipart form (id, then file) whose file part is
// content itself: the form's head and tail are a few hundred bytes made
// beforehand, and the content goes from its reader to the connection, so
// uploading a video holds the transport's buffers, not the video. A
// failure reading content fails the request before its body is complete:
// the recipient never has a whole form with part of the file.
func (c *Client) Upload(ctx context.Context, reportID, fileName string, content io.Reader, size int64) (string, error) {
	if size < 0 {
		return "", fmt.Errorf("cybertip: upload %s: a size of %d bytes", fileName, size)
	}
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	if err := w.WriteField("id", reportID); err != nil {
		return "", err
	}
	if _, err := w.CreateFormFile("file", fileName); err != nil {
		return "", err
	}
	n := form.Len()
	if err := w.Close(); err != nil { // the closing boundary, which follows the file
		return "", err
	}
	head, tail := form.Bytes()[:n], form.Bytes()[n:]
	body := io.MultiReader(bytes.NewReader(head), content, bytes.NewReader(tail))
	r, err := c.do(ctx, "upload", w.FormDataContentType(), body, int64(len(head))+size+int64(len(tail)))
	if err != nil {
		return "", err
	}
	if r.FileID == "" {
		return "", errors.New("cybertip: upload: success without a fileId")
	}
	return r.FileID, nil
}

func (c *Client) FileInfo(ctx context.Context, details []byte) error {
	_, err := c.do(ctx, "fileinfo", "text/xml; charset=utf-8", bytes.NewReader(details), int64(len(details)))
	return err
}

func (c *Client) Finish(ctx context.Context, reportID string) error {
	return c.postID(ctx, "finish", reportID)
}

func (c *Client) Retract(ctx context.Context, reportID string) error {
	return c.postID(ctx, "retract", reportID)
}

// postID posts a form holding the report id, as /finish and /retract take it.
func (c *Client) postID(ctx context.Context, op, reportID string) error {
	form := url.Values{"id": {reportID}}.Encode()
	_, err := c.do(ctx, op, "application/x-www-form-urlencoded", strings.NewReader(form), int64(len(form)))
	return err
}

// now is time.Now, or a test's clock.
func now(f func() time.Time) time.Time {
	if f != nil {
		return f()
	}
	return time.Now()
}
