// Package match answers "is this content in a bank?": it keeps an in-memory
// index of every live bank entry in step with the store, and matches PDQ
// hashes (through all eight rotations and mirrors, within each bank's
// distance threshold) and MD5 and SHA-256 digests (exactly) against it.
//
// One Match type is the answer everywhere — CLI, API, rules — and carries the
// entry's provenance, so every consumer can say which list, which entry and
// how near.
package match

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/signal"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/hamming"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// DefaultQualityFloor is the PDQ quality below which a hash is not matched:
// flat or tiny images hash to near-arbitrary bits that collide with unrelated
// entries, so a match on them would be noise.
const DefaultQualityFloor = 50

// MaxRadius bounds a PDQ search radius. Beyond it near-duplicates give way to
// unrelated images (random hashes sit near 128 bits apart) and the index
// degenerates to a full scan.
const MaxRadius = 64

// Query is what is looked up: a content's signals (see signal.Set; a
// claimed set's matches come back Claimed), in which banks, how far.
type Query struct {
	signal.Set
	// Banks restricts the search to these banks (by name); empty means all.
	Banks []string
	// Radius, when >= 0, replaces every bank's PDQ threshold; -1 keeps them.
	Radius int
}

// Match is one bank entry a query matched: the one match type of the
// engine, which scan records, rules, reports and review keep, so that every
// way in answers alike.
type Match struct {
	Bank     string      `json:"bank"`
	EntryID  int64       `json:"entry_id"`
	Signal   bank.Signal `json:"signal"`
	Distance int         `json:"distance"` // PDQ Hamming distance; 0 for exact digests
	Category string      `json:"category,omitempty"`
	// Variant is the rotation or mirror of the query that came nearest.
	Variant pdq.Dihedral `json:"variant,omitempty"`
	// QueryPercent and ComparedPercent say how much of a video matched a
	// banked vPDQ entry (python-threatexchange's query_match_percent and
	// compared_match_percent); zero for other signals.
	QueryPercent    float64 `json:"query_match_percent,omitempty"`
	ComparedPercent float64 `json:"compared_match_percent,omitempty"`
	// Claimed is set when the hash that matched was a reporter's claim,
	// not computed here from content Safeguard received: such a match
	// raises a case's priority but never decides anything by itself.
	Claimed bool `json:"claimed,omitempty"`
	// Entry is the matched entry with its provenance, as the matcher read
	// it; records keep only the fields above.
	Entry bank.Entry `json:"-"`
}

// Result is the answer to a query.
type Result struct {
	Matches []Match
	// LowQuality is set when the PDQ hash was below the quality floor and so
	// was not matched; digests were still looked up.
	LowQuality bool
}

// Matcher holds the index. Create one with New, fill it with Sync, and keep it
// in step by calling Sync after writes or running Watch. It is safe for
// concurrent use.
type Matcher struct {
	st           bank.Store
	QualityFloor int // DefaultQualityFloor unless set before use

	mu     sync.RWMutex
	pdq    *hamming.Index
	video  *vpdq.Index // vPDQ entries' frames, keyed by packed id
	exact  *digests    // MD5 and SHA-256 entries
	banks  map[int64]bankInfo
	seq    int64 // last change applied
	synced time.Time
	// loading is set while Load runs (see Loading); token names the
	// snapshot the index was last loaded from or saved to (its Marks).
	loading bool
	token   string
}

type bankInfo struct {
	name        string
	threshold   int
	vpdqPercent float64 // least query_match_percent of a vPDQ match
}

// IDs in the index pack the bank into the top bits so that filtering by bank
// and threshold needs no side table: 24 bits of bank id, 40 of entry id.
const entryBits = 40

func pack(bankID, entryID int64) (uint64, error) {
	if bankID < 0 || bankID >= 1<<(64-entryBits) || entryID < 0 || entryID >= 1<<entryBits {
		return 0, fmt.Errorf("match: entry %d of bank %d: id out of range for the index", entryID, bankID)
	}
	return uint64(bankID)<<entryBits | uint64(entryID), nil
}

func unpack(id uint64) (bankID, entryID int64) {
	return int64(id >> entryBits), int64(id & (1<<entryBits - 1))
}

