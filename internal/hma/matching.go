package hma

import (
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// matchJSON is one match as HMA writes it; the distance is a string.
type matchJSON struct {
	ContentID int64  `json:"bank_content_id"`
	Distance  string `json:"distance"`
}

// checkSignalType answers a signal type this server cannot match with
// HMA's own words for it.
func (h *handler) checkSignalType(st string) error {
	if !slices.Contains(h.be.SignalTypes(), st) {
		return fail(http.StatusBadRequest, "No such SignalType '%s'", clip(st))
	}
	return nil
}

// contentType returns the content type named by an upload's field, a
// content_type parameter or, for a fetched URL, its Content-Type header.
func (h *handler) contentType(name string) (string, error) {
	if _, ok := h.be.ContentTypes()[name]; !ok {
		return "", fail(http.StatusBadRequest, "no such content_type: '%s'", clip(name))
	}
	return name, nil
}

func (h *handler) urlContentType(r *http.Request, header string) (string, error) {
	if ct := r.URL.Query().Get("content_type"); ct != "" {
		return h.contentType(ct)
	}
	switch h := strings.ToLower(header); {
	case strings.HasPrefix(h, "image"):
		return ContentPhoto, nil
	case strings.HasPrefix(h, "video"):
		return ContentVideo, nil
	}
	return "", fail(http.StatusBadRequest, "unsupported url ContentType: '%s', if you know the expected type, provide it with the content_type query param", clip(header))
}

// selectTypes applies HMA's types parameter (comma-separated signal types)
// to the signals of a content type.
func (h *handler) selectTypes(r *http.Request, contentType string) (map[string]bool, error) {
	all := h.be.ContentTypes()[contentType]
	want := map[string]bool{}
	q := r.URL.Query()
	if !q.Has("types") {
		for _, st := range all {
			want[st] = true
		}
		return want, nil
	}
	for _, st := range strings.Split(q.Get("types"), ",") {
		st = strings.TrimSpace(st)
		if st == "" {
			continue
		}
		if !slices.Contains(all, st) {
			return nil, fail(http.StatusBadRequest, "signal type '%s' doesn't exist or is disabled", clip(st))
		}
		want[st] = true
	}
	if len(want) == 0 {
		return nil, fail(http.StatusBadRequest, "empty signal type selection")
	}
	return want, nil
}

// hashURL fetches the content a url parameter names and hashes it.
func (h *handler) hashURL(r *http.Request, raw string) (map[string]string, string, error) {
	data, header, err := h.fetch.get(r.Context(), raw)
	if err != nil {
		return nil, "", err
	}
	ct, err := h.urlContentType(r, header)
	if err != nil {
		return nil, "", err
	}
	return h.hash(r, ct, data)
}

// hashUpload hashes the one file of a multipart upload, whose field names
// its content type.
func (h *handler) hashUpload(w http.ResponseWriter, r *http.Request, k auth.Key) (map[string]string, upload, error) {
	up, err := h.readUpload(w, r, k)
	if err != nil {
		return nil, up, err
	}
	defer up.done() // the file is hashed here: the caller needs its fields alone
	f, err := up.single()
	if err != nil {
		return nil, up, err
	}
	ct, err := h.contentType(f.field)
	if err != nil {
		return nil, up, err
	}
	hashes, _, err := h.hash(r, ct, f.data)
	return hashes, up, err
}

func (h *handler) hash(r *http.Request, ct string, data []byte) (map[string]string, string, error) {
	want, err := h.selectTypes(r, ct)
	if err != nil {
		return nil, "", err
	}
	hashes, err := h.be.Hash(r.Context(), ct, data)
	if err != nil {
		return nil, "", err
	}
	for st := range hashes {
		if !want[st] {
			delete(hashes, st)
		}
	}
	return hashes, ct, nil
}

func (h *handler) hashPost(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	hashes, _, err := h.hashUpload(w, r, k)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hashes)
	return nil
}

func (h *handler) hashGet(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	raw, err := required(r, "url")
	if err != nil {
		return err
	}
	hashes, _, err := h.hashURL(r, raw)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hashes)
	return nil
}

// rawLookup is HMA's index lookup: content ids, with distances if asked,
// whatever the banks' enabled ratios.
func (h *handler) rawLookup(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	signal, err := required(r, "signal")
	if err != nil {
		return err
	}
	st, err := required(r, "signal_type")
	if err != nil {
		return err
	}
	withDistance, err := queryBool(r, "include_distance", false)
	if err != nil {
		return err
	}
	if err := h.checkSignalType(st); err != nil {
		return err
	}
	ms, err := h.be.Lookup(r.Context(), st, signal, banksParam(r))
	if err != nil {
		return err
	}
	out := make([]any, 0, len(ms))
	for _, m := range ms {
		if withDistance {
			out = append(out, matchJSON{m.ContentID, m.Distance})
		} else {
			out = append(out, m.ContentID)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"matches": out})
	return nil
}

// coinflip draws the number a bank's enabled ratio must reach for its
// matches to count, as HMA does: 0 when bypassed, else a draw seeded by the
// seed parameter (so one piece of content sees the same banks every time)
// or random. HMA's Python generator draws other numbers for a seed, so a
// seed selects a consistent subset of banks, not the same one HMA would.
func coinflip(r *http.Request) (float64, error) {
	bypass, err := queryBool(r, "bypass_coinflip", false)
	if err != nil || bypass {
		return 0, err
	}
	q := r.URL.Query()
	if !q.Has("seed") {
		return rand.Float64(), nil
	}
	f := fnv.New64a()
	f.Write([]byte(q.Get("seed")))
	s := f.Sum64()
	return rand.New(rand.NewPCG(s, s>>1|1)).Float64(), nil
}

