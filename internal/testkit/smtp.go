package testkit

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
)

// Mail is one message an SMTPSink received.
type Mail struct {
	From string
	To   []string
	Data string // headers and body as sent, dot-stuffing undone
}

// SMTPSink is a tiny SMTP server on loopback that keeps every message it
// is sent: enough of RFC 5321 (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
// QUIT) for net/smtp, without STARTTLS or authentication.
type SMTPSink struct {
	Addr string
	mu   sync.Mutex
	mail []Mail
}

// NewSMTPSink starts a sink, closed when t ends.
func NewSMTPSink(t testing.TB) *SMTPSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPSink{Addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

// Mail returns the messages received so far.
func (s *SMTPSink) Mail() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

func (s *SMTPSink) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(line string) { c.Write([]byte(line + "\r\n")) }
	say("220 sink ESMTP")
	var m Mail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(verb, "EHLO"):
			say("250-sink")
			say("250 8BITMIME")
		case strings.HasPrefix(verb, "HELO"), strings.HasPrefix(verb, "NOOP"):
			say("250 ok")
		case strings.HasPrefix(verb, "RSET"):
			m = Mail{}
			say("250 ok")
		case strings.HasPrefix(verb, "MAIL FROM:"):
			m = Mail{From: strings.Trim(line[len("MAIL FROM:"):], "<> ")}
			say("250 ok")
		case strings.HasPrefix(verb, "RCPT TO:"):
			m.To = append(m.To, strings.Trim(line[len("RCPT TO:"):], "<> "))
			say("250 ok")
		case verb == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = b.String()
			s.mu.Lock()
			s.mail = append(s.mail, m)
			s.mu.Unlock()
			say("250 kept")
		case verb == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}
