package console

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bodyrate"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// maxForm bounds a posted form: a dismissal's reason is the largest field.
const maxForm = 64 << 10

// page is what every template gets: the layout's needs, then the page's.
type page struct {
	Title     string
	Signed    bool
	KeyName   string
	KeyID     string
	Role      auth.Role
	CanReview bool
	Admin     bool // the admin screens are this key's
	CanLE     bool // law-enforcement reports
	Flagger   bool // a trusted flagger: its own reports only
	Notices   bool // the notice register
	CSRF      string
	Path      string // this page, for the break reminder's "back"
	// BreakIn is the seconds until the break reminder shows (0 or less:
	// it shows now); BreakMinutes is how long the person has been signed in.
	BreakIn      int64
	BreakMinutes int64
	Error        string
	Data         any

	// CanTransparency: the transparency figures (admins, auditors).
	CanTransparency bool
}

func (c *Console) newPage(r *http.Request, s *session, title string, data any) page {
	p := page{Title: title, Path: r.URL.RequestURI(), Data: data}
	if s != nil {
		now := c.cfg.Now()
		p.Signed, p.KeyName, p.KeyID, p.Role = true, s.key.Name, s.key.ID, s.key.Role
		p.CanReview = s.key.Check(auth.Review) == nil
		p.Admin = s.key.Role == auth.Admin
		p.CanLE = canLE(s.key)
		p.CanTransparency = canTransparency(s.key)
		p.Flagger = s.key.Role == auth.Flagger
		p.Notices = s.key.Check(auth.NoticesRead) == nil
		p.CSRF = s.csrf
		p.BreakIn = int64(s.breakAt.Sub(now) / time.Second)
		p.BreakMinutes = int64(now.Sub(s.start) / time.Minute)
	}
	return p
}

func (c *Console) render(w http.ResponseWriter, status int, name string, p page) {
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, p); err != nil {
		c.log.Error("console: rendering page", "page", name, "err", err)
		http.Error(w, "internal error rendering the page; the server log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// checkQuery refuses, with the error page, a request whose query parameters
// are not those its page or form takes (request.Check: one it does not
// declare, one given twice, a value that is not text or not of its kind),
// as the API refuses its own; a typo in an address would otherwise show
// another page than the one asked for without a word. It returns the
// request carrying the parsed values (request.Parsed).
func (c *Console) checkQuery(w http.ResponseWriter, r *http.Request, s *session, takes []request.Param) (*http.Request, bool) {
	r, err := request.Check(r, r.Pattern, takes)
	if err != nil {
		c.fail(w, r, s, http.StatusBadRequest, "This address is not one the console makes: "+err.Error()+".")
		return r, false
	}
	return r, true
}

// fail answers with the error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	p := c.newPage(r, s, http.StatusText(status), nil)
	p.Error = msg
	c.render(w, status, "error", p)
}

// readForm reads a posted form, up to maxForm, answering (and saying
// false) when it is over that or arrived under the minimum rate
// (bodyrate); a form malformed otherwise reads as empty, and so fails
// its CSRF check.
func (c *Console) readForm(w http.ResponseWriter, r *http.Request, s *session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	err := r.ParseForm()
	var mbe *http.MaxBytesError
	var slow *bodyrate.Error
	switch {
	case errors.As(err, &mbe):
		c.fail(w, r, s, http.StatusRequestEntityTooLarge, "The form is larger than the console takes; shorten the reason.")
	case errors.As(err, &slow):
		w.Header().Set("Connection", "close") // its read failed: the connection is done
		c.fail(w, r, s, http.StatusRequestTimeout, "The form arrived too slowly ("+slow.Error()+"); send it again.")
	default:
		return true
	}
	return false
}

// failAPI answers an error from the API: its own status and message, or,
// when the key stopped working mid-request, the sign-in page.
func (c *Console) failAPI(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		if ae.Status == http.StatusUnauthorized {
			c.endSession(r.Context(), s)
			s = nil
		}
		c.fail(w, r, s, ae.Status, ae.Message)
		return
	}
	c.log.Error("console: calling the API", "path", r.URL.Path, "err", err)
	c.fail(w, r, s, http.StatusInternalServerError, "Something went wrong on the server; its log has the details.")
}

// signInPage shows the form where a person pastes their API key. The
// form carries a token that must match a cookie set with it, so another
// site cannot sign a browser in under someone else's key.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	r, ok := c.checkQuery(w, r, nil, request.TextParams("next"))
	if !ok {
		return
	}
	c.showSignIn(w, r, http.StatusOK, "")
}

