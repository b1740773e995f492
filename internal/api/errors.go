package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/bodyrate"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// Codes, with the status each answers: the one table from what went wrong
// to what a client sees. Codes are only ever added to.
const (
	CodeUnauthenticated  = "unauthenticated"    // no key, or a malformed, unknown or revoked one
	CodeForbidden        = "forbidden"          // the key's role lacks the route's permission
	CodeNotFound         = "not_found"          // no such route, bank, rule, webhook, key, scan, case, report
	CodeMethod           = "method_not_allowed" //
	CodeConflict         = "conflict"           // exists already, or changed since it was read
	CodeContentType      = "unsupported_media_type"
	CodeEmptyBody        = "empty_body"        //
	CodeTooLarge         = "body_too_large"    //
	CodeSlowBody         = "body_too_slow"     // the body arrived under the minimum rate (bodyrate); the connection is closed
	CodeBadRequest       = "bad_request"       // malformed JSON, hash, parameter
	CodeInvalidRule      = "invalid_rule"      //
	CodeInvalidEntries   = "invalid_entries"   // a bank file or entry list with a bad line
	CodeCorruptImage     = "corrupt_image"     // not a readable image
	CodeImageTooLarge    = "image_too_large"   // more pixels than allowed (an image bomb)
	CodeUnsupportedImage = "unsupported_image" // a format or feature we do not read
	CodeUnavailable      = "unavailable"       //
	CodeInternal         = "internal"          // our fault; the log says more

	CodeInvalidReport   = "invalid_report"   // a report, or an item of a batch, fails validation (every problem named)
	CodeInvalidDecision = "invalid_decision" // a decision or an appeal fails validation
	CodeWrongState      = "wrong_state"      // deciding a decided case, appealing twice, editing a submitted report
	CodeSecondReviewer  = "second_reviewer"  // the decision needs a different reviewer

	CodeInvalidLEReport  = "invalid_le_report"  // the report does not conform to the schema (the element is named)
	CodeNotConfirmed     = "not_confirmed"      // the case is not confirmed, so nothing is reported
	CodeNotInCase        = "not_in_case"        // an evidence item is not content of the case
	CodeHeld             = "held"               // evidence under a preservation hold
	CodeRecipient        = "recipient_error"    // the recipient refused or failed
	CodeInvalidLERequest = "invalid_le_request" // a data request fails validation

	CodeRateLimited = "rate_limited"         // with Retry-After
	CodeEvidenceKey = "evidence_key_missing" // an evidence item's master key is gone from the keyring
	CodeLowQuality  = "low_quality"          // an image too plain for its hash to be matched safely

	CodeInvalidEvents = "invalid_events" // no event of a POST /v1/events body is valid (the first ones named)
)

var statusByCode = map[string]int{
	CodeUnauthenticated: http.StatusUnauthorized, CodeForbidden: http.StatusForbidden,
	CodeNotFound: http.StatusNotFound, CodeMethod: http.StatusMethodNotAllowed, CodeConflict: http.StatusConflict,
	CodeContentType: http.StatusUnsupportedMediaType, CodeEmptyBody: http.StatusBadRequest,
	CodeTooLarge: http.StatusRequestEntityTooLarge, CodeSlowBody: http.StatusRequestTimeout, CodeBadRequest: http.StatusBadRequest,
	CodeInvalidRule: http.StatusBadRequest, CodeInvalidEntries: http.StatusBadRequest,
	CodeCorruptImage: http.StatusUnprocessableEntity, CodeImageTooLarge: http.StatusUnprocessableEntity,
	CodeUnsupportedImage: http.StatusUnprocessableEntity, CodeUnavailable: http.StatusServiceUnavailable,
	CodeInternal:      http.StatusInternalServerError,
	CodeInvalidReport: http.StatusBadRequest, CodeInvalidDecision: http.StatusBadRequest,
	CodeWrongState: http.StatusConflict, CodeSecondReviewer: http.StatusConflict,
	CodeInvalidLEReport: http.StatusUnprocessableEntity, CodeNotConfirmed: http.StatusConflict,
	CodeNotInCase: http.StatusUnprocessableEntity, CodeHeld: http.StatusConflict,
	CodeRecipient: http.StatusBadGateway, CodeInvalidLERequest: http.StatusUnprocessableEntity,
	CodeRateLimited: http.StatusTooManyRequests, CodeLowQuality: http.StatusUnprocessableEntity,
	CodeInvalidEvents: http.StatusBadRequest,
	CodeVideo:         http.StatusUnprocessableEntity,
	CodeEvidenceKey:   http.StatusConflict,
}

