package hma

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/request"
)

// ValidBankName reports whether name is a bank name HMA accepts:
// [A-Z_][A-Z0-9_]*.
func ValidBankName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('A' <= c && c <= 'Z' || c == '_' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func checkBankName(name string) error {
	if !ValidBankName(name) {
		return fail(http.StatusBadRequest, "Bank names must be UPPER_WITH_UNDERSCORE ([A-Z_][A-Z0-9_]*), got %s", strconv.Quote(clip(name)))
	}
	return nil
}

// maxNote is HMA's limit on a content's note.
const maxNote = 255

func checkNote(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fail(http.StatusBadRequest, "note should be a string")
	}
	if utf8.RuneCountInString(s) > maxNote {
		return "", fail(http.StatusBadRequest, "note must be at most %d characters", maxNote)
	}
	return s, nil
}

func (h *handler) listBanks(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	bs, err := h.be.ListBanks(r.Context())
	if err != nil {
		return err
	}
	if bs == nil {
		bs = []Bank{}
	}
	writeJSON(w, http.StatusOK, bs)
	return nil
}

func (h *handler) getBank(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	b, err := h.bankOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

// ratio reads the enabled ratio of a bank request: enabled_ratio (a number,
// or a string of one) wins over enabled (a boolean).
func ratio(in map[string]any) (*float64, error) {
	if v, ok := in["enabled_ratio"]; ok && v != nil {
		f, err := toFloat("enabled_ratio", v)
		if err != nil {
			return nil, err
		}
		if f < 0 || f > 1 {
			return nil, fail(http.StatusBadRequest, "enabled_ratio %v: want 0 to 1", f)
		}
		return &f, nil
	}
	if v, ok := in["enabled"]; ok && v != nil {
		b, err := toBool("enabled", v)
		if err != nil {
			return nil, err
		}
		f := 0.0
		if b {
			f = 1
		}
		return &f, nil
	}
	return nil, nil
}

func (h *handler) createBank(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	in, err := readObject(w, r)
	if err != nil {
		return err
	}
	name, ok := in["name"].(string)
	if !ok {
		return fail(http.StatusUnprocessableEntity, "name: field required (a string)")
	}
	if err := checkBankName(name); err != nil {
		return err
	}
	q, err := ratio(in)
	if err != nil {
		return err
	}
	b := Bank{Name: name, EnabledRatio: 1}
	if q != nil {
		b.EnabledRatio = *q
	}
	b, err = h.be.CreateBank(r.Context(), k.ID, b)
	if errors.Is(err, ErrExists) {
		return fail(http.StatusForbidden, "Bank already exists")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, b)
	return nil
}

func (h *handler) updateBank(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	in, err := readObject(w, r)
	if err != nil {
		return err
	}
	var u BankUpdate
	if v, ok := in["name"]; ok && v != nil {
		name, ok := v.(string)
		if !ok {
			return fail(http.StatusUnprocessableEntity, "name: want a string")
		}
		if err := checkBankName(name); err != nil {
			return err
		}
		u.Name = &name
	}
	if u.EnabledRatio, err = ratio(in); err != nil {
		return err
	}
	b, err := h.be.UpdateBank(r.Context(), k.ID, r.PathValue("bank"), u)
	switch {
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, "Bank not found")
	case errors.Is(err, ErrExists):
		return fail(http.StatusForbidden, "Bank name already exists")
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

// deleteBank answers 200 whether or not the bank existed, as HMA does.
func (h *handler) deleteBank(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	if err := h.be.DeleteBank(r.Context(), k.ID, r.PathValue("bank")); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	writeJSON(w, http.StatusOK, message("Done"))
	return nil
}

// bankOf returns the bank a route names, or HMA's 404.
func (h *handler) bankOf(r *http.Request) (Bank, error) {
	name := r.PathValue("bank")
	b, err := h.be.Bank(r.Context(), name)
	if errors.Is(err, ErrNotFound) {
		return b, fail(http.StatusNotFound, "bank '%s' not found", clip(name))
	}
	return b, err
}

// contentID reads the id of a content route. HMA's route only matches an
// integer, so anything else is 404.
func contentID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 0 {
		return 0, fail(http.StatusNotFound, "no content '%s'", clip(r.PathValue("id")))
	}
	return id, nil
}

// metadata reads what HMA calls a content's metadata: {"content_id",
// "content_uri", "json"}, from the JSON body or a multipart field. Coop also
// sends content_id and content_uri as query parameters or form fields, so
// those count too. Of it, Safeguard keeps content_id (as the entry's
// external id); see docs/hma.md.
func metadata(body map[string]any, up upload, r *http.Request) (string, error) {
	var raw any
	if v, ok := body["metadata"]; ok {
		raw = v
	} else if s, ok := up.fields["metadata"]; ok {
		if err := request.CheckJSON([]byte(s), maxJSON); err != nil {
			return "", fail(http.StatusBadRequest, "metadata form field: %v", err)
		}
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return "", fail(http.StatusBadRequest, "metadata form field must be valid JSON")
		}
	}
	id := r.URL.Query().Get("content_id")
	if v, ok := up.fields["content_id"]; ok {
		id = v
	}
	if raw == nil {
		return id, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return "", fail(http.StatusBadRequest, "metadata should be a json object")
	}
	for key, v := range m {
		switch key {
		case "content_id", "content_uri":
			s, ok := v.(string)
			if !ok && v != nil {
				return "", fail(http.StatusBadRequest, "Invalid metadata: %s should be a string", key)
			}
			if key == "content_id" && s != "" {
				id = s
			}
		case "json":
			if _, ok := v.(map[string]any); !ok && v != nil {
				return "", fail(http.StatusBadRequest, "Invalid metadata: json should be an object")
			}
		case "collab": // set by exchanges, never by callers; HMA drops it too
		default:
			return "", fail(http.StatusBadRequest, "Invalid metadata: extra field %s not permitted", strconv.Quote(clip(key)))
		}
	}
	return id, nil
}

