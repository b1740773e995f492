package notice

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// Defaults of a Chaser's schedule.
const (
	DefaultCheckEvery = 6 * time.Hour
	DefaultResend     = 24 * time.Hour
	DefaultDistance   = 31 // PDQ bits, the matcher's default threshold
)

// Chaser chases notices: each Step checks the URL, sends the notice when
// one is due, and escalates when the material has stayed up too long.
type Chaser struct {
	Fetch   Fetcher
	Senders *Senders
	// PDQ hashes an image a check fetched; nil compares MD5 only.
	PDQ func(ctx context.Context, b []byte) (pdq.Hash, error)
	// Org is who sends the notices, as the messages name it.
	Org string
	// CheckEvery is how often the URL is fetched (DefaultCheckEvery);
	// Resend how long after a notice the next goes while the material is
	// up (DefaultResend); EscalateAfter how long after the first notice
	// the authority is told, once (0: never); Distance the PDQ distance
	// within which fetched content is still the material.
	CheckEvery    time.Duration
	Resend        time.Duration
	EscalateAfter time.Duration
	Distance      int
	Now           func() time.Time
}

func (c *Chaser) now() time.Time {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return now().UTC().Truncate(time.Microsecond)
}

// Step does what is due about Open notice n: it checks the URL; if the
// material is gone the notice is Removed; otherwise a notice is sent if
// none was or the last is Resend old, and the authority is told once the
// first is EscalateAfter old. It returns n as changed (NextAt: the next
// check, never later than the next sending) and the events, for the
// caller to store together. Sendings are at least once: a crash before
// the store keeps the step sends again.
func (c *Chaser) Step(ctx context.Context, n Notice) (Notice, []Event) {
	now := c.now()
	var evs []Event
	check := c.check(ctx, &n, now)
	n.Checks++
	n.LastCheck = &check
	evs = append(evs, Event{Kind: Checked, At: now, Check: &check})
	if check.Gone {
		n.State, n.RemovedAt = Removed, now
		return n, append(evs, Event{Kind: Gone, At: now})
	}
	resend := cmp.Or(c.Resend, DefaultResend)
	if n.Sends == 0 || !now.Before(n.LastSentAt.Add(resend)) {
		ev := Event{Kind: Sent, At: now}
		ev.Channel, ev.To, ev.Error = c.send(ctx, n, false)
		if ev.Error == "" {
			n.Sends++
			n.LastSentAt = now
			if n.FirstSentAt.IsZero() {
				n.FirstSentAt = now
			}
		}
		evs = append(evs, ev)
	}
	if c.EscalateAfter > 0 && n.EscalatedAt.IsZero() && n.Sends > 0 && !now.Before(n.FirstSentAt.Add(c.EscalateAfter)) &&
		c.Senders != nil && c.Senders.Authority != "" {
		ev := Event{Kind: Escalated, At: now}
		ev.Channel, ev.To, ev.Error = c.send(ctx, n, true)
		if ev.Error == "" {
			n.EscalatedAt = now
		}
		evs = append(evs, ev)
	}
	n.NextAt = now.Add(cmp.Or(c.CheckEvery, DefaultCheckEvery))
	if n.Sends > 0 {
		if due := n.LastSentAt.Add(resend); due.Before(n.NextAt) {
			n.NextAt = due
		}
	}
	return n, evs
}