// byBank groups matches by bank, keeping those of banks enabled for this
// draw.
func (h *handler) byBank(r *http.Request, ms []Match, flip float64) (map[string][]matchJSON, error) {
	out := map[string][]matchJSON{}
	if len(ms) == 0 {
		return out, nil
	}
	banks, err := h.be.ListBanks(r.Context())
	if err != nil {
		return nil, err
	}
	ratio := map[string]float64{}
	for _, b := range banks {
		ratio[b.Name] = b.EnabledRatio
	}
	for _, m := range ms {
		if q, ok := ratio[m.Bank]; ok && q >= flip {
			out[m.Bank] = append(out[m.Bank], matchJSON{m.ContentID, m.Distance})
		}
	}
	return out, nil
}

func (h *handler) lookupGet(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	q := r.URL.Query()
	flip, err := coinflip(r)
	if err != nil {
		return err
	}
	banks := banksParam(r)
	if raw := q.Get("url"); raw != "" {
		hashes, _, err := h.hashURL(r, raw)
		if err != nil {
			return err
		}
		out := map[string]map[string][]matchJSON{}
		for st, v := range hashes {
			ms, err := h.be.Lookup(r.Context(), st, v, banks)
			if err != nil {
				return err
			}
			if out[st], err = h.byBank(r, ms, flip); err != nil {
				return err
			}
		}
		if st := q.Get("signal_type"); st != "" {
			writeJSON(w, http.StatusOK, orEmpty(out[st]))
			return nil
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	signal, st := q.Get("signal"), q.Get("signal_type")
	if signal == "" || st == "" {
		return fail(http.StatusBadRequest, "Either url or both signal and signal_type are required")
	}
	if err := h.checkSignalType(st); err != nil {
		return err
	}
	ms, err := h.be.Lookup(r.Context(), st, signal, banks)
	if err != nil {
		return err
	}
	out, err := h.byBank(r, ms, flip)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func orEmpty(m map[string][]matchJSON) map[string][]matchJSON {
	if m == nil {
		return map[string][]matchJSON{}
	}
	return m
}

// lookupPost hashes an uploaded file and matches every signal of it.
func (h *handler) lookupPost(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	flip, err := coinflip(r)
	if err != nil {
		return err
	}
	up, err := h.readUpload(w, r, k)
	if err != nil {
		return err
	}
	defer up.done()
	f, err := up.single()
	if err != nil {
		return err
	}
	ct, err := h.contentType(f.field)
	if err != nil {
		return err
	}
	want, err := h.selectTypes(r, ct)
	if err != nil {
		return err
	}
	res, err := h.be.LookupContent(r.Context(), ct, f.data, banksParam(r))
	if err != nil {
		return err
	}
	out := map[string]map[string][]matchJSON{}
	for st, ms := range res {
		if !want[st] {
			continue
		}
		if out[st], err = h.byBank(r, ms, flip); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) indexStatus(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	st, err := h.indexFor(r)
	if err != nil {
		return err
	}
	out := map[string]any{}
	for name, s := range st {
		v := map[string]any{"present": false, "built_to": -1, "size": 0}
		if s.Present {
			v = map[string]any{"present": true, "built_to": unix(s), "size": s.Size}
		}
		out[name] = v
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// indexFor returns the index status of every signal type, or of the one
// the signal_type parameter names.
func (h *handler) indexFor(r *http.Request) (map[string]IndexStatus, error) {
	all, err := h.be.IndexStatus(r.Context())
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	if !q.Has("signal_type") {
		return all, nil
	}
	st := q.Get("signal_type")
	s, ok := all[st]
	if !ok {
		return nil, fail(http.StatusBadRequest, "No such signal type '%s'", clip(st))
	}
	return map[string]IndexStatus{st: s}, nil
}

func unix(s IndexStatus) int64 {
	if s.BuiltTo.IsZero() {
		return -1
	}
	return s.BuiltTo.Unix()
}

// compare answers {"pdq": [a, b]} with {"pdq": [match, {"distance": d}]}.
func (h *handler) compare(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	v, _, err := readJSON(w, r)
	if err != nil {
		return err
	}
	in, ok := v.(map[string]any)
	if !ok {
		return fail(http.StatusBadRequest, "Request input was not a dict")
	}
	out := map[string]any{}
	for st, pair := range in {
		list, ok := pair.([]any)
		if !ok {
			return fail(http.StatusBadRequest, "Comparison hashes for %s was not a list", clip(st))
		}
		if len(list) != 2 {
			return fail(http.StatusBadRequest, "Comparison hash list length must be exactly 2")
		}
		if err := h.checkSignalType(st); err != nil {
			return err
		}
		a, aok := list[0].(string)
		b, bok := list[1].(string)
		if !aok || !bok {
			return fail(http.StatusBadRequest, "Invalid %s hash: want two strings", clip(st))
		}
		c, err := h.be.Compare(st, a, b)
		if err != nil {
			return fail(http.StatusBadRequest, "Invalid %s hash: %v", clip(st), err)
		}
		info := map[string]any{}
		if c.Distance != nil {
			info["distance"] = *c.Distance
		}
		out[st] = []any{c.Match, info}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