// codeOfKind is the code of an error of a kind that names none of its own.
var codeOfKind = map[error]string{
	derrors.NotFound: CodeNotFound, derrors.Exists: CodeConflict, derrors.Conflict: CodeConflict,
	derrors.WrongState: CodeWrongState, derrors.Invalid: CodeBadRequest, derrors.Forbidden: CodeForbidden,
	derrors.TooLarge: CodeTooLarge, derrors.Unavailable: CodeUnavailable,
}

// Error is an answer other than success: an HTTP status and, in the body,
// {"error": {"code": Code, "message": Message}}. Codes are stable words a
// client may switch on; messages are for people and may change.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, if set, is sent as the Retry-After header (a 429's).
	RetryAfter time.Duration
	// Close answers with Connection: close, for a refusal before the body
	// is read: net/http would otherwise read up to 256 KB of it before
	// sending the answer, which a slow sender holds back for minutes.
	Close bool
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// invalidAs gives an invalid-input error that names no code of its own the
// route's code (a bad report is invalid_report, a bad decision
// invalid_decision); other errors pass unchanged.
func invalidAs(code string, err error) error {
	if err == nil || derrors.Kind(err) != derrors.Invalid || derrors.Code(err) != "" {
		return err
	}
	return errorf(statusByCode[code], code, "%v", err)
}

// toError maps what a handler returned to an answer. Errors of the domain
// belong to a kind of internal/derrors (and may name a code); anything
// else is the server's fault and is logged, not shown, since it may name
// internals.
func toError(err error) *Error {
	var e *Error
	var me *media.Error
	var ve *rules.ValidationError
	var le *bank.LineError
	var mbe *http.MaxBytesError
	var slow *bodyrate.Error
	var re recipientError
	var vide *video.Error
	var rle *ratelimit.LimitError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &rle):
		return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: rle.Error(), RetryAfter: rle.RetryAfter}
	case errors.As(err, &vide):
		return videoError(vide)
	case errors.Is(err, video.ErrNoFFmpeg):
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "videos cannot be hashed on this server: ffmpeg is not installed")
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "body is over the %d-byte limit", mbe.Limit)
	case errors.As(err, &slow):
		// The connection's read has failed: it cannot carry another request.
		return &Error{Status: http.StatusRequestTimeout, Code: CodeSlowBody, Message: slow.Error(), Close: true}
	case errors.As(err, &me):
		switch me.Kind {
		case media.Empty:
			return errorf(http.StatusBadRequest, CodeEmptyBody, "no content")
		case media.Busy:
			return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: me.Error(), RetryAfter: time.Second, Close: true}
		case media.TooLarge, media.OverBudget:
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
	case errors.As(err, &re):
		return errorf(http.StatusBadGateway, CodeRecipient, "%v", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "request cancelled or timed out")
	}
	kind := derrors.Kind(err)
	if kind == nil {
		return nil
	}
	code := derrors.Code(err)
	if _, ok := statusByCode[code]; !ok {
		code = codeOfKind[kind]
	}
	return errorf(statusByCode[code], code, "%v", err)
}

// writeError answers with err; errors no mapping knows are logged and
// answered 500 without their text.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if slow := bodyrate.Cut(r.Context()); slow != nil {
		err = slow
	}
	e := toError(err)
	if e == nil {
		a.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errorf(http.StatusInternalServerError, CodeInternal, "internal error; the server log has the details")
	} else if e.Status >= 500 {
		a.log.Warn("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeErrorBody(w, e)
}

// retryAfter is the Retry-After of a 503, in seconds.
const retryAfter = "5"

func writeErrorBody(w http.ResponseWriter, e *Error) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", ratelimit.RetryAfter(e.RetryAfter))
	}
	if e.Close {
		w.Header().Set("Connection", "close")
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="safeguard"`)
	}
	// Every 503 says when to try again: a platform that retries instead of
	// failing open still gets its decision once the fault is fixed.
	if e.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfter)
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