// addContent banks content given by URL (?url=) or as a multipart upload.
func (h *handler) addContent(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	b, err := h.bankOf(r)
	if err != nil {
		return err
	}
	up, err := h.readUpload(w, r, k)
	if err != nil {
		return err
	}
	defer up.done()
	body := map[string]any{}
	var noteRaw any
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		// As Flask's request.is_json: other bodies are not read.
		v, _, err := readJSON(w, r)
		if err != nil {
			return err
		}
		if m, ok := v.(map[string]any); ok {
			body, noteRaw = m, m["note"]
		}
	} else if s, ok := up.fields["note"]; ok {
		noteRaw = s
	}
	ext, err := metadata(body, up, r)
	if err != nil {
		return err
	}
	note, err := checkNote(noteRaw)
	if err != nil {
		return err
	}
	var hashes map[string]string
	switch raw := r.URL.Query().Get("url"); {
	case raw != "":
		hashes, _, err = h.hashURL(r, raw)
	case up.files != nil:
		var f file
		if f, err = up.single(); err == nil {
			var ct string
			if ct, err = h.contentType(f.field); err == nil {
				hashes, _, err = h.hash(r, ct, f.data)
			}
		}
	default:
		err = fail(http.StatusBadRequest, "Neither `url` nor multipart file upload was received")
	}
	if err != nil {
		return err
	}
	return h.bankSignals(w, r, k, Content{Bank: b.Name, Signals: hashes, Note: note, ExternalID: ext})
}

// addSignals banks content given as its signals: {"pdq": "...", "note": ...}.
func (h *handler) addSignals(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	b, err := h.bankOf(r)
	if err != nil {
		return err
	}
	in, err := readObject(w, r)
	if err != nil {
		return err
	}
	note, err := checkNote(in["note"])
	if err != nil {
		return err
	}
	delete(in, "note")
	c := Content{Bank: b.Name, Signals: map[string]string{}, Note: note}
	for st, v := range in {
		s, ok := v.(string)
		if !ok {
			return fail(http.StatusBadRequest, "Invalid %s signal: want a string", clip(st))
		}
		c.Signals[st] = s
	}
	return h.bankSignals(w, r, k, c)
}

