package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/limits"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/signal"
)

// contentTypes are what POST /v1/scan and an image upload to a bank accept
// besides multipart/form-data. The bytes decide the format; the type only
// says the body is content, not JSON or a form.
var contentTypes = []string{"image/*", "application/octet-stream"}

// scanTypes are what POST /v1/scan accepts: content, images or videos.
var scanTypes = []string{"multipart/form-data", "image/*", "video/*", "application/octet-stream"}

// maxField bounds the ids and context fields the platform sends.
const maxField = 256

// hashes is the signals part of an answer.
type hashes struct {
	PDQ     string `json:"pdq,omitempty"`
	Quality *int   `json:"quality,omitempty"`
	MD5     string `json:"md5,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// scanAnswer is what the platform gets back from a scan or lookup.
type scanAnswer struct {
	scan.Answer
	Hashes     hashes `json:"hashes"`
	LowQuality bool   `json:"low_quality"`
}

func answer(res scan.Result) scanAnswer {
	a := scanAnswer{Answer: scan.EventData(res.Record), LowQuality: res.LowQuality,
		Hashes: hashes{PDQ: res.PDQ, MD5: res.MD5, SHA256: res.SHA256}}
	if res.PDQ != "" && res.Quality >= 0 {
		q := res.Quality
		a.Hashes.Quality = &q
	}
	return a
}

// scan handles POST /v1/scan: the content as the raw body (with content_id,
// account_id, surface and visibility as query parameters) or as the
// "content" part of a multipart form (with those as form fields).
func (a *API) scan(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	mt, err := checkContentType(r, scanTypes...)
	if err != nil {
		return err
	}
	if err := limitBody(w, r, max(a.cfg.MaxBody, a.cfg.MaxVideo)+64<<10); err != nil { // room for a form's fields
		return err
	}
	release, err := a.admitBody(r, k, a.cfg.MaxBody+64<<10)
	if err != nil {
		return err
	}
	defer release()
	req := scan.Request{Actor: k.ID}
	defer func() {
		if req.ContentFile != "" {
			os.Remove(req.ContentFile)
		}
		// Decide keeps nothing of the bytes (evidence is sealed from
		// them before it returns), so the next scan may read into them.
		recycleBody(req.Content)
	}()
	fields := map[string]*string{"content_id": &req.ContentID, "account_id": &req.AccountID}
	var surface, visibility string
	fields["surface"], fields["visibility"] = &surface, &visibility
	var up uploadFields
	up.into(fields)
	if mt == "multipart/form-data" {
		if err := a.readForm(r, &req, fields); err != nil {
			return err
		}
		if err := queryFields(r, fields); err != nil {
			return err
		}
	} else {
		if err := queryFields(r, fields); err != nil {
			return err
		}
		req.ContentType = mt
		if req.Content, req.ContentFile, err = a.readUpload(r.Body); err != nil {
			return err
		}
	}
	if err := contextFields(&req, surface, visibility); err != nil {
		return err
	}
	if req.Upload, err = up.parse(); err != nil {
		return err
	}
	if len(req.Content) == 0 && req.ContentFile == "" {
		return errorf(http.StatusBadRequest, CodeEmptyBody, "no content: send the image as the body or as the form's \"content\" part")
	}
	res, err := a.cfg.Pipeline.Decide(r.Context(), req)
	if err != nil {
		return err
	}
	a.observe(res)
	writeJSON(w, http.StatusOK, answer(res))
	return nil
}

// scanFields are the fields a scan takes besides its content, as query
// parameters (the route table declares them) or form parts.
var scanFields = []string{"content_id", "account_id", "surface", "visibility", "ip", "port", "uploaded_at", "user_agent", "file_name"}

// queryFields sets the scan's fields from the query parameters, with a
// raw body or a multipart form alike (curl -F content=@x '...?content_id=y'
// is the README's first scan). One the form also gave with another value
// is refused naming it (an unknown one or one given twice, request.Check
// refused): none may silently lose the id it carries.
func queryFields(r *http.Request, fields map[string]*string) error {
	q := request.Parsed(r)
	for name, p := range fields {
		v := q.Text(name)
		if v == "" {
			continue
		}
		if *p != "" && *p != v {
			return errorf(http.StatusBadRequest, CodeBadRequest, "%s is given both as a query parameter (%q) and as a form field (%q)", name, clip(v), clip(*p))
		}
		*p = v
	}
	return nil
}

// readContent reads a body of content, which http.MaxBytesReader bounds,
// into a pooled buffer (recycleBody). A body cut short (a client gone, a
// malformed multipart part) is the client's problem, not ours.
func readContent(body io.Reader, limit int64) ([]byte, error) {
	return readContentAfter(bodyBuffer(), body, limit)
}

// readContentAfter is readContent appending to the bytes of b already read.
func readContentAfter(b []byte, body io.Reader, limit int64) ([]byte, error) {
	b, over, err := readAppend(b, body, limit)
	if err != nil {
		recycleBody(b)
		return nil, bodyError("reading the body", err)
	}
	if over {
		recycleBody(b)
		return nil, errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "content is over the %d-byte limit", limit)
	}
	return b, nil
}

func (a *API) readForm(r *http.Request, req *scan.Request, fields map[string]*string) error {
	seen := map[string]bool{} // fields read: one given twice is refused, not last-wins
	mr, err := r.MultipartReader()
	if err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "multipart form: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return bodyError("multipart form", err)
		}
		name := part.FormName()
		switch p := fields[name]; {
		case name == "content":
			if req.Content != nil || req.ContentFile != "" {
				return errorf(http.StatusBadRequest, CodeBadRequest, "multipart form: two \"content\" parts")
			}
			req.ContentType = part.Header.Get("Content-Type")
			if req.Content, req.ContentFile, err = a.readUpload(part); err != nil {
				return err
			}
			if req.Content == nil && req.ContentFile == "" {
				req.Content = []byte{}
			}
		case p != nil:
			if seen[name] {
				return errorf(http.StatusBadRequest, CodeBadRequest, "multipart form: %s is given twice", name)
			}
			seen[name] = true
			v, err := io.ReadAll(io.LimitReader(part, maxField+1))
			if err != nil {
				return errorf(http.StatusBadRequest, CodeBadRequest, "multipart form: field %s: %v", name, err)
			}
			*p = string(v)
		default:
			return errorf(http.StatusBadRequest, CodeBadRequest, "multipart form: unknown part %q: want content, %s", clip(name), strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		}
		part.Close()
	}
}

// contextFields checks the platform's ids and context.
func contextFields(req *scan.Request, surface, visibility string) error {
	// Checked here, the same for both backends: PostgreSQL refuses NUL and
	// invalid UTF-8 itself, and a scan that fails there never returns the
	// block decision a listed image needs.
	for name, v := range map[string]string{"content_id": req.ContentID, "account_id": req.AccountID} {
		if err := limits.Line(name, v, maxField); err != nil {
			return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
		}
	}
	req.Context = rules.Content{Surface: rules.Surface(surface), Visibility: rules.Visibility(visibility)}
	if err := req.Context.Validate(); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}

// lookupRequest is the body of POST /v1/lookup.
type lookupRequest struct {
	PDQ     string `json:"pdq"`
	Quality *int   `json:"quality"`
	MD5     string `json:"md5"`
	SHA256  string `json:"sha256"`
	// VPDQ is a video's frame hashes: python-threatexchange's signal
	// string, or the JSON array it holds.
	VPDQ       json.RawMessage `json:"vpdq"`
	ContentID  string          `json:"content_id"`
	AccountID  string          `json:"account_id"`
	Surface    string          `json:"surface"`
	Visibility string          `json:"visibility"`
	Banks      []string        `json:"banks"`
}

// lookup handles POST /v1/lookup: hashes computed on the platform's side,
// matched and decided on like a scan.
func (a *API) lookup(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	var in lookupRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	// The platform hashed the content, not Safeguard: its matches may
	// block at once, but never decide a case with no reviewer.
	req := scan.Request{Actor: k.ID, ContentID: in.ContentID, AccountID: in.AccountID, Banks: in.Banks,
		Signals: signal.Set{Quality: -1, Claimed: true}}
	if in.PDQ != "" {
		h, err := pdq.ParseHex(in.PDQ)
		if err != nil {
			return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err) // "pdq: hash ...: want ..."
		}
		req.Signals.PDQ = &h
	}
	if in.Quality != nil {
		if *in.Quality < 0 || *in.Quality > 100 {
			return errorf(http.StatusBadRequest, CodeBadRequest, "quality %d out of range 0..100", *in.Quality)
		}
		req.Signals.Quality = *in.Quality
	}
	if in.MD5 != "" {
		var d [16]byte
		if err := parseDigest(bank.MD5, in.MD5, d[:]); err != nil {
			return err
		}
		req.Signals.MD5 = &d
	}
	if in.SHA256 != "" {
		var d [32]byte
		if err := parseDigest(bank.SHA256, in.SHA256, d[:]); err != nil {
			return err
		}
		req.Signals.SHA256 = &d
	}
	if len(in.VPDQ) > 0 && string(in.VPDQ) != "null" {
		frames, err := parseVPDQ(in.VPDQ)
		if err != nil {
			return errorf(http.StatusBadRequest, CodeBadRequest, "vpdq: %v", err)
		}
		req.Signals.VPDQ = frames
	}
	if err := contextFields(&req, in.Surface, in.Visibility); err != nil {
		return err
	}
	res, err := a.cfg.Pipeline.Decide(r.Context(), req)
	if err != nil {
		return err
	}
	a.observe(res)
	writeJSON(w, http.StatusOK, answer(res))
	return nil
}

func parseDigest(sig bank.Signal, s string, into []byte) error {
	v, err := bank.ParseValue(sig, strings.TrimSpace(s))
	if err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%s: %v", sig, err)
	}
	if _, err := hex.Decode(into, []byte(v)); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%s: %v", sig, err)
	}
	return nil
}

// getScan handles GET /v1/scans/{id}: the full record, for auditors.
func (a *API) getScan(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	id := r.PathValue("id")
	if err := limits.Line("scan id", id, limits.ID); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	rec, err := a.cfg.Scans.ScanRecord(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

func (a *API) observe(res scan.Result) {
	if a.cfg.Metrics != nil {
		a.cfg.Metrics.scanned(res)
	}
}
