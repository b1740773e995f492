package notice

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/smtp"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Message is one notice as it is sent.
type Message struct {
	Notice  Notice `json:"-"`
	Nth     int    `json:"-"` // 1 for the first notice
	Subject string `json:"-"`
	Body    string `json:"-"`
}

// Mailer sends e-mail.
type Mailer interface {
	Mail(ctx context.Context, to, subject, body string) error
}

// SMTP sends e-mail through one server: STARTTLS when the server offers
// it, PLAIN authentication when Username is set (net/smtp sends
// credentials only over TLS or to localhost). The server, sender and
// credentials are the operator's settings (the server's config file and
// SAFEGUARD_SMTP_* environment), never flags.
type SMTP struct {
	Addr     string // host:port
	From     string // the envelope and From address
	Username string
	Password string
	// Timeout bounds a whole sending; 0: 30 s.
	Timeout time.Duration
	// RequireTLS refuses a server that does not offer STARTTLS.
	RequireTLS bool
	// TLS, if set, is the STARTTLS configuration (tests trust their own
	// certificate); nil verifies the server's name.
	TLS *tls.Config
}

// Mail implements Mailer.
func (m *SMTP) Mail(ctx context.Context, to, subject, body string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("smtp %s: %w", m.Addr, err)
		}
	}()
	timeout := m.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return err
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := m.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host}
		}
		if err := c.StartTLS(cfg); err != nil {
			return err
		}
	} else if m.RequireTLS {
		return errors.New("the server does not offer STARTTLS")
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.From); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(compose(m.From, to, subject, body, time.Now())); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose is a text/plain message. The addresses were checked
// (Notice.Validate, the operator's From); the subject is Q-encoded and the
// body quoted-printable, so nothing a notice holds can add a header.
func compose(from, to, subject, body string, at time.Time) []byte {
	var id [12]byte
	rand.Read(id[:])
	domain := "safeguard.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		domain = from[i+1:]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n",
		from, to, mime.QEncoding.Encode("utf-8", subject), at.UTC().Format(time.RFC1123Z), hex.EncodeToString(id[:]), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}

// API is a host's web API or form for abuse notices: the notice is POSTed
// as JSON (apiNotice) and any 2xx answer is taken as received.
type API struct {
	URL   string `json:"url"`
	Token string `json:"-"` // sent as "Authorization: Bearer <token>" when set
}

// apiNotice is the JSON a host's API gets.
type apiNotice struct {
	Reference  string    `json:"reference"` // "notice:<id>"
	URL        string    `json:"url"`
	Category   string    `json:"category"`
	LegalBasis string    `json:"legal_basis"`
	MD5        string    `json:"md5,omitempty"`
	PDQ        string    `json:"pdq,omitempty"`
	Notice     int       `json:"notice"` // 1 for the first
	FirstSent  time.Time `json:"first_sent,omitzero"`
	Sender     string    `json:"sender"`
	Text       string    `json:"text"`
}

// Senders are the ways notices go out.
type Senders struct {
	// Mail sends notices by e-mail, to a notice's Contact and to
	// Authority; nil: e-mail notices fail (and are tried again).
	Mail Mailer
	// APIs are hosts' web APIs, by Notice.Host: such a host gets its
	// notices there rather than by e-mail.
	APIs map[string]API
	// Policy is where APIs may point (webhook's target policy).
	Policy webhook.Policy
	// Authority is the e-mail address of the regulator or authority a
	// notice is escalated to; empty: never escalated.
	Authority string

	client *http.Client
}

// post sends m to the host's API.
func (s *Senders) post(ctx context.Context, api API, m Message, org string) error {
	if s.client == nil {
		s.client = &http.Client{
			Timeout:       30 * time.Second,
			Transport:     &http.Transport{DialContext: s.Policy.DialContext, TLSHandshakeTimeout: 10 * time.Second},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if err := webhook.CheckURL(ctx, api.URL, s.Policy); err != nil {
		return err
	}
	n := m.Notice
	body, err := json.Marshal(apiNotice{Reference: fmt.Sprintf("notice:%d", n.ID), URL: n.URL, Category: string(n.Category),
		LegalBasis: n.LegalBasis, MD5: n.MD5, PDQ: pdqHex(n), Notice: m.Nth, FirstSent: n.FirstSentAt, Sender: org, Text: m.Body})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if api.Token != "" {
		req.Header.Set("Authorization", "Bearer "+api.Token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", api.URL, resp.Status)
	}
	return nil
}

func pdqHex(n Notice) string {
	if n.PDQ == nil {
		return ""
	}
	return n.PDQ.String()
}
