package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/derrors"
)

// DefaultHold is how long an item is preserved when its jurisdiction names
// no other term: one year, what 18 U.S.C. § 2258A asks of reported content
// since the REPORT Act of 2024.
const DefaultHold = 365 * 24 * time.Hour

// Audit actions of holds and deletions. (The audit package names the
// actions of intake, reads and rewraps; these belong with the hold.)
const (
	ActionHold   = "evidence.hold"   // a hold extended; detail: until, why
	ActionDelete = "evidence.delete" // an item deleted after its hold; detail: its hashes, why
)

// ErrHeld is returned by Delete for an item still under its hold.
var ErrHeld = derrors.New(derrors.WrongState, "evidence item is under a preservation hold").WithCode("held")

// Holds is a preservation policy: how long new items are held, by
// jurisdiction.
type Holds struct {
	Default        time.Duration            // DefaultHold if 0
	ByJurisdiction map[string]time.Duration // e.g. "US": a year
}

// DefaultHolds holds every item DefaultHold.
func DefaultHolds() Holds { return Holds{Default: DefaultHold} }

// For returns the term of items kept under jurisdiction j.
func (h Holds) For(j string) time.Duration {
	if d, ok := h.ByJurisdiction[j]; ok {
		return d
	}
	if h.Default > 0 {
		return h.Default
	}
	return DefaultHold
}

// ParseHolds reads a policy from configuration: comma-separated
// "jurisdiction=term" pairs, the jurisdiction "default" setting the
// default, a term in days ("365d") or as a Go duration ("8760h"), e.g.
// "default=365d,US=365d,DE=180d".
func ParseHolds(s string) (Holds, error) {
	h := DefaultHolds()
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		j, term, ok := strings.Cut(part, "=")
		j = strings.TrimSpace(j)
		if !ok || j == "" {
			return Holds{}, fmt.Errorf("evidence: hold %q: want jurisdiction=term, e.g. US=365d", part)
		}
		d, err := ParseTerm(strings.TrimSpace(term))
		if err != nil {
			return Holds{}, fmt.Errorf("evidence: hold %q: %v", part, err)
		}
		if j == "default" {
			h.Default = d
			continue
		}
		if h.ByJurisdiction == nil {
			h.ByJurisdiction = map[string]time.Duration{}
		}
		h.ByJurisdiction[j] = d
	}
	return h, nil
}

// ParseTerm reads a positive term: days ("365d") or a Go duration
// ("8760h"), as holds are written; serve's --text-retention takes the same.
func ParseTerm(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n > 100*366 {
			return 0, fmt.Errorf("term %q: want a number of days such as 365d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("term %q: want days (365d) or a duration (8760h)", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("term %q: want a positive term", s)
	}
	return d, nil
}

// Hold is an item's preservation hold. It is kept beside the item, in the
// clear (it says nothing about the content), as "<id>.hold".
type Hold struct {
	Jurisdiction string      `json:"jurisdiction,omitempty"`
	Until        time.Time   `json:"until"` // deletion is refused before
	Extensions   []Extension `json:"extensions,omitempty"`
}

// Extension is a request that extended a hold: a police or court
// preservation request, or the service's own (an appeal, a lawsuit).
type Extension struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"` // who recorded it: an API key's id
	By    string    `json:"by"`    // who asked: an agency, a court, the service
	Why   string    `json:"why"`   // e.g. the request's reference
	Until time.Time `json:"until"`
}

const holdSuffix = ".hold"

// maxHold bounds a hold file read: thousands of extensions.
const maxHold = 1 << 20

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) initialHold(created time.Time, jurisdiction string) Hold {
	return Hold{Jurisdiction: jurisdiction, Until: created.Add(s.Holds.For(jurisdiction))}
}

func (s *Store) putHold(id string, h Hold) error {
	b, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("evidence: item %s: hold: %w", id, err)
	}
	return s.writeFile(id, id+holdSuffix, bytes.NewReader(b))
}

