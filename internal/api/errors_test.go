package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/evidence"
)

// TestErrorStatus: what a client is told of an error decides whether it
// retries, so a fault says come back (503, Retry-After) and a state no
// retry can change says so (no Retry-After).
func TestErrorStatus(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		code   string
		retry  bool
	}{
		{fmt.Errorf("item 7: wrapped by master key %q: %w", "2025", evidence.ErrUnknownKey), http.StatusConflict, CodeEvidenceKey, false},
		{fmt.Errorf("writing: %w", derrors.Unavailable), http.StatusServiceUnavailable, CodeUnavailable, true},
		{fmt.Errorf("item 7: %w", evidence.ErrHeld), http.StatusConflict, "held", false},
	} {
		w := httptest.NewRecorder()
		writeErrorBody(w, toError(c.err))
		if w.Code != c.status || toError(c.err).Code != c.code || (w.Header().Get("Retry-After") != "") != c.retry {
			t.Errorf("%v: %d %s Retry-After %q, want %d %s retry %v", c.err, w.Code, toError(c.err).Code, w.Header().Get("Retry-After"), c.status, c.code, c.retry)
		}
	}
}
