package server

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLanding(t *testing.T) {
	rec := httptest.NewRecorder()
	landing(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	for _, link := range []string{`href="/console/"`, `href="/remove"`, `href="/v1/openapi.json"`, `href="/healthz"`} {
		if !strings.Contains(body, link) {
			t.Errorf("landing page lacks %s", link)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	rec = httptest.NewRecorder()
	landing(rec, httptest.NewRequest("HEAD", "/", nil))
	if rec.Body.Len() != 0 {
		t.Errorf("HEAD / has a body")
	}
}
