package api

import (
	"errors"
	"net/http"
	"net/netip"
	"testing"
	"unicode/utf8"
)

// FuzzUploadFields: the upload context of a scan is outside input. Any
// value is accepted whole or refused with a 400 naming a field; what is
// accepted is an address, a port in range and one-line text.
func FuzzUploadFields(f *testing.F) {
	f.Add("203.0.113.7", "51234", "2026-11-20T09:30:00Z", "Mozilla/5.0", "a.jpg")
	f.Add("::ffff:10.0.0.1", "0", "yesterday", "a\x00b", "\xff")
	f.Add("fe80::1%eth0", "65536", "2026-11-20T09:30:00.123456789+02:00", "", "")
	f.Fuzz(func(t *testing.T, ip, port, at, ua, name string) {
		up, err := uploadFields{ip, port, at, ua, name}.parse()
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("refused with %v, want a 400", err)
			}
			return
		}
		if up == nil {
			if ip != "" || port != "" || at != "" || ua != "" || name != "" {
				t.Fatal("fields given, nothing parsed")
			}
			return
		}
		if up.IP != "" {
			if a, err := netip.ParseAddr(up.IP); err != nil || a.Zone() != "" {
				t.Fatalf("accepted address %q", up.IP)
			}
		}
		if up.Port < 0 || up.Port > 65535 || !utf8.ValidString(up.UserAgent) || !utf8.ValidString(up.FileName) {
			t.Fatalf("accepted %+v", up)
		}
	})
}