// bankSignals is HMA's _bank_add_signals: it checks every signal type, and
// answers 200 with the new id and the signals as banked.
func (h *handler) bankSignals(w http.ResponseWriter, r *http.Request, k auth.Key, c Content) error {
	if len(c.Signals) == 0 {
		return fail(http.StatusBadRequest, "No signals given")
	}
	for st := range c.Signals {
		if !slices.Contains(h.be.SignalTypes(), st) {
			return fail(http.StatusBadRequest, "No such signal type %s", clip(st))
		}
	}
	c, err := h.be.AddContent(r.Context(), k.ID, c)
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			return fail(http.StatusBadRequest, "Invalid signal: %v", err)
		}
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": c.ID, "signals": c.Signals})
	return nil
}

// content returns the content a route names, or HMA's 404s.
func (h *handler) content(r *http.Request) (Bank, Content, error) {
	b, err := h.bankOf(r)
	if err != nil {
		return b, Content{}, err
	}
	id, err := contentID(r)
	if err != nil {
		return b, Content{}, err
	}
	c, err := h.be.Content(r.Context(), b.Name, id)
	if errors.Is(err, ErrNotFound) {
		return b, c, fail(http.StatusNotFound, "content '%d' not found", id)
	}
	return b, c, err
}

// getContent shows banked content. Its signals are the listed hashes
// themselves, which Safeguard shows only to a key allowed to export banks
// whatever include_signals says: a leaked list teaches offenders which
// images to alter.
func (h *handler) getContent(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	b, c, err := h.content(r)
	if err != nil {
		return err
	}
	out := map[string]any{
		"id":                 c.ID,
		"disable_until_ts":   c.DisableUntil,
		"original_media_uri": nil,
		"bank":               b,
	}
	if flagTrue(r, "include_signals", false) && k.Role.Can(auth.BanksExport) && len(c.Signals) > 0 {
		out["signals"] = c.Signals
	}
	if flagTrue(r, "include_metadata", true) && c.ExternalID != "" {
		out["metadata"] = map[string]any{"content_id": c.ExternalID, "content_uri": nil, "json": nil, "collab": nil}
	}
	if c.Note != "" {
		out["note"] = c.Note
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// fiveYears bounds disable_until_ts, as HMA does.
const fiveYears = 5 * 365 * 24 * time.Hour

func (h *handler) updateContent(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	b, c, err := h.content(r)
	if err != nil {
		return err
	}
	in, err := readObject(w, r)
	if err != nil {
		return err
	}
	var u ContentUpdate
	if v, ok := in["disable_until_ts"]; ok {
		ts, err := toInt("disable_until_ts", v)
		if err != nil {
			return err
		}
		if ts < 0 {
			return fail(http.StatusBadRequest, "disable_until_ts must be a non-negative integer")
		}
		if ts > time.Now().Add(fiveYears).Unix() {
			return fail(http.StatusBadRequest, "disable_until_ts must be less than 5 years in the future")
		}
		u.DisableUntil = &ts
	}
	if v, ok := in["note"]; ok {
		note, err := checkNote(v)
		if err != nil {
			return err
		}
		u.Note = &note
	}
	c, err = h.be.UpdateContent(r.Context(), k.ID, b.Name, c.ID, u)
	if err != nil {
		return err
	}
	// HMA answers with its stored record of the content.
	var note any
	if c.Note != "" {
		note = c.Note
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": c.ID, "disable_until_ts": c.DisableUntil, "collab_metadata": map[string]any{},
		"original_media_uri": nil, "bank": b, "user_metadata": nil, "note": note,
	})
	return nil
}

func (h *handler) deleteContent(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	b, err := h.bankOf(r)
	if err != nil {
		return err
	}
	id, err := contentID(r)
	if err != nil {
		return err
	}
	n, err := h.be.DeleteContent(r.Context(), k.ID, b.Name, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"deleted": n})
	return nil
}

// configuredElsewhere answers the routes that change exchanges: in
// Safeguard they and their credentials live in the configuration (never
// in flags or in the database through an API), so they are reviewed and
// deployed like the rest of it.
func (h *handler) configuredElsewhere(http.ResponseWriter, *http.Request, auth.Key) error {
	return fail(http.StatusForbidden, "exchanges and their credentials are set in Safeguard's configuration file or environment, not through this API (see docs/hma.md)")
}