// Hold returns item id's preservation hold. An item whose hold file is
// missing (lost, or written by a version without holds) is held the
// default term from its creation: a hold is never assumed to be over.
func (s *Store) Hold(id string) (Hold, error) {
	name, err := s.name(id)
	if err != nil {
		return Hold{}, fmt.Errorf("evidence: item %s: %w", id, err)
	}
	b, _, err := readAll(s.files, id+holdSuffix, maxHold)
	if errors.Is(err, fs.ErrNotExist) {
		// Only its creation and jurisdiction are needed: the description,
		// authenticated, without reading the content.
		item, err := s.Describe(id)
		if err != nil && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrCorrupt) {
			return Hold{}, err
		}
		if err != nil {
			// Unreadable, but there: held from its file's time.
			rc, info, serr := s.files.Open(name)
			if serr != nil {
				return Hold{}, err
			}
			rc.Close()
			item.Created = info.Written
		}
		return s.initialHold(item.Created, item.Meta.Jurisdiction), nil
	}
	if err != nil {
		return Hold{}, fmt.Errorf("evidence: item %s: hold: %w", id, err)
	}
	var h Hold
	if err := json.Unmarshal(b, &h); err != nil || h.Until.IsZero() {
		return Hold{}, fmt.Errorf("evidence: item %s: hold file is not a hold (%v): %w", id, err, ErrCorrupt)
	}
	rc, _, err := s.files.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return Hold{}, fmt.Errorf("evidence: item %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Hold{}, fmt.Errorf("evidence: item %s: %w", id, err)
	}
	rc.Close()
	return h, nil
}

// Extend holds item id until at least until, at the request of by for the
// reason why, and records the extension in log as actor's act. A hold is
// never shortened: an until before the current one is refused.
func (s *Store) Extend(ctx context.Context, log *audit.Log, id, actor string, until time.Time, by, why string) (Hold, error) {
	if strings.TrimSpace(actor) == "" || strings.TrimSpace(by) == "" || strings.TrimSpace(why) == "" {
		return Hold{}, fmt.Errorf("evidence: extend hold of %s: who records it, who asked and why are required", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := s.Hold(id)
	if err != nil {
		return Hold{}, err
	}
	until = until.UTC()
	if until.Before(h.Until) {
		return Hold{}, fmt.Errorf("evidence: extend hold of %s to %s: it is held until %s, and a hold is never shortened", id, until.Format(time.RFC3339), h.Until.Format(time.RFC3339))
	}
	if _, err := log.Record(ctx, actor, ActionHold, id, map[string]string{
		"until": until.Format(time.RFC3339), "was": h.Until.Format(time.RFC3339), "by": by, "why": why,
	}); err != nil {
		return Hold{}, fmt.Errorf("evidence: extend hold of %s: %w", id, err)
	}
	h.Extensions = append(h.Extensions, Extension{At: s.now(), Actor: actor, By: by, Why: why, Until: until})
	h.Until = until
	return h, s.putHold(id, h)
}

// Delete removes item id, which must be past its hold (else the error
// wraps ErrHeld and says until when), recording first in log that actor
// deleted it, why, and the hashes it had. The entry comes before the
// removal, so no deletion is ever missing from the log; a removal that then
// fails is reported, and a retry records again.
func (s *Store) Delete(ctx context.Context, log *audit.Log, id, actor, why string) error {
	if strings.TrimSpace(actor) == "" || strings.TrimSpace(why) == "" {
		return fmt.Errorf("evidence: delete %s: who deletes and why are required", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := s.Hold(id)
	if err != nil {
		return err
	}
	if now := s.now(); now.Before(h.Until) {
		return fmt.Errorf("evidence: delete %s: held until %s: %w", id, h.Until.Format(time.RFC3339), ErrHeld)
	}
	detail := map[string]string{"why": why, "held_until": h.Until.Format(time.RFC3339)}
	// The entry records the hashes the content still has, so the item is
	// checked through (in constant memory), not just described.
	if item, err := s.Verify(id); err != nil {
		// Past its hold, an item that no longer reads may still go; the
		// entry says it could not be checked.
		detail["unreadable"] = err.Error()
	} else {
		detail["sha256"], detail["md5"] = item.SHA256.String(), item.MD5.String()
	}
	if _, err := log.Record(ctx, actor, ActionDelete, id, detail); err != nil {
		return fmt.Errorf("evidence: delete %s: %w", id, err)
	}
	if err := s.files.Remove(id + suffix); err != nil {
		return fmt.Errorf("evidence: delete %s: %w", id, err)
	}
	if err := s.files.Remove(id + holdSuffix); err != nil {
		return fmt.Errorf("evidence: delete %s: hold file: %w", id, err)
	}
	return nil
}
