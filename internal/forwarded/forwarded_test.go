package forwarded_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/forwarded"
)

func TestHandler(t *testing.T) {
	trusted, err := forwarded.Parse([]string{"10.0.0.0/8", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		peer    string
		headers map[string]string
		addr    string
		secure  bool
	}{
		{"no proxy, headers ignored", "203.0.113.5:4000", map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}, "203.0.113.5:4000", false},
		{"trusted proxy", "10.1.2.3:4000", map[string]string{"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}, "198.51.100.1:0", true},
		{"client-written hop left of the real one", "10.1.2.3:4000", map[string]string{"X-Forwarded-For": "6.6.6.6, 198.51.100.1"}, "198.51.100.1:0", false},
		{"chain of trusted proxies", "10.1.2.3:4000", map[string]string{"X-Forwarded-For": "198.51.100.1, 10.9.9.9"}, "198.51.100.1:0", false},
		{"Forwarded", "192.0.2.7:80", map[string]string{"Forwarded": `for="[2001:db8::1]:4711";proto=https`}, "[2001:db8::1]:0", true},
		{"unknown hop keeps the peer", "10.1.2.3:4000", map[string]string{"Forwarded": "for=unknown"}, "10.1.2.3:4000", false},
		{"trusted proxy, no header", "10.1.2.3:4000", nil, "10.1.2.3:4000", false},
	} {
		var got *http.Request
		h := trusted.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for k, v := range c.headers {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got.RemoteAddr != c.addr || forwarded.Secure(got) != c.secure {
			t.Errorf("%s: RemoteAddr %s secure %v, want %s %v", c.name, got.RemoteAddr, forwarded.Secure(got), c.addr, c.secure)
		}
		if hsts := w.Header().Get("Strict-Transport-Security") != ""; hsts != c.secure {
			t.Errorf("%s: HSTS sent %v, want %v", c.name, hsts, c.secure)
		}
		if !c.secure && c.peer == "203.0.113.5:4000" && got.Header.Get("X-Forwarded-For") != "" {
			t.Errorf("%s: forwarding headers from an untrusted peer kept", c.name)
		}
	}
	if _, err := forwarded.Parse([]string{"not-an-address"}); err == nil {
		t.Error("Parse took a non-address")
	}
}

// FuzzHandler: no forwarding header makes the handler panic, and whatever
// they say, RemoteAddr stays an address with a port.
func FuzzHandler(f *testing.F) {
	f.Add("198.51.100.1, 10.0.0.1", `for="[2001:db8::1]:4711";proto=https`, "https")
	f.Add("", "for=unknown, for=_hidden", "")
	trusted, _ := forwarded.Parse([]string{"10.0.0.0/8"})
	f.Fuzz(func(t *testing.T, xff, fwd, proto string) {
		var got string
		h := trusted.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.1.1.1:80"
		r.Header["X-Forwarded-For"] = []string{xff}
		r.Header["X-Forwarded-Proto"] = []string{proto}
		if fwd != "" {
			r.Header["Forwarded"] = []string{fwd}
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if _, err := netip.ParseAddrPort(got); err != nil {
			t.Errorf("RemoteAddr %q from X-Forwarded-For %q, Forwarded %q: %v", got, xff, fwd, err)
		}
	})
}