func (h *handler) listExchanges(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	xs, err := h.be.ListExchanges(r.Context())
	if err != nil {
		return err
	}
	names := make([]string, 0, len(xs))
	for _, x := range xs {
		names = append(names, x.Name)
	}
	writeJSON(w, http.StatusOK, names)
	return nil
}

func (h *handler) listExchangeAPIs(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	apis, err := h.be.ExchangeAPIs(r.Context())
	if err != nil {
		return err
	}
	names := make([]string, 0, len(apis))
	for _, a := range apis {
		names = append(names, a.Name)
	}
	writeJSON(w, http.StatusOK, names)
	return nil
}

func (h *handler) exchangeAPI(r *http.Request, status int) (ExchangeAPI, error) {
	name := r.PathValue("api")
	apis, err := h.be.ExchangeAPIs(r.Context())
	if err != nil {
		return ExchangeAPI{}, err
	}
	for _, a := range apis {
		if a.Name == name {
			return a, nil
		}
	}
	if status == http.StatusBadRequest {
		return ExchangeAPI{}, fail(status, "no such Exchange API '%s'", clip(name))
	}
	return ExchangeAPI{}, fail(status, "Exchange API '%s' not found", clip(name))
}

func (h *handler) getExchangeAPI(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	a, err := h.exchangeAPI(r, http.StatusBadRequest)
	if err != nil {
		return err
	}
	// "authentification" is HMA's spelling, which its clients read.
	writeJSON(w, http.StatusOK, map[string]bool{"supports_authentification": a.SupportsAuth, "has_set_authentification": a.HasAuth})
	return nil
}

func (h *handler) getExchangeSchema(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	a, err := h.exchangeAPI(r, http.StatusNotFound)
	if err != nil {
		return err
	}
	fields := func(fs []SchemaField) map[string]any {
		if fs == nil {
			fs = []SchemaField{}
		}
		return map[string]any{"fields": fs}
	}
	var creds any
	if a.CredentialsSchema != nil {
		creds = fields(a.CredentialsSchema)
	}
	writeJSON(w, http.StatusOK, map[string]any{"config_schema": fields(a.ConfigSchema), "credentials_schema": creds})
	return nil
}

func (h *handler) exchange(r *http.Request) (Exchange, error) {
	name := r.PathValue("name")
	x, err := h.be.Exchange(r.Context(), name)
	if errors.Is(err, ErrNotFound) {
		return x, fail(http.StatusNotFound, "Exchange '%s' not found", clip(name))
	}
	return x, err
}

func (h *handler) getExchange(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	x, err := h.exchange(r)
	if err != nil {
		return err
	}
	out := map[string]any{}
	for k, v := range x.Config {
		out[k] = v
	}
	out["name"], out["api"], out["enabled"] = x.Name, x.API, x.Enabled
	out["credential_status"] = map[string]any{"has_credentials": x.HasCredentials, "source": "exchange"}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) getExchangeStatus(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	x, err := h.exchange(r)
	if err != nil {
		return err
	}
	st, err := h.be.ExchangeStatus(r.Context(), x.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (h *handler) signalTypes(w http.ResponseWriter, _ *http.Request, _ auth.Key) error {
	out := []map[string]any{}
	for _, st := range h.be.SignalTypes() {
		out = append(out, map[string]any{"name": st, "enabled_ratio": 1.0})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// signalTypeIndex is /c/signal_type/index. Safeguard's index applies every
// bank change as it is written, so the sizes agree unless the index is
// behind another server's writes.
func (h *handler) signalTypeIndex(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	st, err := h.indexFor(r)
	if err != nil {
		return err
	}
	out := map[string]any{}
	for name, s := range st {
		out[name] = map[string]any{
			"db_size": s.Size, "index_size": s.Size, "index_out_of_date": s.OutOfDate || !s.Present,
			"newest_db_item": unix(s), "index_built_to": unix(s),
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) contentTypes(w http.ResponseWriter, _ *http.Request, _ auth.Key) error {
	out := []map[string]any{}
	for _, ct := range []string{ContentPhoto, ContentVideo} {
		if _, ok := h.be.ContentTypes()[ct]; ok {
			out = append(out, map[string]any{"name": ct, "enabled": true})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
