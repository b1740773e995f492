// Package review is the domain of reports and their review: what users,
// trusted flaggers and rules report; the cases those reports join; the
// priority that orders the queues and the clock that escalates a case
// left too long; the decisions reviewers make, the second look a trusted
// flagger's dismissed report gets, appeals; and the time-to-action
// figures that show whether anything reported is being ignored.
//
// The package does no I/O of its own. A Desk does the work over a Store
// (reports and cases) and an Index (PDQ near-duplicates), both small
// interfaces that the SQLite and PostgreSQL stores implement;
// reviewtest.Memory is an in-memory one and reviewtest.Run the suite they
// all pass. Every change a Desk makes returns Effects: the audit entries
// the server records and the events it turns into webhooks and actions.
package review

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/signal"

	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// Category is what a report says is wrong. The order of Categories is
// from the most to the least severe, which is how a case that gathers
// reports of several categories takes the most severe one.
type Category string

const (
	KnownCSAM       Category = "known_csam"       // an image or video already in a hash bank
	SuspectedCSAM   Category = "suspected_csam"   // child sexual abuse material not (yet) in a bank
	SelfGenerated   Category = "self_generated"   // an image reported by the young person in it
	Sextortion      Category = "sextortion"       // threats to share sexual images of a child
	Grooming        Category = "grooming"         // grooming or enticement of a child
	SexualisedChild Category = "sexualised_child" // a sexualised image of a child that may be lawful
	Other           Category = "other"
)

// Categories lists every category, most severe first.
var Categories = []Category{KnownCSAM, SuspectedCSAM, SelfGenerated, Sextortion, Grooming, SexualisedChild, Other}

// Valid reports whether c is one of the Categories.
func (c Category) Valid() bool { return slices.Contains(Categories, c) }

// graver reports whether a is more severe than b.
func graver(a, b Category) bool {
	return slices.Index(Categories, a) < slices.Index(Categories, b)
}

// image reports whether reports of c are about an image of abuse, so
// that confirming one needs a classification.
func (c Category) image() bool {
	return c == KnownCSAM || c == SuspectedCSAM || c == SelfGenerated
}

// Source is who raised a report.
type Source string

const (
	User    Source = "user"    // the platform, on behalf of one of its users
	Flagger Source = "flagger" // a trusted flagger: an NGO or hotline
	Rule    Source = "rule"    // a rule's enqueue action
)

// Sources lists every source.
var Sources = []Source{User, Flagger, Rule, Detector}

// Status is where a report stands, as its reporter may be told.
type Status string

const (
	Received Status = "received"  // in a case that no reviewer has decided
	InReview Status = "in_review" // a decision waits for a second reviewer, or an appeal
	Actioned Status = "actioned"  // the case was confirmed and the content acted on
	NoAction Status = "no_action" // the case was dismissed
)

// Hashes are the signals of the reported content the platform sent, if
// any; they let reports of the same picture under different content ids
// join one case.
type Hashes struct {
	PDQ    *pdq.Hash `json:"pdq,omitempty"`
	MD5    string    `json:"md5,omitempty"`    // lower-case hex
	SHA256 string    `json:"sha256,omitempty"` // lower-case hex
}

// Set is h as the matcher takes it: hashes a reporter sent, so claimed
// (their matches raise priority but never decide a case by themselves).
// Validate has checked the digests' hex.
func (h Hashes) Set() signal.Set {
	set := signal.Set{PDQ: h.PDQ, Quality: -1, Claimed: true}
	if h.MD5 != "" {
		var d [16]byte
		hex.Decode(d[:], []byte(h.MD5))
		set.MD5 = &d
	}
	if h.SHA256 != "" {
		var d [32]byte
		hex.Decode(d[:], []byte(h.SHA256))
		set.SHA256 = &d
	}
	return set
}

// target is what a case about r would be about.
func (r *Report) target() signal.Target {
	return signal.Target{ContentID: r.ContentID, AccountID: r.AccountID, PDQ: r.Hashes.PDQ != nil, MD5: r.Hashes.MD5 != "", SHA256: r.Hashes.SHA256 != ""}
}

// digests lists the exact digests as "md5:…" and "sha256:…", the form
// Case.Digests keeps.
func (h Hashes) digests() []string {
	var d []string
	if h.MD5 != "" {
		d = append(d, "md5:"+h.MD5)
	}
	if h.SHA256 != "" {
		d = append(d, "sha256:"+h.SHA256)
	}
	return d
}

// Reach is how far content travels: who may see it and how many have.
type Reach struct {
	Visibility rules.Visibility `json:"visibility,omitempty"`
	Audience   int64            `json:"audience,omitempty"` // views or members, as the platform counts them
}