// New returns an empty matcher over st; call Sync to load it.
func New(st bank.Store) *Matcher {
	return &Matcher{
		st:           st,
		QualityFloor: DefaultQualityFloor,
		pdq:          hamming.New(),
		video:        vpdq.NewIndex(vpdq.DefaultRule),
		exact:        newDigests(),
		banks:        map[int64]bankInfo{},
	}
}

// syncPage is how many changes one read takes from the store.
const syncPage = 50_000

// Sync applies every change the store has recorded since the last Sync. The
// first Sync loads every live entry; it builds the index in bulk. While
// Load runs, Sync does nothing: Load reads the feed to its end.
func (m *Matcher) Sync(ctx context.Context) error {
	m.mu.RLock()
	loading := m.loading
	m.mu.RUnlock()
	if loading {
		return nil
	}
	return m.sync(ctx)
}

func (m *Matcher) sync(ctx context.Context) error {
	banks, err := m.st.ListBanks(ctx)
	if err != nil {
		return fmt.Errorf("match: listing banks: %w", err)
	}
	info := make(map[int64]bankInfo, len(banks))
	for _, b := range banks {
		info[b.ID] = bankInfo{b.Name, b.Threshold, b.VPDQPercent()}
	}
	m.mu.Lock()
	m.banks = info
	since, empty := m.seq, m.pdq.Len() == 0 && m.exact.n == 0 && m.video.Len() == 0
	m.mu.Unlock()

	if empty && since == 0 {
		if err := m.bulkLoad(ctx); err != nil {
			return err
		}
	}
	for {
		m.mu.RLock()
		since = m.seq
		m.mu.RUnlock()
		changes, err := m.st.ChangeKeys(ctx, since, syncPage)
		if err != nil {
			return fmt.Errorf("match: reading changes since %d: %w", since, err)
		}
		if len(changes) == 0 {
			break
		}
		m.mu.Lock()
		for _, c := range changes {
			if err := m.apply(c); err != nil {
				m.mu.Unlock()
				return err
			}
			m.seq = c.Seq
		}
		m.mu.Unlock()
		if len(changes) < syncPage {
			break
		}
	}
	m.mu.Lock()
	m.synced = time.Now()
	m.mu.Unlock()
	return nil
}

