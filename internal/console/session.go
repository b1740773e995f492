package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/forwarded"
)

const (
	cookieName    = "sg_console"
	preCookieName = "sg_console_signin" // the sign-in form's CSRF token, before there is a session
	cookiePath    = "/console/"
)

// session is one signed-in person. It lives only in this process's
// memory: the cookie holds a random id and nothing else.
type session struct {
	id     string
	secret string // the API key, to call the API as its holder; never sent back to the browser
	key    auth.Key
	csrf   string
	start  time.Time
	// breakAt is when the reminder to take a break shows: BreakAfter after
	// sign-in, and BreakAfter after each time it is put off.
	breakAt time.Time

	mu   sync.Mutex
	seen time.Time
	// content is the evidence items each case page offered, by case id:
	// content is served only for a case the person opened, and only the
	// items that page showed.
	content map[int64][]string
}

func (s *session) offered(caseID int64, item string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.content[caseID] {
		if id == item {
			return true
		}
	}
	return false
}

func (s *session) offer(caseID int64, items []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.content == nil {
		s.content = map[int64][]string{}
	}
	s.content[caseID] = items
}

// sessions is the server-side session table. A restart signs everyone
// out, which is the safe direction for a tool that shows abuse material.
type sessions struct {
	idle, max time.Duration
	mu        sync.Mutex
	byID      map[string]*session
}

func newSessions(idle, max time.Duration) *sessions {
	return &sessions{idle: idle, max: max, byID: map[string]*session{}}
}

func (ss *sessions) create(secret string, k auth.Key, now time.Time, breakAfter time.Duration) *session {
	s := &session{id: randomToken(), secret: secret, key: k, csrf: randomToken(), start: now, seen: now, breakAt: now.Add(breakAfter)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	// Sessions are few (one per reviewer at work), so a sweep at each
	// sign-in keeps the table from holding the expired ones for long.
	for id, old := range ss.byID {
		if ss.expired(old, now) {
			delete(ss.byID, id)
		}
	}
	ss.byID[s.id] = s
	return s
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Sub(s.seen) >= ss.idle || now.Sub(s.start) >= ss.max
}

// get returns the live session id names, marking it used.
func (ss *sessions) get(id string, now time.Time) (*session, bool) {
	ss.mu.Lock()
	s, ok := ss.byID[id]
	ss.mu.Unlock()
	if !ok {
		return nil, false
	}
	if ss.expired(s, now) {
		ss.end(id)
		return nil, false
	}
	s.mu.Lock()
	s.seen = now
	s.mu.Unlock()
	return s, true
}

func (ss *sessions) end(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, id)
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand's contract)
	return hex.EncodeToString(b[:])
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: forwarded.Secure(r) || c.cfg.SecureCookies, SameSite: http.SameSiteStrictMode,
	})
}

// sameOrigin refuses a POST whose Origin names another site. SameSite
// cookies and the CSRF token already stop forged forms; this is the
// third lock, and it costs nothing. Browsers send Origin on every POST.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

var errCSRF = errors.New("the form's security token is missing or stale: reload the page and try again")

// session wraps a page that needs a signed-in person; a POST must carry
// the session's CSRF token (form field csrf, or header X-CSRF-Token for
// the script's requests). With review set, the key must be allowed to
// decide and see content (permission review), not only read.
func (c *Console) session(h func(http.ResponseWriter, *http.Request, *session), review bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := c.cfg.Now()
		var s *session
		if ck, err := r.Cookie(cookieName); err == nil {
			s, _ = c.sessions.get(ck.Value, now)
		}
		if s != nil {
			// The key is checked again on every request: revoking it in
			// the API ends the console session too.
			// (A key's role never changes, so the session's copy stands.)
			_, err := auth.Authenticate(r.Context(), c.cfg.Keys, s.secret)
			switch {
			case errors.Is(err, auth.ErrRevoked), errors.Is(err, auth.ErrUnknown), errors.Is(err, auth.ErrMalformed):
				c.log.Info("console: session ended: key no longer valid", "key", s.key.ID, "err", err)
				c.sessions.end(s.id)
				s = nil
			case err != nil:
				// The store failed, not the key: the session stands.
				c.log.Error("console: checking a session's key", "key", s.key.ID, "err", err)
				c.fail(w, r, s, http.StatusInternalServerError, "The server could not check your key; its log has the details. Try again shortly.")
				return
			}
		}
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.fail(w, r, nil, http.StatusUnauthorized, "You are not signed in, or your session has ended. Sign in again.")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			var mbe *http.MaxBytesError
			if err := r.ParseForm(); errors.As(err, &mbe) {
				c.fail(w, r, s, http.StatusRequestEntityTooLarge, "The form is larger than the console takes; shorten the reason.")
				return
			}
			token := r.Header.Get("X-CSRF-Token")
			if token == "" {
				token = r.PostFormValue("csrf")
			}
			if !sameOrigin(r) || !sameToken(token, s.csrf) {
				c.fail(w, r, s, http.StatusForbidden, errCSRF.Error())
				return
			}
		}
		if review && s.key.Check(auth.Review) != nil {
			c.fail(w, r, s, http.StatusForbidden, "Your key ("+string(s.key.Role)+") may read the queues but not see content or decide: that takes a reviewer's key.")
			return
		}
		h(w, r, s)
	})
}