// check fetches n's URL and says whether the material is gone: 404 or
// 410, or a 2xx answer whose body is not the material (neither its MD5
// nor, for an image, a PDQ hash within Distance). Anything else (no
// answer, a refused address, 403, 5xx, a body over the size limit) is
// not taken as removal. A notice with no hashes takes the first 2xx
// body's MD5 as the material's.
func (c *Chaser) check(ctx context.Context, n *Notice, now time.Time) Check {
	ck := Check{At: now}
	f, err := c.Fetch.Fetch(ctx, n.URL)
	if err != nil {
		ck.Error = clipErr(err)
		return ck
	}
	ck.Status = f.Status
	if f.FinalURL != n.URL {
		ck.FinalURL = f.FinalURL
	}
	ck.Size = int64(len(f.Body))
	sum := md5.Sum(f.Body)
	sha := sha256.Sum256(f.Body)
	ck.MD5, ck.SHA256 = hex.EncodeToString(sum[:]), hex.EncodeToString(sha[:])
	switch {
	case f.Status == 404 || f.Status == 410:
		ck.Gone = true
		return ck
	case f.Status/100 != 2:
		return ck
	case f.Truncated:
		ck.Error = fmt.Sprintf("body is over the fetcher's limit of %d bytes; not compared", len(f.Body))
		return ck
	}
	if n.MD5 == "" && n.PDQ == nil {
		n.MD5 = ck.MD5
	}
	if ck.MD5 == n.MD5 {
		ck.Found = true
		return ck
	}
	if n.PDQ != nil && c.PDQ != nil {
		if h, err := c.PDQ(ctx, f.Body); err == nil {
			d := pdq.Distance(h, *n.PDQ)
			if d <= cmp.Or(c.Distance, DefaultDistance) {
				ck.Found, ck.Distance = true, d
				return ck
			}
		}
	}
	ck.Gone = true
	return ck
}

// send sends n's notice to its host (its API if one is configured, else
// e-mail to its contact), or to the authority, and says where it went or
// why it did not.
func (c *Chaser) send(ctx context.Context, n Notice, authority bool) (channel, to, failure string) {
	s := c.Senders
	if s == nil {
		s = &Senders{}
	}
	m := c.message(n, authority)
	var err error
	switch api, ok := s.APIs[n.Host]; {
	case !authority && ok:
		channel, to = "api", api.URL
		err = s.post(ctx, api, m, c.Org)
	default:
		channel, to = "email", n.Contact
		if authority {
			to = s.Authority
		}
		switch {
		case to == "":
			err = fmt.Errorf("host %s has no abuse contact and no API", n.Host)
		case s.Mail == nil:
			err = fmt.Errorf("no SMTP server is configured")
		default:
			err = s.Mail.Mail(ctx, to, m.Subject, m.Body)
		}
	}
	if err != nil {
		failure = clipErr(err)
	}
	return channel, to, failure
}

// message is the text of n's next notice, or of its escalation.
func (c *Chaser) message(n Notice, authority bool) Message {
	m := Message{Notice: n, Nth: n.Sends + 1}
	org := cmp.Or(c.Org, "Safeguard")
	var b strings.Builder
	if authority {
		m.Subject = fmt.Sprintf("Escalation: %s material still up at %s after %d notices", n.Category, n.Host, n.Sends)
		fmt.Fprintf(&b, "%s has sent %d notices to %s since %s about material (%s) at\n\n  %s\n\nwhich is still up. We ask you to act on it.\n",
			org, n.Sends, n.Host, n.FirstSentAt.Format(time.RFC3339), n.Category, n.URL)
	} else {
		m.Subject = fmt.Sprintf("Notice %d: %s material at %s", m.Nth, n.Category, n.Host)
		fmt.Fprintf(&b, "To the abuse team of %s:\n\n%s found material (%s) at\n\n  %s\n\nand asks you to remove it.\n", n.Host, org, n.Category, n.URL)
		if n.Sends > 0 {
			fmt.Fprintf(&b, "This is notice number %d; the first was sent %s. Notices are sent every day until the material is removed.\n",
				m.Nth, n.FirstSentAt.Format(time.RFC3339))
		}
	}
	fmt.Fprintf(&b, "\nLegal basis: %s\n", n.LegalBasis)
	if n.MD5 != "" {
		fmt.Fprintf(&b, "MD5 of the material as found: %s\n", n.MD5)
	}
	if n.PDQ != nil {
		fmt.Fprintf(&b, "PDQ hash of the material as found: %s\n", n.PDQ)
	}
	fmt.Fprintf(&b, "Reference: notice:%d\n", n.ID)
	m.Body = b.String()
	return m
}

// clipErr is an error's text, bounded for an event.
func clipErr(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}