// bulkLoad reads every change into flat arrays and builds the index once,
// which is far faster than adding millions of codes one by one. An entry
// changed while the feed is read comes twice; Build keeps the last code of a
// repeated id, and the ids whose last change removed them are taken out
// after (few: only those removed and not re-added).
func (m *Matcher) bulkLoad(ctx context.Context) error {
	var ids []uint64
	var codes []hamming.Code
	removed := map[uint64]bool{}
	exact := newDigests()
	video := vpdq.NewIndex(vpdq.DefaultRule)
	var seq int64
	for {
		changes, err := m.st.ChangeKeys(ctx, seq, syncPage)
		if err != nil {
			return fmt.Errorf("match: loading changes since %d: %w", seq, err)
		}
		for _, c := range changes {
			seq = c.Seq
			id, err := pack(c.Entry.BankID, c.Entry.ID)
			if err != nil {
				return err
			}
			if c.Entry.Signal == bank.VPDQ {
				if err := applyVideo(video, c, id); err != nil {
					return err
				}
				continue
			}
			if c.Entry.Signal != bank.PDQ {
				if err := exact.apply(c, id); err != nil {
					return err
				}
				continue
			}
			if c.Removed {
				removed[id] = true
				continue
			}
			h, err := pdq.ParseHex(c.Entry.Value)
			if err != nil {
				return fmt.Errorf("match: entry %d: %w", c.Entry.ID, err)
			}
			delete(removed, id)
			ids, codes = append(ids, id), append(codes, h.Words())
		}
		if len(changes) < syncPage {
			break
		}
	}
	ix := hamming.Build(ids, codes)
	for id := range removed {
		ix.Remove(id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pdq, m.exact, m.video, m.seq = ix, exact, video, seq
	return nil
}

func (m *Matcher) apply(c bank.Change) error {
	id, err := pack(c.Entry.BankID, c.Entry.ID)
	if err != nil {
		return err
	}
	if c.Entry.Signal == bank.PDQ {
		if c.Removed {
			m.pdq.Remove(id)
			return nil
		}
		h, err := pdq.ParseHex(c.Entry.Value)
		if err != nil {
			return fmt.Errorf("match: entry %d: %w", c.Entry.ID, err)
		}
		m.pdq.Add(id, h.Words())
		return nil
	}
	if c.Entry.Signal == bank.VPDQ {
		return applyVideo(m.video, c, id)
	}
	return m.exact.apply(c, id)
}

// applyVideo applies a change of a vPDQ entry to the frame index. An entry
// with no frame of matching quality is left out: it can match nothing.
func applyVideo(x *vpdq.Index, c bank.Change, id uint64) error {
	if c.Removed {
		x.Remove(id)
		return nil
	}
	frames, err := bank.VPDQFrames(c.Entry.Value)
	if err != nil {
		return fmt.Errorf("match: entry %d: %w", c.Entry.ID, err)
	}
	if err := x.Add(id, frames); err != nil && !errors.Is(err, vpdq.ErrNoUsableFrames) {
		return fmt.Errorf("match: entry %d: %w", c.Entry.ID, err)
	}
	return nil
}

// exactKey is the map key of a digest: its signal and raw bytes, so that
// MD5 and SHA-256 values never collide and keys take half the hex's space.
func exactKey(sig bank.Signal, value string) (string, error) {
	raw, err := hex.DecodeString(value)
	if err != nil {
		return "", fmt.Errorf("match: %s value %q: %w", sig, value, err)
	}
	return string(sig) + ":" + string(raw), nil
}

// Watch calls Sync every interval until ctx ends, so that entries written by
// other processes (several servers on one PostgreSQL) reach this index.
// Errors go to onErr and the next tick tries again.
func (m *Matcher) Watch(ctx context.Context, every time.Duration, onErr func(error)) {
	m.Follow(ctx, every, nil, onErr)
}

// Follow is Watch that also syncs at once whenever wake receives: a
// store that notifies of other processes' changes (PostgreSQL's
// LISTEN/NOTIFY) brings them in within a round trip, and the interval
// remains as a fallback for a notification lost with a connection.
func (m *Matcher) Follow(ctx context.Context, every time.Duration, wake <-chan struct{}, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		if err := m.Sync(ctx); err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
	}
}

// Stats describe what the index holds.
type Stats struct {
	PDQ, Exact int
	// Videos and Frames count the vPDQ entries indexed and their frames.
	Videos, Frames int
	Seq            int64
	Synced         time.Time
	// Loading is set while Load runs.
	Loading bool
}

// Stats returns the index's size and how far it has caught up.
func (m *Matcher) Stats() Stats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return Stats{PDQ: m.pdq.Len(), Exact: m.exact.n, Videos: m.video.Len(), Frames: m.video.Frames(), Seq: m.seq, Synced: m.synced, Loading: m.loading}
}

// ErrUnknownBank is returned (wrapped) when a query names a bank that does
// not exist.
var ErrUnknownBank = derrors.New(derrors.NotFound, "unknown bank")

// Match looks q up. Matches come nearest first, then by bank and entry.
func (m *Matcher) Match(ctx context.Context, q Query) (Result, error) {
	var res Result
	hits, low, err := m.search(q)
	if err != nil {
		return res, err
	}
	res.LowQuality = low
	for _, h := range hits {
		e, err := m.st.Entry(ctx, h.entryID)
		if errors.Is(err, derrors.NotFound) {
			continue // removed since the index last synced
		}
		if err != nil {
			return res, fmt.Errorf("match: reading entry %d: %w", h.entryID, err)
		}
		res.Matches = append(res.Matches, Match{Bank: h.bank, EntryID: e.ID, Signal: e.Signal, Distance: h.distance,
			Category: e.Category, Variant: h.variant, QueryPercent: h.video.QueryPercent, ComparedPercent: h.video.ComparedPercent,
			Claimed: q.Claimed, Entry: e})
	}
	return res, nil
}

type hit struct {
	bank     string
	entryID  int64
	distance int
	variant  pdq.Dihedral
	video    vpdq.Result // of a vPDQ match
}

