// Package safeguard is the hma.Backend over Safeguard's own parts: the bank
// use case (store, audit log, matcher and its index) and the hasher. It maps
// HMA's words onto Safeguard's and keeps nothing of its own: every change
// goes through usecase.Banks, so it is one transaction of store writes and
// their audit entry, applied to the index before it answers, as a change
// through Safeguard's own API is.
//
// HMA keeps a few things Safeguard's store has no field for yet; how each is
// carried, and what is lost, is documented on the functions below and in
// docs/hma.md.
package safeguard

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/hma"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/signal"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// Backend implements hma.Backend. Create it with New.
type Backend struct {
	uc      *usecase.Banks
	banks   bank.Store // reads, outside any transaction
	matcher *match.Matcher
	hasher  *hasher.Hasher
	// Exchanges, if set, answers the exchange routes; nil means none are
	// configured.
	Exchanges hma.Exchanges
}

var _ hma.Backend = (*Backend)(nil)

// New returns the backend over the bank use case (with its stores, audit
// log and matcher all set) and a hasher (with Dihedral set, uploaded photos
// also match rotated and mirrored copies).
func New(banks *usecase.Banks, h *hasher.Hasher) (*Backend, error) {
	if banks == nil || banks.Stores.Banks == nil || banks.Tx == nil || banks.Log == nil || banks.Matcher == nil || h == nil {
		return nil, errors.New("hma/safeguard: the bank use case (stores, Tx, audit log, matcher) and a hasher are all required")
	}
	return &Backend{uc: banks, banks: banks.Stores.Banks, matcher: banks.Matcher, hasher: h}, nil
}

// Bank names: HMA's are upper case, Safeguard's lower case, and otherwise
// the same characters, so the mapping is the change of case. A Safeguard
// name with '.' or '-' shows upper-cased too, which HMA itself would not
// accept as a new name but serves in paths all the same.
func hmaName(name string) string { return strings.ToUpper(name) }
func ourName(name string) string { return strings.ToLower(name) }

// The matching enabled ratio has no column in the store yet, so it rides
// in the bank's description as a line of its own; a bank with ratio 1 (the
// default) carries none.
const ratioMark = "hma.matching_enabled_ratio="

func ratioOf(desc string) float64 {
	q := 1.0
	for line := range strings.Lines(desc) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), ratioMark); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
	}
	return q
}

func withRatio(desc string, q float64) string {
	var keep []string
	for line := range strings.Lines(desc) {
		if !strings.HasPrefix(strings.TrimSpace(line), ratioMark) {
			keep = append(keep, strings.TrimRight(line, "\n"))
		}
	}
	if q != 1 {
		keep = append(keep, ratioMark+strconv.FormatFloat(q, 'g', -1, 64))
	}
	return strings.Join(keep, "\n")
}

func toHMA(b bank.Bank) hma.Bank {
	return hma.Bank{Name: hmaName(b.Name), EnabledRatio: ratioOf(b.Description)}
}

// notFound turns the store's "not found" into HMA's.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, derrors.NotFound) {
		return hma.Errorf(hma.ErrNotFound, format, args...)
	}
	return err
}

// change makes one change through the bank use case: write runs in a
// transaction with the audit entry it details (marked as made through
// this API), and the index is up to date before the answer, so the
// caller's next lookup sees it (HMA rebuilds its index every few minutes).
func (b *Backend) change(ctx context.Context, who, action, subject string, write func(tx bank.Store) (map[string]any, error)) error {
	return b.uc.Change(ctx, who, action, subject, func(tx usecase.Stores) (map[string]any, error) {
		d, err := write(tx.Banks)
		if d != nil {
			d["via"] = "hma"
		}
		return d, err
	})
}

// SignalTypes implements hma.Backend.
func (b *Backend) SignalTypes() []string {
	return []string{hma.SignalPDQ, hma.SignalVideoMD5, hma.SignalVPDQ}
}

