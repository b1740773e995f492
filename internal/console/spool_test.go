package console_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// tripwire is a request body that must not be read.
type tripwire struct{ read bool }

func (b *tripwire) Read(p []byte) (int, error) {
	b.read = true
	return copy(p, "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\n"), nil
}

// The sign-in page reads its next= from the query alone: a multipart body
// sent with the GET is never parsed (FormValue would, spooling its large
// parts to os.TempDir()).
func TestSignInPageIgnoresBody(t *testing.T) {
	w := newWorld(t)
	body := new(tripwire)
	req := httptest.NewRequest("GET", "/console/signin?next=/console/cases/7", body)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	rec := httptest.NewRecorder()
	w.srv.Config.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `value="/console/cases/7"`) {
		t.Errorf("sign-in page: %d, want 200 keeping next=/console/cases/7:\n%s", rec.Code, rec.Body)
	}
	if body.read {
		t.Error("the GET's body was read")
	}
}