func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, status int, msg string) {
	token := randomToken()
	c.setCookie(w, r, preCookieName, token, 600)
	// The posted form readForm read (bounded), else the query: never
	// FormValue, which on a request whose form is unread (a GET, a POST
	// refused before readForm) parses whatever body came, spooling a
	// multipart one's large parts to os.TempDir().
	next := r.PostForm.Get("next")
	if next == "" {
		next = r.URL.Query().Get("next")
	}
	p := c.newPage(r, nil, "Sign in", map[string]string{"Next": safeNext(next)})
	p.CSRF, p.Error = token, msg
	c.render(w, status, "signin", p)
}

// safeNext keeps a post-sign-in destination inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/console/"
	}
	return next
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r, ok := c.checkQuery(w, r, nil, nil)
	if !ok {
		return
	}
	if !c.readForm(w, r, nil) {
		return
	}
	ck, err := r.Cookie(preCookieName)
	if err != nil || !sameOrigin(r) || !sameToken(r.PostFormValue("csrf"), ck.Value) {
		c.showSignIn(w, r, http.StatusForbidden, errCSRF.Error())
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("key"))
	k, err := auth.Authenticate(r.Context(), c.cfg.Keys, secret)
	switch {
	case errors.Is(err, auth.ErrMalformed):
		c.showSignIn(w, r, http.StatusUnauthorized, "That is not an API key: keys start with sg_.")
		return
	case errors.Is(err, auth.ErrUnknown):
		c.showSignIn(w, r, http.StatusUnauthorized, "Unknown API key.")
		return
	case errors.Is(err, auth.ErrRevoked):
		c.showSignIn(w, r, http.StatusUnauthorized, "That key has been revoked.")
		return
	case err != nil:
		c.log.Error("console: sign-in", "err", err)
		c.showSignIn(w, r, http.StatusInternalServerError, "The server could not check the key; its log has the details.")
		return
	}
	r, ok = c.limit(w, r, nil, k)
	if !ok {
		return
	}
	if k.Check(auth.Review) != nil && k.Check(auth.ReviewRead) != nil && k.Role != auth.Admin && !canLE(k) && k.Role != auth.Flagger {
		c.showSignIn(w, r, http.StatusForbidden, fmt.Sprintf("Key %s has role %s: the console is for reviewers, law-enforcement liaisons, admins, trusted flaggers (their own reports) and auditors (to read).", k.ID, k.Role))
		return
	}
	now := c.cfg.Now()
	if _, err := c.cfg.Log.Record(r.Context(), k.ID, ActionSignIn, k.ID, map[string]any{"role": k.Role}); err != nil {
		c.log.Error("console: recording a sign-in", "key", k.ID, "err", err)
		c.showSignIn(w, r, http.StatusInternalServerError, "The sign-in could not be recorded, so it was refused; the server log has the details.")
		return
	}
	s, err := c.sessions.create(r.Context(), secret, k, now, c.cfg.BreakAfter)
	if err != nil {
		c.log.Error("console: sign-in", "key", k.ID, "err", err)
		c.showSignIn(w, r, http.StatusInternalServerError, "The session could not be stored; the server log has the details.")
		return
	}
	c.setCookie(w, r, preCookieName, "", -1)
	c.setCookie(w, r, cookieName, s.token, 0)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.sessions.end(r.Context(), s); err != nil {
		c.log.Error("console: sign-out", "key", s.key.ID, "err", err)
		c.fail(w, r, s, http.StatusInternalServerError, "The session could not be ended; the server log has the details. Try again.")
		return
	}
	if _, err := c.cfg.Log.Record(r.Context(), s.key.ID, ActionSignOut, s.key.ID, nil); err != nil {
		c.log.Error("console: recording a sign-out", "key", s.key.ID, "err", err)
	}
	c.setCookie(w, r, cookieName, "", -1)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