// ContentTypes implements hma.Backend: a photo is hashed to PDQ, a video
// to the MD5 of its bytes. (vPDQ signals are banked and looked up, but an
// uploaded video is not hashed to one here: that takes ffmpeg on a spooled
// file, which /v1/scan does.)
func (b *Backend) ContentTypes() map[string][]string {
	return map[string][]string{hma.ContentPhoto: {hma.SignalPDQ}, hma.ContentVideo: {hma.SignalVideoMD5}}
}

// signalOf maps an HMA signal type to Safeguard's.
func signalOf(st string) (bank.Signal, error) {
	switch st {
	case hma.SignalPDQ:
		return bank.PDQ, nil
	case hma.SignalVideoMD5:
		return bank.MD5, nil
	case hma.SignalVPDQ:
		return bank.VPDQ, nil
	}
	return "", hma.Errorf(hma.ErrInvalid, "No such signal type %s", st)
}

// signalType is the inverse of signalOf. SHA-256 entries (which Safeguard's
// own API adds beside an image's PDQ and MD5) show as "sha256", a type HMA
// does not have.
func signalType(s bank.Signal) string {
	switch s {
	case bank.PDQ:
		return hma.SignalPDQ
	case bank.MD5:
		return hma.SignalVideoMD5
	case bank.VPDQ:
		return hma.SignalVPDQ
	}
	return string(s)
}

// ListBanks implements hma.Backend.
func (b *Backend) ListBanks(ctx context.Context) ([]hma.Bank, error) {
	bs, err := b.banks.ListBanks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]hma.Bank, 0, len(bs))
	for _, x := range bs {
		out = append(out, toHMA(x))
	}
	return out, nil
}

func (b *Backend) bank(ctx context.Context, name string) (bank.Bank, error) {
	x, err := b.banks.Bank(ctx, ourName(name))
	return x, notFound(err, "bank '%s' not found", name)
}

// Bank implements hma.Backend.
func (b *Backend) Bank(ctx context.Context, name string) (hma.Bank, error) {
	x, err := b.bank(ctx, name)
	if err != nil {
		return hma.Bank{}, err
	}
	return toHMA(x), nil
}

// CreateBank implements hma.Backend. The bank gets Safeguard's default PDQ
// threshold, which HMA's index also uses.
func (b *Backend) CreateBank(ctx context.Context, who string, hb hma.Bank) (hma.Bank, error) {
	x := bank.Bank{Name: ourName(hb.Name), Description: withRatio("", hb.EnabledRatio), Threshold: bank.DefaultThreshold}
	if err := x.Validate(); err != nil {
		return hma.Bank{}, hma.Errorf(hma.ErrInvalid, "%v", err)
	}
	err := b.change(ctx, who, audit.BankCreate, x.Name, func(tx bank.Store) (map[string]any, error) {
		var err error
		x, err = tx.CreateBank(ctx, x)
		return map[string]any{"threshold": x.Threshold, "matching_enabled_ratio": hb.EnabledRatio}, err
	})
	if errors.Is(err, derrors.Exists) {
		return hma.Bank{}, hma.Errorf(hma.ErrExists, "Bank already exists")
	}
	if err != nil {
		return hma.Bank{}, err
	}
	return toHMA(x), nil
}

// UpdateBank implements hma.Backend. The store cannot rename a bank, so a
// rename is a new bank holding copies of the old one's entries, then the
// old bank's deletion: content added through this API keeps its id (see
// AddContent); other entries get new ids, their provenance unchanged.
func (b *Backend) UpdateBank(ctx context.Context, who, name string, u hma.BankUpdate) (hma.Bank, error) {
	x, err := b.bank(ctx, name)
	if err != nil {
		return hma.Bank{}, err
	}
	if u.EnabledRatio != nil {
		x.Description = withRatio(x.Description, *u.EnabledRatio)
		err := b.change(ctx, who, "bank.update", x.Name, func(tx bank.Store) (map[string]any, error) {
			return map[string]any{"matching_enabled_ratio": *u.EnabledRatio}, tx.UpdateBank(ctx, x)
		})
		if err != nil {
			return hma.Bank{}, notFound(err, "Bank not found")
		}
	}
	if u.Name != nil && ourName(*u.Name) != x.Name {
		if x, err = b.rename(ctx, who, x, ourName(*u.Name)); err != nil {
			return hma.Bank{}, err
		}
	}
	return toHMA(x), nil
}

