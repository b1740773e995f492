package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/forwarded"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/request"
	sess "github.com/safeguard-oss/safeguard/internal/session"
)

const (
	cookieName    = "sg_console"
	preCookieName = "sg_console_signin" // the sign-in form's CSRF token, before there is a session
	cookiePath    = "/console/"
)

// session is one signed-in person, as one request sees them. What lasts
// between requests is in the session store (internal/session), which every
// server sharing the database reads, so any server serves any session.
type session struct {
	token  string  // the cookie's value; never stored
	id     sess.ID // what the store keeps it under
	secret string  // the API key, to call the API as its holder; never sent back to the browser
	key    auth.Key
	csrf   string
	start  time.Time
	// breakAt is when the reminder to take a break shows: BreakAfter after
	// sign-in, and BreakAfter after each time it is put off.
	breakAt time.Time
}

// sessions is the console's view of the session store. A session ends
// when idle or old; rows past either are swept at each sign-in.
type sessions struct {
	store     sess.Store
	idle, max time.Duration
}

func (ss *sessions) create(ctx context.Context, secret string, k auth.Key, now time.Time, breakAfter time.Duration) (*session, error) {
	// Sessions are few (one per reviewer at work), so a sweep at each
	// sign-in keeps the table from holding the expired ones for long.
	if _, err := ss.store.SweepSessions(ctx, now.Add(-ss.idle), now.Add(-ss.max)); err != nil {
		return nil, fmt.Errorf("sweeping expired sessions: %w", err)
	}
	token := sess.NewToken()
	s := &session{token: token, id: sess.IDOf(token), secret: secret, key: k, csrf: sess.CSRF(token), start: now, breakAt: now.Add(breakAfter)}
	err := ss.store.CreateSession(ctx, sess.Session{ID: s.id, KeyID: k.ID, Sealed: sess.Seal(token, secret), Start: now, Seen: now, BreakAt: s.breakAt})
	if err != nil {
		return nil, fmt.Errorf("creating a session for key %s: %w", k.ID, err)
	}
	return s, nil
}

// get returns the live session of the cookie token, marking it used; nil
// when there is none. The key is the caller's to check and fill in.
func (ss *sessions) get(ctx context.Context, token string, now time.Time) (*session, error) {
	id := sess.IDOf(token)
	st, err := ss.store.Session(ctx, id)
	if errors.Is(err, sess.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(st.Seen) >= ss.idle || now.Sub(st.Start) >= ss.max {
		return nil, ss.store.DeleteSession(ctx, id)
	}
	secret, err := sess.Open(token, st)
	if err != nil {
		// Not this session's token (the store's row was changed): treat
		// it as no session, and end it.
		return nil, ss.store.DeleteSession(ctx, id)
	}
	// Written at most once a minute: a write (a disk flush on PostgreSQL)
	// on every click would cost more than the idle limit's precision is
	// worth.
	if now.Sub(st.Seen) >= min(time.Minute, ss.idle/60) {
		if err := ss.store.TouchSession(ctx, id, now); err != nil && !errors.Is(err, sess.ErrNotFound) {
			return nil, err
		}
	}
	return &session{token: token, id: id, secret: secret, key: auth.Key{ID: st.KeyID}, csrf: sess.CSRF(token), start: st.Start, breakAt: st.BreakAt}, nil
}

// end ends a session on every server.
func (ss *sessions) end(ctx context.Context, s *session) error {
	return ss.store.DeleteSession(ctx, s.id)
}

// offered says whether the case page s last saw of caseID offered item.
func (ss *sessions) offered(ctx context.Context, s *session, caseID int64, item string) (bool, error) {
	items, err := ss.store.OfferedContent(ctx, s.id, caseID)
	return slices.Contains(items, item), err
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand's contract)
	return hex.EncodeToString(b[:])
}

// limit takes a token of k's bucket for the request (the same as its API
// requests take from), and answers 429 with Retry-After if there is none;
// s is the session, if there is one yet. It returns the request marked
// counted, so the API calls the page makes in process take no more.
func (c *Console) limit(w http.ResponseWriter, r *http.Request, s *session, k auth.Key) (*http.Request, bool) {
	err := c.cfg.Limits.Allow(r.Context(), k)
	if le := (*ratelimit.LimitError)(nil); errors.As(err, &le) {
		w.Header().Set("Retry-After", le.Header())
		msg := le.Error() + "."
		if s == nil {
			c.showSignIn(w, r, http.StatusTooManyRequests, msg)
		} else {
			c.fail(w, r, s, http.StatusTooManyRequests, msg)
		}
		return r, false
	}
	// Allow fails only with a *LimitError: the store's faults let it pass.
	return r.WithContext(auth.Counted(r.Context(), k.ID)), true
}

// endSession ends s, logging a store that could not.
func (c *Console) endSession(ctx context.Context, s *session) {
	if err := c.sessions.end(ctx, s); err != nil {
		c.log.Error("console: ending a session", "key", s.key.ID, "session", s.id, "err", err)
	}
}

// offered says whether the case page s last saw of caseID offered item;
// a store that cannot say counts as no (and is logged).
func (c *Console) offered(ctx context.Context, s *session, caseID int64, item string) bool {
	ok, err := c.sessions.offered(ctx, s, caseID, item)
	if err != nil {
		c.log.Error("console: reading what a case page offered", "session", s.id, "case", caseID, "err", err)
	}
	return ok
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
// decide and see content (permission review), not only read. query are
// the query parameters the page takes (checkQuery refuses any other).
func (c *Console) session(h func(http.ResponseWriter, *http.Request, *session), review bool, query ...request.Param) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := c.cfg.Now()
		var s *session
		if ck, err := r.Cookie(cookieName); err == nil {
			if s, err = c.sessions.get(r.Context(), ck.Value, now); err != nil {
				c.log.Error("console: reading a session", "err", err)
				c.fail(w, r, nil, http.StatusInternalServerError, "The server could not read your session; its log has the details. Try again shortly.")
				return
			}
		}
		if s != nil {
			// The key is checked again on every request: revoking it in
			// the API ends the console session too, on every server (key
			// caches hear of a revocation from the store).
			k, err := auth.Authenticate(r.Context(), c.cfg.Keys, s.secret)
			switch {
			case errors.Is(err, auth.ErrRevoked), errors.Is(err, auth.ErrUnknown), errors.Is(err, auth.ErrMalformed):
				c.log.Info("console: session ended: key no longer valid", "key", s.key.ID, "err", err)
				c.endSession(r.Context(), s)
				s = nil
			case err != nil:
				// The store failed, not the key: the session stands.
				c.log.Error("console: checking a session's key", "key", s.key.ID, "err", err)
				c.fail(w, r, s, http.StatusInternalServerError, "The server could not check your key; its log has the details. Try again shortly.")
				return
			default:
				s.key = k
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
		r, ok := c.limit(w, r, s, s.key)
		if !ok {
			return
		}
		if r.Method == http.MethodPost {
			if !c.readForm(w, r, s) {
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
		if r, ok = c.checkQuery(w, r, s, query); !ok {
			return
		}
		h(w, r, s)
	})
}