// snooze puts the break reminder off for another BreakAfter.
func (c *Console) snooze(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.cfg.Sessions.PutOffBreak(r.Context(), s.id, c.cfg.Now().Add(c.cfg.BreakAfter)); err != nil {
		c.log.Error("console: putting off the break reminder", "key", s.key.ID, "err", err)
		c.fail(w, r, s, http.StatusInternalServerError, "The reminder could not be put off; the server log has the details.")
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
}

func (c *Console) queues(w http.ResponseWriter, r *http.Request, s *session) {
	if s.key.Role == auth.Flagger {
		// A flagger reads no queues: its own reports.
		http.Redirect(w, r, "/console/mine", http.StatusSeeOther)
		return
	}
	if s.key.Role == auth.Admin {
		// An admin reads no queues (no review.read): the admin screens.
		http.Redirect(w, r, "/console/admin/banks", http.StatusSeeOther)
		return
	}
	if s.key.Check(auth.ReviewRead) != nil && canLE(s.key) {
		http.Redirect(w, r, "/console/le", http.StatusSeeOther)
		return
	}
	var out struct {
		Queues []queueStatus `json:"queues"`
	}
	if err := c.call(r.Context(), s, "GET", "/v1/queues", nil, &out); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	c.render(w, http.StatusOK, "queues", c.newPage(r, s, "Queues", out.Queues))
}

// queueData is the queue page's.
type queueData struct {
	queuePage
	Decided int64        // the case just decided, for the notice
	Verdict string       // confirm, dismiss or firstDismissal
	Context []rowContext // per row of Cases
}

// firstDismissal is the notice's word for a dismissal that waits for a
// second reviewer.
const firstDismissal = "dismiss_first"

// queueParams are what decide's redirect tells the queue page: the case
// just decided and how, for the notice.
var queueParams = []request.Param{request.NumberParam("decided", 1, math.MaxInt64, 0),
	request.EnumParam("verdict", string(review.Confirm), string(review.Dismiss), firstDismissal)}

// doneParam is the notice a form's redirect names (an admin screen's, a
// law-enforcement report's), by code, so a link cannot put words of its
// own on the page.
var doneParam = request.TextParams("done")

func (c *Console) queue(w http.ResponseWriter, r *http.Request, s *session) {
	q := review.Queue(r.PathValue("queue"))
	if !q.Valid() {
		c.fail(w, r, s, http.StatusNotFound, fmt.Sprintf("There is no queue %q.", clip(string(q))))
		return
	}
	var d queueData
	if err := c.call(r.Context(), s, "GET", "/v1/queues/"+url.PathEscape(string(q))+"?limit=200", nil, &d.queuePage); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	for _, rc := range d.Cases {
		d.Context = append(d.Context, queueContext(rc.Case, rc.Reason))
	}
	if d.Decided = request.Parsed(r).Number("decided"); d.Decided > 0 {
		d.Verdict = request.Parsed(r).Text("verdict")
	}
	c.render(w, http.StatusOK, "queue", c.newPage(r, s, "Queue "+string(q), d))
}

// caseData is the case page's.
type caseData struct {
	caseAnswer
	Previews []preview
	PDQ      []string
	// Decidable: the case waits for a decision this key may make;
	// OnAppeal: that decision answers an appeal (uphold or overturn).
	Decidable, OnAppeal bool
	Classifications     []review.Classification
	UndoSeconds         int64        // a decision's countdown before it is sent
	Form                decisionForm // what was posted, when it was refused
	// Who is every report's reporter and every accuracy line's, by
	// name and role (never a key id); History the decisions and the
	// appeal in the order they happened; FirstOpened the first report's
	// arrival (an appeal restarts OpenedAt, the clock).
	Reporters   []string
	Accuracy    []string
	History     []event
	FirstOpened time.Time
	Network     *networkView // a network case's members, evidence and targets
}

// decisionForm is the decision form as posted.
type decisionForm struct {
	Verdict        review.Verdict
	Takedown       review.Action // remove or restrict
	Classification review.Classification
	Bank, LE       bool
	Reason         string
	Version        int
	Except         []string // a network case's members spared
}

func caseID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (c *Console) caseView(w http.ResponseWriter, r *http.Request, s *session) {
	c.showCase(w, r, s, http.StatusOK, "", decisionForm{Takedown: review.Remove})
}

// showCase renders case {id}: the API records the view (case.view) and
// the preview's fetch records the look at content (evidence.read).
func (c *Console) showCase(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, form decisionForm) {
	id, ok := caseID(r)
	if !ok {
		c.fail(w, r, s, http.StatusNotFound, fmt.Sprintf("There is no case %q.", clip(r.PathValue("id"))))
		return
	}
	var d caseData
	if err := c.call(r.Context(), s, "GET", "/v1/cases/"+strconv.FormatInt(id, 10), nil, &d.caseAnswer); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	canReview := s.key.Check(auth.Review) == nil
	if canReview {
		d.Previews = c.previews(r.Context(), id, d.Reports)
		ids := make([]string, len(d.Previews))
		for i, p := range d.Previews {
			ids[i] = p.Item
		}
		if err := c.cfg.Sessions.OfferContent(r.Context(), s.id, id, ids); err != nil {
			c.log.Error("console: recording what a case page offers", "case", id, "err", err)
			c.fail(w, r, s, http.StatusInternalServerError, "The page could not be prepared; the server log has the details.")
			return
		}
	}
	for _, h := range d.Case.PDQ {
		d.PDQ = append(d.PDQ, h.String())
	}
	n := c.names(r.Context())
	for _, rep := range d.Reports {
		d.Reporters = append(d.Reporters, n.reporter(rep.Source, rep.Reporter))
	}
	for _, a := range d.Case.Signals.Accuracy {
		d.Accuracy = append(d.Accuracy, n.anyone(a.Reporter))
	}
	d.History = history(d.Case, n)
	d.FirstOpened = firstOpened(d.Case, d.Reports)
	st := d.Case.State
	d.Decidable = canReview && (st == review.Open || st == review.PendingSecond || st == review.Appealed)
	d.OnAppeal = st == review.Appealed
	d.Classifications = review.Classifications
	d.UndoSeconds = int64(c.cfg.UndoAfter / time.Second)
	if form.Version == 0 {
		form.Version = d.Case.Version
	}
	d.Form = form
	d.Network = newNetworkView(d.Case.Network, form.Except)
	p := c.newPage(r, s, fmt.Sprintf("Case %d", id), d)
	p.Error = msg
	c.render(w, status, "case", p)
}

// decide posts the decision form to the API as the signed-in reviewer.
// The form names the case version the reviewer saw, so a report that
// joined since (perhaps a graver one) is shown before anything is decided.
func (c *Console) decide(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := caseID(r)
	if !ok {
		c.fail(w, r, s, http.StatusNotFound, fmt.Sprintf("There is no case %q.", clip(r.PathValue("id"))))
		return
	}
	f := decisionForm{
		Verdict: review.Verdict(r.PostFormValue("verdict")), Takedown: review.Action(r.PostFormValue("takedown")),
		Classification: review.Classification(r.PostFormValue("classification")),
		Bank:           r.PostFormValue("bank") != "", LE: r.PostFormValue("le_report") != "",
		Reason: r.PostFormValue("reason"), Except: r.PostForm["except"],
	}
	f.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	body := decision{Verdict: f.Verdict, Version: f.Version}
	if f.Verdict == review.Confirm {
		body.Except = f.Except
	}
	switch {
	case f.Verdict == review.Dismiss:
		body.Reason = f.Reason
	case r.PostFormValue("appeal") != "":
		// Upholding on appeal leaves the first decision's actions standing.
		body.Reason = f.Reason
	default:
		body.Classification, body.Reason = f.Classification, f.Reason
		if f.Takedown != "" {
			body.Actions = append(body.Actions, f.Takedown)
		}
		if f.Bank {
			body.Actions = append(body.Actions, review.AddToBank)
		}
		if f.LE {
			body.Actions = append(body.Actions, review.SendToLE)
		}
	}
	var out struct {
		Case review.Case `json:"case"`
	}
	if err := c.call(r.Context(), s, "POST", "/v1/cases/"+strconv.FormatInt(id, 10)+"/decision", body, &out); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status != http.StatusUnauthorized && ae.Status < 500 {
			if ae.Status == http.StatusConflict {
				f.Version = 0 // show the case as it stands now
			}
			c.showCase(w, r, s, ae.Status, ae.Message, f)
			return
		}
		c.failAPI(w, r, s, err)
		return
	}
	outcome := string(f.Verdict)
	if out.Case.State == review.PendingSecond {
		outcome = firstDismissal
	}
	http.Redirect(w, r, fmt.Sprintf("/console/queues/%s?decided=%d&verdict=%s", url.PathEscape(string(out.Case.Queue)), id, outcome), http.StatusSeeOther)
}

func (c *Console) stats(w http.ResponseWriter, r *http.Request, s *session) {
	var out struct {
		Since time.Time  `json:"since"`
		Rows  []statsRow `json:"rows"`
	}
	if err := c.call(r.Context(), s, "GET", "/v1/stats", nil, &out); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	c.render(w, http.StatusOK, "stats", c.newPage(r, s, "Time to action", out))
}

// countdownText says how long until a case is due, or how late it is.
func countdownText(sec int64) string {
	if sec <= 0 {
		return "overdue by " + humanDuration(time.Duration(-sec)*time.Second)
	}
	return "due in " + humanDuration(time.Duration(sec)*time.Second)
}

func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	switch {
	case h >= 48:
		return fmt.Sprintf("%dd %dh", h/24, h%24)
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

func formatPct(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

// durSeconds formats a number of seconds from the API's answers.
func durSeconds(v any) string {
	var d time.Duration
	switch s := v.(type) {
	case int64:
		d = time.Duration(s) * time.Second
	case float64:
		d = time.Duration(s * float64(time.Second))
	}
	return humanDuration(d)
}

// clip shortens s for a message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