// rename is one transaction: the new bank, the copies, the old bank's
// deletion and the audit entry (under the new name, saying the old).
func (b *Backend) rename(ctx context.Context, who string, old bank.Bank, to string) (bank.Bank, error) {
	nb := bank.Bank{Name: to, Description: old.Description, Threshold: old.Threshold}
	if err := nb.Validate(); err != nil {
		return nb, hma.Errorf(hma.ErrInvalid, "%v", err)
	}
	err := b.change(ctx, who, audit.BankCreate, to, func(tx bank.Store) (map[string]any, error) {
		var err error
		if nb, err = tx.CreateBank(ctx, nb); err != nil {
			return nil, err
		}
		// Read before writing: on SQLite a transaction's reads and writes
		// share one connection, so the entries are held, not streamed.
		var es []bank.Entry
		for e, err := range tx.Entries(ctx, old.Name) {
			if err != nil {
				return nil, err
			}
			if contentID(e) == e.ID && e.Source == hmaSource {
				e.Source = siblingSource(e.ID)
			}
			e.ID, e.BankID = 0, 0
			es = append(es, e)
		}
		res, err := tx.AddEntries(ctx, to, usecase.Slice(es), nil)
		if err != nil {
			return nil, fmt.Errorf("copying bank %q to %q: %w", old.Name, to, err)
		}
		if err := tx.DeleteBank(ctx, old.Name); err != nil {
			return nil, fmt.Errorf("renaming bank %q to %q: deleting the old one: %w", old.Name, to, err)
		}
		return map[string]any{"renamed_from": old.Name, "entries": res.Added}, nil
	})
	if errors.Is(err, derrors.Exists) {
		return nb, hma.Errorf(hma.ErrExists, "Bank name already exists")
	}
	if err != nil {
		return nb, err
	}
	return b.banks.Bank(ctx, to)
}

// DeleteBank implements hma.Backend.
func (b *Backend) DeleteBank(ctx context.Context, who, name string) error {
	x, err := b.bank(ctx, name)
	if err != nil {
		return err
	}
	err = b.change(ctx, who, audit.BankDelete, x.Name, func(tx bank.Store) (map[string]any, error) {
		return map[string]any{"entries": x.Entries}, tx.DeleteBank(ctx, x.Name)
	})
	return notFound(err, "bank '%s' not found", name)
}

// HMA content is one id over several signals; the store keeps one entry
// per signal. So a content's id is the id of the first entry added for it,
// and every other entry of it says so in its Source, "hma:<id>". Entries
// added through this API otherwise have Source "hma"; entries from anywhere
// else (Safeguard's API, imports, exchanges) are each a content of their
// own, with their entry id as content id.
const hmaSource = "hma"

func siblingSource(id int64) string { return hmaSource + ":" + strconv.FormatInt(id, 10) }

func contentID(e bank.Entry) int64 {
	if v, ok := strings.CutPrefix(e.Source, hmaSource+":"); ok {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			return id
		}
	}
	return e.ID
}

