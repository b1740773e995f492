package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/network"
)

// maxEvents bounds a POST /v1/events body: about 100,000 events of the
// usual size, and never more than one request's worth of memory.
const maxEvents = 16 << 20

// events handles POST /v1/events: account-network activity as JSON lines
// (application/x-ndjson) or a JSON batch (application/json: an array of
// events, or {"events": [...]}). Bad lines or items are named and skipped;
// the good ones are stored. Idempotent by event id (a follow by its pair of
// accounts), so a platform may resend a batch.
func (a *API) events(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	if a.cfg.Networks == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "account-network activity is not taken on this server")
	}
	mt, err := checkContentType(r, "application/x-ndjson", "application/jsonl", "application/json")
	if err != nil {
		return err
	}
	if err := limitBody(w, r, maxEvents); err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "body is over the %d-byte limit: send fewer events at a time", maxEvents)
		}
		return bodyError("reading the body", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errorf(http.StatusBadRequest, CodeEmptyBody, "no events: send JSON lines or a JSON array of events")
	}
	var es []network.Event
	var st network.ReadStats
	if mt == "application/json" {
		// The batch form is JSON as every other body: no null, no key
		// given twice, no bad string (each refusal naming the field).
		if err := checkBody(body, ""); err != nil {
			return err
		}
		if st, err = decodeBatch(body, func(e network.Event) bool { es = append(es, e); return true }); err != nil {
			return err
		}
	} else if st, err = network.Decode(bytes.NewReader(body), func(e network.Event) bool { es = append(es, e); return true }); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "reading the body: %v", err)
	}
	bad := make([]map[string]any, 0, len(st.BadLines))
	for _, b := range st.BadLines {
		bad = append(bad, map[string]any{"line": b.Line, "error": b.Err.Error()})
	}
	if len(es) == 0 {
		var first []string
		for _, b := range st.BadLines[:min(5, len(st.BadLines))] {
			first = append(first, b.Error())
		}
		return errorf(http.StatusBadRequest, CodeInvalidEvents, "none of the %d events is valid: %s", st.Bad, strings.Join(first, "; "))
	}
	res, err := a.cfg.Networks.Ingest(r.Context(), k.ID, es)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"accepted": res.Accepted, "repeated": res.Repeated,
		"unresolved": res.Unresolved, "bad": st.Bad, "bad_lines": bad})
	return nil
}

// decodeBatch reads a JSON array of events, or an object {"events": [...]},
// passing each good one to add; items are numbered from 1 as lines are.
func decodeBatch(body []byte, add func(network.Event) bool) (network.ReadStats, error) {
	var st network.ReadStats
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		var wrapped struct {
			Events []json.RawMessage `json:"events"`
		}
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		if err2 := d.Decode(&wrapped); err2 != nil || wrapped.Events == nil {
			return st, errorf(http.StatusBadRequest, CodeBadRequest, "not a JSON array of events nor {\"events\": [...]}: %v", err)
		}
		items = wrapped.Events
	}
	for i, it := range items {
		st.Lines++
		e, err := network.ParseEvent(it)
		if err != nil {
			st.Bad++
			if len(st.BadLines) < network.MaxBadKept {
				st.BadLines = append(st.BadLines, network.LineError{Line: i + 1, Err: err})
			}
			continue
		}
		if add(e) {
			st.Accepted++
		}
	}
	return st, nil
}