// search does the in-memory part of Match, under the read lock.
func (m *Matcher) search(q Query) ([]hit, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.loading {
		return nil, false, fmt.Errorf("match: %w", ErrLoading)
	}
	if q.Radius > MaxRadius {
		return nil, false, fmt.Errorf("match: radius %d: at most %d", q.Radius, MaxRadius)
	}
	allowed := map[int64]bool{}
	for _, name := range q.Banks {
		found := false
		for id, b := range m.banks {
			if b.name == name {
				allowed[id], found = true, true
			}
		}
		if !found {
			return nil, false, fmt.Errorf("match: bank %q: %w", name, ErrUnknownBank)
		}
	}
	want := func(bankID int64) (bankInfo, bool) {
		b, ok := m.banks[bankID]
		if !ok || len(allowed) > 0 && !allowed[bankID] {
			return b, false
		}
		return b, true
	}
	var hits []hit
	low := false
	if q.PDQ != nil {
		floor := m.QualityFloor
		if q.Quality >= 0 && q.Quality < floor {
			low = true
		} else {
			hits = m.searchPDQ(q, want)
		}
	}
	if q.MD5 != nil {
		hits = m.exactHits(hits, bank.MD5, q.MD5[:], want)
	}
	if q.SHA256 != nil {
		hits = m.exactHits(hits, bank.SHA256, q.SHA256[:], want)
	}
	if len(q.VPDQ) > 0 {
		hits = m.videoHits(hits, q.VPDQ, want)
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.distance != b.distance {
			return a.distance - b.distance
		}
		if a.video.QueryPercent != b.video.QueryPercent {
			return cmp.Compare(b.video.QueryPercent, a.video.QueryPercent)
		}
		if a.bank != b.bank {
			if a.bank < b.bank {
				return -1
			}
			return 1
		}
		return int(a.entryID - b.entryID)
	})
	return hits, low, nil
}

func (m *Matcher) exactHits(hits []hit, sig bank.Signal, raw []byte, want func(int64) (bankInfo, bool)) []hit {
	for _, id := range m.exact.ids[string(sig)+":"+string(raw)] {
		bankID, entryID := unpack(id)
		if b, ok := want(bankID); ok {
			hits = append(hits, hit{bank: b.name, entryID: entryID})
		}
	}
	return hits
}

// videoHits finds the banked videos that frames match under each wanted
// bank's own query percentage: the index is searched once at the lowest
// of them, and each hit checked against its bank's.
func (m *Matcher) videoHits(hits []hit, frames []vpdq.Frame, want func(int64) (bankInfo, bool)) []hit {
	least := -1.0
	for id := range m.banks {
		if b, ok := want(id); ok && (least < 0 || b.vpdqPercent < least) {
			least = b.vpdqPercent
		}
	}
	if least < 0 {
		return hits
	}
	rule := vpdq.DefaultRule
	rule.QueryPercent = least
	for _, v := range m.video.SearchRule(frames, rule) {
		bankID, entryID := unpack(v.Key)
		if b, ok := want(bankID); ok && v.QueryPercent >= b.vpdqPercent {
			hits = append(hits, hit{bank: b.name, entryID: entryID, video: v.Result})
		}
	}
	return hits
}

// searchPDQ searches every variant at the largest radius any wanted bank
// allows, keeps each entry's nearest variant, and then applies each bank's
// own threshold.
func (m *Matcher) searchPDQ(q Query, want func(int64) (bankInfo, bool)) []hit {
	radius := q.Radius
	if radius < 0 {
		for id := range m.banks {
			if b, ok := want(id); ok {
				radius = max(radius, b.threshold)
			}
		}
		if radius < 0 {
			return nil // no bank to search
		}
	}
	variants := []pdq.Hash{*q.PDQ}
	if q.Dihedral != nil {
		variants = q.Dihedral[:]
	}
	best := map[uint64]hit{}
	var buf []hamming.Result
	for v, h := range variants {
		buf = m.pdq.Search(h.Words(), radius, buf[:0])
		for _, r := range buf {
			bankID, entryID := unpack(r.ID)
			b, ok := want(bankID)
			if !ok {
				continue
			}
			limit := b.threshold
			if q.Radius >= 0 {
				limit = q.Radius
			}
			if r.Distance > limit {
				continue
			}
			if old, seen := best[r.ID]; seen && old.distance <= r.Distance {
				continue
			}
			best[r.ID] = hit{bank: b.name, entryID: entryID, distance: r.Distance, variant: pdq.Dihedral(v)}
		}
	}
	hits := make([]hit, 0, len(best))
	for _, h := range best {
		hits = append(hits, h)
	}
	return hits
}
