package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Error is an answer other than success: an HTTP status and, in the body,
// {"error": {"code": Code, "message": Message}}. Codes are stable words a
// client may switch on; messages are for people and may change.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Codes. They are only ever added to.
const (
	CodeUnauthenticated  = "unauthenticated"    // 401: no key, or a malformed, unknown or revoked one
	CodeForbidden        = "forbidden"          // 403: the key's role lacks the route's permission
	CodeNotFound         = "not_found"          // 404: no such route, bank, rule, webhook, key or scan
	CodeMethod           = "method_not_allowed" // 405
	CodeConflict         = "conflict"           // 409: exists already, or changed since it was read
	CodeContentType      = "unsupported_media_type"
	CodeEmptyBody        = "empty_body"        // 400
	CodeTooLarge         = "body_too_large"    // 413
	CodeBadRequest       = "bad_request"       // 400: malformed JSON, hash, parameter
	CodeInvalidRule      = "invalid_rule"      // 400
	CodeInvalidEntries   = "invalid_entries"   // 400: a bank file or entry list with a bad line
	CodeCorruptImage     = "corrupt_image"     // 422: not a readable image
	CodeImageTooLarge    = "image_too_large"   // 422: more pixels than allowed (an image bomb)
	CodeUnsupportedImage = "unsupported_image" // 422: a format or feature we do not read
	CodeUnavailable      = "unavailable"       // 503
	CodeInternal         = "internal"          // 500: our fault; the log says more
)

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// toError maps what a handler returned to an answer. Errors of the domain
// packages carry sentinel values; anything else is the server's fault and
// is logged, not shown, since it may name internals.
func toError(err error) *Error {
	var e *Error
	var me *media.Error
	var ve *rules.ValidationError
	var le *bank.LineError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "body is over the %d-byte limit", mbe.Limit)
	case errors.As(err, &me):
		switch me.Kind {
		case media.Empty:
			return errorf(http.StatusBadRequest, CodeEmptyBody, "no content")
		case media.TooLarge:
			return errorf(http.StatusUnprocessableEntity, CodeImageTooLarge, "%v", me)
		case media.UnknownType, media.Unsupported, media.Unavailable:
			return errorf(http.StatusUnprocessableEntity, CodeUnsupportedImage, "%v", me)
		default:
			return errorf(http.StatusUnprocessableEntity, CodeCorruptImage, "%v", me)
		}
	case errors.As(err, &ve):
		return errorf(http.StatusBadRequest, CodeInvalidRule, "%v", ve)
	case errors.As(err, &le):
		return errorf(http.StatusBadRequest, CodeInvalidEntries, "%v", le)
	case errors.Is(err, match.ErrUnknownBank):
		return errorf(http.StatusNotFound, CodeNotFound, "%v", err)
	case errors.Is(err, scan.ErrNoSignal):
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, rules.ErrNotFound), errors.Is(err, webhook.ErrNotFound),
		errors.Is(err, auth.ErrUnknown):
		return errorf(http.StatusNotFound, CodeNotFound, "%v", err)
	case errors.Is(err, store.ErrExists), errors.Is(err, webhook.ErrExists), errors.Is(err, rules.ErrConflict):
		return errorf(http.StatusConflict, CodeConflict, "%v", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "request cancelled or timed out")
	}
	return nil
}

// writeError answers with err; errors no mapping knows are logged and
// answered 500 without their text.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	if e == nil {
		a.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errorf(http.StatusInternalServerError, CodeInternal, "internal error; the server log has the details")
	} else if e.Status >= 500 {
		a.log.Warn("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeErrorBody(w, e)
}

func writeErrorBody(w http.ResponseWriter, e *Error) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="safeguard"`)
	}
	writeJSON(w, e.Status, map[string]body{"error": {e.Code, e.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("api: encoding an answer", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"encoding the answer failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