// AddContent implements hma.Backend. The store does not return the ids of
// what it adds, so the first signal is written alone and read back in the
// same transaction, then the others are written naming its id: one
// transaction. A signal already in the bank is not added twice (HMA would
// make a second content); its content's id is the answer.
func (b *Backend) AddContent(ctx context.Context, who string, c hma.Content) (hma.Content, error) {
	x, err := b.bank(ctx, c.Bank)
	if err != nil {
		return c, err
	}
	types := make([]string, 0, len(c.Signals))
	for st := range c.Signals {
		types = append(types, st)
	}
	slices.Sort(types)
	var entries []bank.Entry
	for _, st := range types {
		sig, err := signalOf(st)
		if err != nil {
			return c, err
		}
		e, err := bank.Entry{Signal: sig, Value: c.Signals[st], Source: hmaSource, ExternalID: c.ExternalID,
			Note: c.Note, AddedBy: who}.Normalize()
		if err != nil {
			return c, hma.Errorf(hma.ErrInvalid, "Invalid %s signal: %v", st, err)
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return c, hma.Errorf(hma.ErrInvalid, "No signals given")
	}
	err = b.change(ctx, who, audit.BankEntries, x.Name, func(tx bank.Store) (map[string]any, error) {
		res, err := tx.AddEntries(ctx, x.Name, usecase.Slice(entries[:1]), nil)
		if err != nil {
			return nil, err
		}
		head, err := tx.LiveEntry(ctx, x.Name, entries[0].Signal, entries[0].Value)
		if err != nil {
			return nil, err
		}
		c.ID = contentID(head)
		if len(entries) > 1 {
			for i := range entries[1:] {
				entries[1+i].Source = siblingSource(c.ID)
			}
			more, err := tx.AddEntries(ctx, x.Name, usecase.Slice(entries[1:]), nil)
			if err != nil {
				return nil, err
			}
			res.Added, res.Existing = res.Added+more.Added, res.Existing+more.Existing
		}
		return map[string]any{"content": c.ID, "added": res.Added, "existing": res.Existing}, nil
	})
	if err != nil {
		return c, notFound(err, "bank '%s' not found", c.Bank)
	}
	c.Bank = hmaName(x.Name)
	c.Signals = map[string]string{}
	for _, e := range entries {
		c.Signals[signalType(e.Signal)] = signalString(e)
	}
	c.DisableUntil = 1
	return c, nil
}

// query is the matcher's query for one signal value (normalised already).
func query(sig bank.Signal, value string) (match.Query, error) {
	q := match.Query{Set: signal.Set{Quality: -1}, Radius: -1}
	if sig == bank.VPDQ {
		frames, err := bank.VPDQFrames(value)
		if err != nil {
			return q, hma.Errorf(hma.ErrInvalid, "invalid vpdq signal: %v", err)
		}
		q.VPDQ = frames
		return q, nil
	}
	raw, err := hex.DecodeString(value)
	if err == nil && len(raw)*2 != sig.HexLen() {
		err = fmt.Errorf("%d hex digits, want %d", len(value), sig.HexLen())
	}
	if err != nil {
		return q, hma.Errorf(hma.ErrInvalid, "invalid %s signal: %v", sig, err)
	}
	switch sig {
	case bank.PDQ:
		h := pdq.Hash(raw)
		q.PDQ = &h
	case bank.MD5:
		d := [16]byte(raw)
		q.MD5 = &d
	case bank.SHA256:
		d := [32]byte(raw)
		q.SHA256 = &d
	}
	return q, nil
}

// entries returns the live entries of a content: the one whose id it is,
// if still there, and those naming it. Finding the latter reads the whole
// bank — the store has no lookup by source — which is fine for curation of
// banks up to a few hundred thousand entries and is what a content column
// in the store will replace.
func (b *Backend) entries(ctx context.Context, x bank.Bank, id int64) ([]bank.Entry, error) {
	var out []bank.Entry
	for e, err := range b.banks.Entries(ctx, x.Name) {
		if err != nil {
			return nil, err
		}
		if contentID(e) == id {
			out = append(out, e)
		}
	}
	return out, nil
}

func (b *Backend) content(ctx context.Context, name string, id int64) (bank.Bank, []bank.Entry, error) {
	x, err := b.bank(ctx, name)
	if err != nil {
		return x, nil, err
	}
	es, err := b.entries(ctx, x, id)
	if err == nil && len(es) == 0 {
		err = hma.Errorf(hma.ErrNotFound, "content '%d' not found", id)
	}
	return x, es, err
}

func toContent(x bank.Bank, id int64, es []bank.Entry) hma.Content {
	c := hma.Content{ID: id, Bank: hmaName(x.Name), Signals: map[string]string{}, DisableUntil: 1}
	for _, e := range es {
		c.Signals[signalType(e.Signal)] = signalString(e)
		c.Note, c.ExternalID = e.Note, e.ExternalID
	}
	return c
}

// signalString is an entry's value as HMA shows signals: for vPDQ the
// python-threatexchange signal string, not the store's binary hex.
func signalString(e bank.Entry) string {
	if e.Signal != bank.VPDQ {
		return e.Value
	}
	frames, err := bank.VPDQFrames(e.Value)
	if err != nil {
		return e.Value
	}
	return vpdq.FormatSignal(frames)
}

// Content implements hma.Backend.
func (b *Backend) Content(ctx context.Context, name string, id int64) (hma.Content, error) {
	x, es, err := b.content(ctx, name, id)
	if err != nil {
		return hma.Content{}, err
	}
	return toContent(x, id, es), nil
}

// UpdateContent implements hma.Backend.
//
// Disabling content (disable_until_ts 0, or a time to come) removes its
// entries: Safeguard never matches a disabled entry anywhere, and the store
// has no "disabled until" to bring them back by itself, so the content is
// gone from the bank, as after DELETE. Enabling (1, or a time past) changes
// nothing. A new note rewrites the content's entries (the store's entries
// are immutable), keeping their id as content id; only content added
// through this API can be rewritten, so that other entries keep their
// provenance as it came.
func (b *Backend) UpdateContent(ctx context.Context, who, name string, id int64, u hma.ContentUpdate) (hma.Content, error) {
	x, es, err := b.content(ctx, name, id)
	if err != nil {
		return hma.Content{}, err
	}
	c := toContent(x, id, es)
	if u.DisableUntil != nil && (*u.DisableUntil == 0 || *u.DisableUntil > time.Now().Unix()) {
		if _, err := b.remove(ctx, who, x, id, es, map[string]any{"disable_until_ts": *u.DisableUntil}); err != nil {
			return c, err
		}
		c.DisableUntil = *u.DisableUntil
		return c, nil
	}
	if u.Note == nil || *u.Note == c.Note {
		return c, nil
	}
	renewed := make([]bank.Entry, 0, len(es))
	for _, e := range es {
		if !strings.HasPrefix(e.Source, hmaSource) {
			return c, hma.Errorf(hma.ErrUnsupported, "content %d came from %q, not through this API: its provenance, note included, is kept as it came", id, e.Source)
		}
		e.Note, e.Source, e.ID, e.BankID = *u.Note, siblingSource(id), 0, 0
		renewed = append(renewed, e)
	}
	err = b.change(ctx, who, audit.BankEntries, x.Name, func(tx bank.Store) (map[string]any, error) {
		for _, e := range es {
			if err := tx.RemoveEntry(ctx, x.Name, e.Signal, e.Value); err != nil {
				return nil, err
			}
		}
		_, err := tx.AddEntries(ctx, x.Name, usecase.Slice(renewed), nil)
		return map[string]any{"content": id, "note": "changed"}, err
	})
	if err != nil {
		return c, err
	}
	c.Note = *u.Note
	return c, nil
}

func (b *Backend) remove(ctx context.Context, who string, x bank.Bank, id int64, es []bank.Entry, detail map[string]any) (int, error) {
	err := b.change(ctx, who, audit.BankEntries, x.Name, func(tx bank.Store) (map[string]any, error) {
		for _, e := range es {
			if err := tx.RemoveEntry(ctx, x.Name, e.Signal, e.Value); err != nil {
				return nil, err
			}
		}
		detail["content"], detail["removed"] = id, len(es)
		return detail, nil
	})
	if err != nil {
		return 0, err
	}
	return 1, nil
}

// DeleteContent implements hma.Backend.
func (b *Backend) DeleteContent(ctx context.Context, who, name string, id int64) (int, error) {
	x, es, err := b.content(ctx, name, id)
	if errors.Is(err, hma.ErrNotFound) && x.Name != "" {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return b.remove(ctx, who, x, id, es, map[string]any{})
}

// parse checks a signal value as Safeguard stores it (lower-case hex of
// the type's length; HMA also takes upper case for MD5, Safeguard for both).
func parse(st, value string) (bank.Signal, string, error) {
	sig, err := signalOf(st)
	if err != nil {
		return "", "", err
	}
	v, err := bank.ParseValue(sig, strings.TrimSpace(value))
	if err != nil {
		return "", "", hma.Errorf(hma.ErrInvalid, "invalid signal: %v", err)
	}
	return sig, v, nil
}

// Lookup implements hma.Backend. Each bank's own PDQ threshold applies.
func (b *Backend) Lookup(ctx context.Context, st, value string, banks []string) ([]hma.Match, error) {
	sig, v, err := parse(st, value)
	if err != nil {
		return nil, err
	}
	q, err := query(sig, v)
	if err != nil {
		return nil, err
	}
	return b.match(ctx, q, banks)
}

// match runs q over every bank and keeps the matches in banks (all when
// empty): HMA ignores names of banks that do not exist, where the matcher
// refuses them.
func (b *Backend) match(ctx context.Context, q match.Query, banks []string) ([]hma.Match, error) {
	res, err := b.matcher.Match(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []hma.Match
	for _, m := range res.Matches {
		name := hmaName(m.Bank)
		if len(banks) > 0 && !slices.Contains(banks, name) {
			continue
		}
		out = append(out, hma.Match{ContentID: contentID(m.Entry), Bank: name, Distance: distance(m)})
	}
	return out, nil
}

// distance is a match's distance as HMA prints it: PDQ's Hamming distance,
// "0" for a digest, and for vPDQ python-threatexchange's pretty_str, the
// two percentages rounded as Python's "%.0f" rounds (half to even, as
// strconv does).
func distance(m match.Match) string {
	if m.Signal == bank.VPDQ {
		return strconv.FormatFloat(m.QueryPercent, 'f', 0, 64) + "%[" + strconv.FormatFloat(m.ComparedPercent, 'f', 0, 64) + "%]"
	}
	return strconv.Itoa(m.Distance)
}

// LookupContent implements hma.Backend. A photo is matched through its
// eight rotations and mirrors when the hasher computes them, each match at
// the distance of the nearest; one below the PDQ quality floor matches
// nothing (HMA would match it), since flat images collide with unrelated
// entries.
func (b *Backend) LookupContent(ctx context.Context, ct string, data []byte, banks []string) (map[string][]hma.Match, error) {
	switch ct {
	case hma.ContentPhoto:
		s, err := b.hasher.Hash("upload", data)
		if err != nil {
			return nil, hma.Errorf(hma.ErrInvalid, "%v", err)
		}
		ms, err := b.match(ctx, match.Query{Set: signal.Set{PDQ: &s.PDQ, Quality: s.Quality, Dihedral: s.Dihedral}, Radius: -1}, banks)
		return map[string][]hma.Match{hma.SignalPDQ: ms}, err
	case hma.ContentVideo:
		d := md5.Sum(data)
		ms, err := b.match(ctx, match.Query{Set: signal.Set{MD5: &d, Quality: -1}, Radius: -1}, banks)
		return map[string][]hma.Match{hma.SignalVideoMD5: ms}, err
	}
	return nil, hma.Errorf(hma.ErrInvalid, "no such content_type: '%s'", ct)
}

// Hash implements hma.Backend.
func (b *Backend) Hash(_ context.Context, ct string, data []byte) (map[string]string, error) {
	switch ct {
	case hma.ContentPhoto:
		s, err := b.hasher.Hash("upload", data)
		if err != nil {
			return nil, hma.Errorf(hma.ErrInvalid, "%v", err)
		}
		return map[string]string{hma.SignalPDQ: s.PDQ.String()}, nil
	case hma.ContentVideo:
		d := md5.Sum(data)
		return map[string]string{hma.SignalVideoMD5: hex.EncodeToString(d[:])}, nil
	}
	return nil, hma.Errorf(hma.ErrInvalid, "no such content_type: '%s'", ct)
}

// Compare implements hma.Backend: PDQ matches within the default threshold
// (HMA's too), MD5 only when equal.
func (b *Backend) Compare(st, x, y string) (hma.Comparison, error) {
	sig, a, err := parse(st, x)
	if err != nil {
		return hma.Comparison{}, err
	}
	_, c, err := parse(st, y)
	if err != nil {
		return hma.Comparison{}, err
	}
	switch sig {
	case bank.VPDQ:
		fa, err := bank.VPDQFrames(a)
		if err != nil {
			return hma.Comparison{}, hma.Errorf(hma.ErrInvalid, "invalid vpdq signal: %v", err)
		}
		fc, err := bank.VPDQFrames(c)
		if err != nil {
			return hma.Comparison{}, hma.Errorf(hma.ErrInvalid, "invalid vpdq signal: %v", err)
		}
		return hma.Comparison{Match: vpdq.DefaultRule.Matches(vpdq.DefaultRule.Compare(fa, fc))}, nil
	case bank.PDQ:
	default:
		return hma.Comparison{Match: a == c}, nil
	}
	ha, _ := pdq.ParseHex(a)
	hc, _ := pdq.ParseHex(c)
	d := pdq.Distance(ha, hc)
	return hma.Comparison{Match: d <= bank.DefaultThreshold, Distance: &d}, nil
}

// IndexStatus implements hma.Backend. The matcher counts MD5 and SHA-256
// digests together, so video_md5's size includes SHA-256 entries.
func (b *Backend) IndexStatus(ctx context.Context) (map[string]hma.IndexStatus, error) {
	st := b.matcher.Stats()
	behind, err := b.banks.ChangeKeys(ctx, st.Seq, 1)
	if err != nil {
		return nil, err
	}
	s := func(n int) hma.IndexStatus {
		return hma.IndexStatus{Present: !st.Synced.IsZero(), Size: n, BuiltTo: st.Synced, OutOfDate: len(behind) > 0}
	}
	return map[string]hma.IndexStatus{hma.SignalPDQ: s(st.PDQ), hma.SignalVideoMD5: s(st.Exact), hma.SignalVPDQ: s(st.Videos)}, nil
}

// ExchangeAPIs implements hma.Backend.
func (b *Backend) ExchangeAPIs(ctx context.Context) ([]hma.ExchangeAPI, error) {
	if b.Exchanges == nil {
		return nil, nil
	}
	return b.Exchanges.ExchangeAPIs(ctx)
}

// ListExchanges implements hma.Backend.
func (b *Backend) ListExchanges(ctx context.Context) ([]hma.Exchange, error) {
	if b.Exchanges == nil {
		return nil, nil
	}
	return b.Exchanges.ListExchanges(ctx)
}

// Exchange implements hma.Backend.
func (b *Backend) Exchange(ctx context.Context, name string) (hma.Exchange, error) {
	if b.Exchanges == nil {
		return hma.Exchange{}, hma.Errorf(hma.ErrNotFound, "Exchange '%s' not found", name)
	}
	return b.Exchanges.Exchange(ctx, name)
}

// ExchangeStatus implements hma.Backend.
func (b *Backend) ExchangeStatus(ctx context.Context, name string) (hma.FetchStatus, error) {
	if b.Exchanges == nil {
		return hma.FetchStatus{}, hma.Errorf(hma.ErrNotFound, "Exchange '%s' not found", name)
	}
	return b.Exchanges.ExchangeStatus(ctx, name)
}
