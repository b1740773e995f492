// Package forwarded decides who a request came from and whether it came
// over TLS when the server sits behind reverse proxies. The X-Forwarded-For,
// Forwarded and X-Forwarded-Proto headers are believed only from a peer
// the operator listed as a proxy; from anyone else they are removed, so
// nothing downstream can be fooled by a client that writes them itself.
//
// The server wraps its handlers in Trusted.Handler once; everything after
// (every rate limit, the console's cookies) then reads r.RemoteAddr and
// Secure(r) and needs to know nothing of proxies.
package forwarded

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Trusted is the list of proxies whose forwarding headers are believed.
// The zero value trusts none: every request is from its TCP peer.
type Trusted []netip.Prefix

// Parse reads proxies given as CIDR prefixes or single addresses
// ("10.0.0.0/8", "192.0.2.7", "::1").
func Parse(list []string) (Trusted, error) {
	var t Trusted
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			t = append(t, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR prefix", s)
		}
		t = append(t, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return t, nil
}

func (t Trusted) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// HSTS is the Strict-Transport-Security header sent on answers to requests
// that came over TLS: a year, subdomains included.
const HSTS = "max-age=31536000; includeSubDomains"

type secureKey struct{}

// Secure reports whether r came over TLS: to this server, or to a trusted
// proxy that said so. Only requests through Handler can be told secure by
// a proxy.
func Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	s, _ := r.Context().Value(secureKey{}).(bool)
	return s
}

// Handler serves h with r.RemoteAddr the client's address (from the
// forwarding headers when the peer is a trusted proxy), the forwarding
// headers removed when it is not, and HSTS on answers to secure requests.
func (t Trusted) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure := r.TLS != nil
		peer, ok := addrOf(r.RemoteAddr)
		if ok && t.trusts(peer) {
			client, proto := t.client(r.Header)
			if client.IsValid() {
				r.RemoteAddr = netip.AddrPortFrom(client, 0).String()
			}
			secure = secure || strings.EqualFold(proto, "https")
		} else {
			r.Header.Del("Forwarded")
			r.Header.Del("X-Forwarded-For")
			r.Header.Del("X-Forwarded-Proto")
		}
		if secure {
			w.Header().Set("Strict-Transport-Security", HSTS)
			r = r.WithContext(context.WithValue(r.Context(), secureKey{}, true))
		}
		h.ServeHTTP(w, r)
	})
}

// client finds the client in the forwarding headers: the right-most
// address that is not itself a trusted proxy (those to its left were
// written by the client, or by proxies nobody vouches for), and the
// protocol the first trusted proxy was reached by. Forwarded (RFC 7239)
// wins over the X-Forwarded-* headers when both are present.
func (t Trusted) client(h http.Header) (netip.Addr, string) {
	var hops []string
	proto := ""
	if vs := h.Values("Forwarded"); len(vs) > 0 {
		for _, v := range vs {
			for _, elem := range strings.Split(v, ",") {
				for _, pair := range strings.Split(elem, ";") {
					k, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
					val = strings.Trim(strings.TrimSpace(val), `"`)
					switch strings.ToLower(k) {
					case "for":
						hops = append(hops, val)
					case "proto":
						proto = val
					}
				}
			}
		}
	} else {
		for _, v := range h.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
		if p := h.Values("X-Forwarded-Proto"); len(p) > 0 {
			parts := strings.Split(p[len(p)-1], ",")
			proto = strings.TrimSpace(parts[len(parts)-1])
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := addrOf(strings.TrimSpace(hops[i]))
		if !ok {
			// An unknown or obfuscated hop ("unknown", "_hidden"): the
			// client is beyond what anyone vouches for.
			return netip.Addr{}, proto
		}
		if !t.trusts(a) || i == 0 {
			return a, proto
		}
	}
	return netip.Addr{}, proto
}

// addrOf reads "1.2.3.4", "1.2.3.4:5", "[::1]:5" or "::1".
func addrOf(s string) (netip.Addr, bool) {
	s = strings.Trim(s, `"`)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