// Report is one report about content, an account or both.
type Report struct {
	ID     int64  `json:"id"`
	Source Source `json:"source"`
	// Reporter is who reported: the platform's id of the reporting user,
	// the trusted flagger's key id, or the rule as "rule:<id>". Reporter
	// accuracy is counted per Reporter.
	Reporter  string   `json:"reporter"`
	Category  Category `json:"category"`
	Text      string   `json:"text,omitempty"`
	ContentID string   `json:"content_id,omitempty"`
	AccountID string   `json:"account_id,omitempty"`
	Hashes    Hashes   `json:"hashes,omitzero"`
	// MinorSuspected: the reporter believes a child is involved (the
	// categories about children imply it).
	MinorSuspected bool  `json:"minor_suspected,omitempty"`
	Reach          Reach `json:"reach,omitzero"`
	// Rule, Priority and Matches are set for Source Rule: the rule that
	// asked for review, the priority it asked (0-100) and the bank
	// matches that fired it. A platform may send Matches with a user's
	// report too, when it looked the content up first.
	Rule     *rules.RuleRef `json:"rule,omitempty"`
	Priority int            `json:"priority,omitempty"`
	Matches  []match.Match  `json:"matches,omitempty"`
	// TextSignal is set on reports of text rules: the message, the
	// phrases that fired and its conversation (text.go).
	TextSignal *TextSignal `json:"text_signal,omitempty"`

	// Set by the Desk.
	CaseID     int64     `json:"case_id"`
	ReceivedAt time.Time `json:"received_at"`
	Status     Status    `json:"status"`
	DecidedAt  time.Time `json:"decided_at,omitzero"` // when the status last became Actioned or NoAction
}

// Limits on a report's free-form fields.
const (
	MaxText     = 8 << 10 // bytes of free text
	MaxID       = 256     // bytes of a content, account or reporter id
	MaxMatches  = 64
	MaxPriority = 100
)

// ErrInvalid is wrapped by every validation error: the request was wrong,
// and sending it again will not help.
var ErrInvalid = derrors.New(derrors.Invalid, "invalid")

// Validate lists every problem with a report as it arrives (the fields
// the Desk sets are not checked), each naming its field.
func (r *Report) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if !slices.Contains(Sources, r.Source) {
		bad("unknown source %q: want one of %s", clip(string(r.Source)), join(Sources))
	}
	if !r.Category.Valid() {
		bad("unknown category %q: want one of %s", clip(string(r.Category)), join(Categories))
	}
	for _, f := range []struct{ name, v string }{{"reporter", r.Reporter}, {"content_id", r.ContentID}, {"account_id", r.AccountID}} {
		if err := checkID(f.v); err != nil {
			bad("%s %v", f.name, err)
		}
	}
	if r.Reporter == "" {
		bad("reporter is required")
	}
	if !r.target().Any() {
		bad("no target: a report needs a content_id, an account_id or the content's hashes")
	}
	if len(r.Text) > MaxText {
		bad("text is %d bytes, more than %d", len(r.Text), MaxText)
	} else if !utf8.ValidString(r.Text) {
		bad("text is not UTF-8")
	}
	if r.Hashes.MD5 != "" && !isHex(r.Hashes.MD5, 32) {
		bad("hashes.md5 is not 32 lower-case hex digits")
	}
	if r.Hashes.SHA256 != "" && !isHex(r.Hashes.SHA256, 64) {
		bad("hashes.sha256 is not 64 lower-case hex digits")
	}
	if v := r.Reach.Visibility; v != "" && !slices.Contains(rules.Visibilities, v) {
		bad("unknown reach.visibility %q", clip(string(v)))
	}
	if r.Reach.Audience < 0 {
		bad("reach.audience %d is negative", r.Reach.Audience)
	}
	if len(r.Matches) > MaxMatches {
		bad("%d matches, more than %d", len(r.Matches), MaxMatches)
	}
	r.TextSignal.problems(r.Text, bad)
	if r.Source == Rule {
		if r.Rule == nil {
			bad("a rule's report names its rule")
		}
		if r.Priority < 0 || r.Priority > MaxPriority {
			bad("priority %d out of range 0..%d", r.Priority, MaxPriority)
		}
	} else {
		if r.Rule != nil || r.Priority != 0 {
			bad("rule and priority belong to reports from rules only")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("report: %s: %w", strings.Join(errs, "; "), ErrInvalid)
	}
	return nil
}

func checkID(s string) error {
	if len(s) > MaxID {
		return fmt.Errorf("is %d bytes, more than %d", len(s), MaxID)
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errors.New("holds a control character or is not UTF-8")
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// clip shortens s for an error message, so a huge bad value does not make
// a huge error.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	i := 40
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func join[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
