package hma

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bodyrate"
	"github.com/safeguard-oss/safeguard/internal/request"
)

// HMA validates query parameters with pydantic, which answers a missing or
// mistyped one with 422; everything its handlers check themselves is 400.
// These helpers keep that split.

// required returns a query parameter HMA declares required: 422 without it.
func required(r *http.Request, name string) (string, error) {
	q := r.URL.Query()
	if !q.Has(name) {
		return "", fail(http.StatusUnprocessableEntity, "%s: field required", name)
	}
	return q.Get(name), nil
}

// queryBool reads a boolean query parameter as pydantic does (true/false,
// 1/0, yes/no, on/off, any case); anything else is 422.
func queryBool(r *http.Request, name string, def bool) (bool, error) {
	q := r.URL.Query()
	if !q.Has(name) {
		return def, nil
	}
	b, ok := parseBool(q.Get(name))
	if !ok {
		return false, fail(http.StatusUnprocessableEntity, "%s: %q is not a valid boolean", name, clip(q.Get(name)))
	}
	return b, nil
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on", "t", "y":
		return true, true
	case "false", "0", "no", "off", "f", "n":
		return false, true
	}
	return false, false
}

// flagTrue is HMA's own reading of include_signals and friends: the value
// "true" in any case is true, anything else false.
func flagTrue(r *http.Request, name string, def bool) bool {
	q := r.URL.Query()
	if !q.Has(name) {
		return def
	}
	return strings.EqualFold(q.Get(name), "true")
}

// banksParam reads HMA's comma-separated banks filter; nil means all.
func banksParam(r *http.Request) []string {
	v := r.URL.Query().Get("banks")
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// readJSON reads a JSON body, if there is one. HMA reads bodies with Flask's
// request.json, so the value may be of any JSON type; each route checks the
// type it needs. It must pass request.CheckJSON first, as /v1's bodies do:
// HMA would keep the last of a key given twice, where a proxy or a log
// reader may keep the first. Strings are bounded by the body only: a vPDQ
// hash (POST /c/bank/<name>/signal) is longer than any string of /v1.
func readJSON(w http.ResponseWriter, r *http.Request) (any, bool, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSON))
	if err != nil {
		return nil, false, bodyError("reading the body", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, false, nil
	}
	if err := request.CheckJSON(body, maxJSON); err != nil {
		return nil, false, err
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false, fail(http.StatusBadRequest, "body is not valid JSON: %v", err)
	}
	if d.More() {
		return nil, false, fail(http.StatusBadRequest, "body holds more than one JSON value")
	}
	return v, true, nil
}

// readObject reads a JSON body that must be an object.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	v, ok, err := readJSON(w, r)
	if err != nil {
		return nil, err
	}
	obj, isObj := v.(map[string]any)
	if !ok || !isObj {
		return nil, fail(http.StatusBadRequest, "this endpoint expects a JSON object payload")
	}
	return obj, nil
}

// numberText returns the text of a number given as a JSON number or a
// string, as pydantic's lax mode and HMA's str_to_type take either.
func numberText(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return x.String(), true
	case string:
		return strings.TrimSpace(x), true
	}
	return "", false
}

// toFloat reads a number that may arrive as a JSON number or a string (Coop
// sends enabled_ratio as "1"), or as a boolean, which pydantic takes as 1
// or 0.
func toFloat(name string, v any) (float64, error) {
	if b, ok := v.(bool); ok {
		if b {
			return 1, nil
		}
		return 0, nil
	}
	s, ok := numberText(v)
	if !ok {
		return 0, fail(http.StatusUnprocessableEntity, "%s: want a number", name)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fail(http.StatusUnprocessableEntity, "%s: %q is not a valid number", name, clip(s))
	}
	return f, nil
}

// toInt reads an integer given as a JSON number or a string, as HMA's
// str_to_type(…, int) does; anything else is 400.
func toInt(name string, v any) (int64, error) {
	s, ok := numberText(v)
	if !ok {
		return 0, fail(http.StatusBadRequest, "Invalid int for %s", name)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fail(http.StatusBadRequest, "Invalid int: '%s'", clip(s))
	}
	return n, nil
}

// toBool reads a boolean given as JSON true/false or as one of pydantic's
// spellings.
func toBool(name string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, ok := parseBool(x); ok {
			return b, nil
		}
	case json.Number:
		if b, ok := parseBool(x.String()); ok {
			return b, nil
		}
	}
	return false, fail(http.StatusUnprocessableEntity, "%s: want a boolean", name)
}

// upload is what a multipart body carried: its files by field name (HMA
// names the field after the content type: photo=@x.jpg) and its other
// fields.
type upload struct {
	files   []file
	fields  map[string]string
	release func() // gives back the body budget; nil when none was taken
}

// done gives back the body budget the upload took, once nothing holds its
// bytes.
func (u upload) done() {
	if u.release != nil {
		u.release()
	}
}

type file struct {
	field string
	data  []byte
}

// maxFields bounds the non-file fields of a multipart body.
const maxFields = 32

// readUpload reads a multipart/form-data body within max bytes in all,
// once the body budget admits it (by its declared length, else max; the
// key at most half the budget at once, as the API's uploads); the caller
// calls done when it no longer holds the bytes. Requests that are not
// multipart have no files.
func (h *handler) readUpload(w http.ResponseWriter, r *http.Request, k auth.Key) (up upload, err error) {
	max := h.cfg.MaxContent
	up = upload{fields: map[string]string{}}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return up, nil
	}
	if r.ContentLength > max {
		return up, fail(http.StatusRequestEntityTooLarge, "body of %d bytes is over the %d-byte limit", r.ContentLength, max)
	}
	if b := h.cfg.BodyBudget; b != nil {
		n := r.ContentLength
		if n <= 0 || n > max {
			n = max
		}
		if up.release, err = b.AcquireShare(r.Context(), "key "+k.ID, "upload", min(n, b.Total())); err != nil {
			return up, err
		}
		defer func() {
			if err != nil {
				up.done()
				up.release = nil
			}
		}()
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	mr, err := r.MultipartReader()
	if err != nil {
		return up, fail(http.StatusBadRequest, "multipart form: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return up, nil
		}
		if err != nil {
			return up, bodyError("multipart form", err)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return up, bodyError("multipart form", err)
		}
		name := part.FormName()
		if part.FileName() != "" {
			up.files = append(up.files, file{name, data})
			continue
		}
		if len(up.fields) >= maxFields {
			return up, fail(http.StatusBadRequest, "multipart form: more than %d fields", maxFields)
		}
		if !utf8.Valid(data) {
			return up, fail(http.StatusBadRequest, "multipart form: field %q is not UTF-8 text", clip(name))
		}
		up.fields[name] = string(data)
	}
}

// bodyError is a failure reading a request body (what says where): over
// the limit (the MaxBytesError, or multipart's) or under the minimum rate
// (the *bodyrate.Error), which writeError answers, or cut short or
// malformed, which is the client's.
func bodyError(what string, err error) error {
	if bodyrate.Refused(err) {
		return err
	}
	if errors.Is(err, multipart.ErrMessageTooLarge) {
		return fail(http.StatusRequestEntityTooLarge, "%s: %v", what, err)
	}
	return fail(http.StatusBadRequest, "%s: %v", what, err)
}

// single returns the one file of an upload, as HMA insists.
func (up upload) single() (file, error) {
	switch len(up.files) {
	case 0:
		return file{}, fail(http.StatusBadRequest, "Missing multipart/form-data file upload")
	case 1:
		return up.files[0], nil
	}
	return file{}, fail(http.StatusBadRequest, "Only one file allowed per request")
}
