package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ErrRefusedTarget is wrapped by the errors of CheckURL and of a refused
// dial: the webhook points somewhere webhooks may not reach.
var ErrRefusedTarget = errors.New("webhook target refused")

// Policy says where webhooks may be sent. Whoever can register a webhook
// chooses a URL the server will POST to from inside the deployment, so by
// default only public internet addresses are reachable: not loopback,
// private, link-local (the cloud metadata service at 169.254.169.254),
// unique-local, carrier-grade NAT, unspecified, multicast, reserved or
// documentation ranges, nor host names that name the machine or its cloud
// (localhost, metadata.google.internal, *.internal, *.local, ...).
//
// The check is made when a webhook is created (CheckURL) and again at every
// connection (DialContext), on the address actually dialled, so a name that
// resolved to a public address at creation and to 10.0.0.5 later (DNS
// rebinding) is still refused. The zero Policy is the default.
type Policy struct {
	// Allow lists exceptions: CIDR prefixes ("10.20.0.0/16",
	// "127.0.0.1/32"), single addresses, or host names ("hooks.corp",
	// matched exactly, case-insensitively), for receivers inside the
	// deployment. A host name allowed here may resolve to any address.
	// Tests that deliver to a server on loopback allow "127.0.0.1/32".
	Allow []string
	// LookupIP resolves a host name to its addresses; nil uses the
	// system's resolver. Tests inject their own, so no test depends on
	// outside DNS.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
}

// Validate reports an Allow entry that is neither a prefix, an address nor
// a host name, so a mistyped setting fails at start-up.
func (p Policy) Validate() error {
	_, _, err := p.allowed()
	return err
}

// allowed parses Allow.
func (p Policy) allowed() (nets []netip.Prefix, hosts []string, err error) {
	for _, a := range p.Allow {
		a = strings.TrimSpace(a)
		if pfx, err := netip.ParsePrefix(a); err == nil {
			nets = append(nets, pfx.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(a); err == nil {
			nets = append(nets, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		if !validHostName(a) {
			return nil, nil, fmt.Errorf("webhook allow-list entry %q: want a CIDR prefix, an IP address or a host name", a)
		}
		hosts = append(hosts, normalHost(a))
	}
	return nets, hosts, nil
}

// CheckURL reports whether rawURL is a webhook target p permits: an http or
// https URL without credentials whose host is not refused by name, by
// address, or by what the name resolves to now. Errors wrap
// ErrRefusedTarget when the target is refused (rather than malformed or
// unresolvable) and say which rule refused it.
func CheckURL(ctx context.Context, rawURL string, p Policy) error {
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	_, err = p.resolve(ctx, u.Hostname())
	if err != nil {
		return fmt.Errorf("url %q: %w", rawURL, err)
	}
	return nil
}

// parseURL checks what every webhook URL must be, whatever the policy.
func parseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("url: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("url %q: scheme must be http or https", rawURL)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("url %q: no host", rawURL)
	case u.User != nil:
		return nil, errors.New("url: credentials in the URL are not allowed (they would be logged); the signature authenticates us")
	}
	return u, nil
}

// resolve returns the addresses of host that p lets a webhook reach: host
// itself when it is an address, else what it resolves to. It refuses the
// host when any of those is refused, since which of them a connection
// would use is not ours to choose.
func (p Policy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	nets, hosts, err := p.allowed()
	if err != nil {
		return nil, err
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return nil, fmt.Errorf("%w: address %s has an IPv6 zone, which only names a local link", ErrRefusedTarget, host)
		}
		if why := refusedAddr(ip, nets); why != "" {
			return nil, fmt.Errorf("%w: %s is %s", ErrRefusedTarget, host, why)
		}
		return []netip.Addr{ip}, nil
	}
	name := normalHost(host)
	if !validHostName(name) {
		return nil, fmt.Errorf("%w: host %q is not a valid host name", ErrRefusedTarget, host)
	}
	if looksNumeric(name) {
		// 2130706433, 0x7f.1, 0177.0.0.1: what C's inet_aton, and so many
		// resolvers and proxies, read as 127.0.0.1. No public name is
		// spelled so, so none is allowed whatever it would mean.
		return nil, fmt.Errorf("%w: host %q is an IP address in a non-standard spelling (decimal, octal, hex or shortened); write it as a.b.c.d", ErrRefusedTarget, host)
	}
	byName := false
	for _, h := range hosts {
		byName = byName || h == name
	}
	if !byName {
		if why := refusedName(name); why != "" {
			return nil, fmt.Errorf("%w: host %q %s", ErrRefusedTarget, host, why)
		}
	}
	lookup := p.LookupIP
	if lookup == nil {
		lookup = systemLookup
	}
	ips, err := lookup(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("resolving %q: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolving %q: no addresses", host)
	}
	if byName {
		return ips, nil
	}
	for _, ip := range ips {
		if why := refusedAddr(ip, nets); why != "" {
			return nil, fmt.Errorf("%w: host %q resolves to %s, which is %s", ErrRefusedTarget, host, ip, why)
		}
	}
	return ips, nil
}

func systemLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// DialContext connects to addr ("host:port") as an http.Transport's dialer
// does, but only to addresses p permits, and dials the very addresses it
// checked, so no second lookup can answer differently.
func (p Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := p.resolve(ctx, host)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var d net.Dialer
	var errs []error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// refusedAddr says why ip may not be reached, or "" when it may. An
// address in an allowed prefix may always be reached.
func refusedAddr(ip netip.Addr, allow []netip.Prefix) string {
	ip = ip.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	for _, pfx := range allow {
		if pfx.Contains(ip) {
			return ""
		}
	}
	for _, r := range refusedRanges {
		if r.prefix.Contains(ip) {
			return r.why
		}
	}
	if ip.Is6() && sixToFour.Contains(ip) {
		// 2002:AABB:CCDD::/48 carries IPv4 address AA.BB.CC.DD.
		b := ip.As16()
		if why := refusedAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), allow); why != "" {
			return "6to4 for an address that is " + why
		}
	}
	return ""
}

var sixToFour = netip.MustParsePrefix("2002::/16")

// refusedRanges are the special-purpose ranges (IANA's IPv4 and IPv6
// special-purpose registries) a webhook must not reach, with the reason an
// error gives.
var refusedRanges = func() []struct {
	prefix netip.Prefix
	why    string
} {
	var rs []struct {
		prefix netip.Prefix
		why    string
	}
	for _, r := range [][2]string{
		{"0.0.0.0/8", "unspecified (\"this network\")"},
		{"10.0.0.0/8", "private (RFC 1918)"},
		{"100.64.0.0/10", "carrier-grade NAT shared space"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local (where cloud metadata services live)"},
		{"172.16.0.0/12", "private (RFC 1918)"},
		{"192.0.0.0/24", "reserved for IETF protocol assignments"},
		{"192.0.2.0/24", "reserved for documentation"},
		{"192.88.99.0/24", "the 6to4 relay anycast range"},
		{"192.168.0.0/16", "private (RFC 1918)"},
		{"198.18.0.0/15", "reserved for benchmarking"},
		{"198.51.100.0/24", "reserved for documentation"},
		{"203.0.113.0/24", "reserved for documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved (and broadcast)"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"::/96", "an IPv4-compatible IPv6 address (deprecated)"},
		{"64:ff9b::/96", "NAT64, which reaches IPv4 addresses through a translator"},
		{"64:ff9b:1::/48", "local-use NAT64"},
		{"100::/64", "the discard prefix"},
		{"2001::/32", "Teredo, which tunnels to IPv4 addresses"},
		{"2001:db8::/32", "reserved for documentation"},
		{"fc00::/7", "unique-local (private)"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local (deprecated, private)"},
		{"ff00::/8", "multicast"},
	} {
		rs = append(rs, struct {
			prefix netip.Prefix
			why    string
		}{netip.MustParsePrefix(r[0]), r[1]})
	}
	return rs
}()

// refusedName says why a host name may not be reached whatever it resolves
// to, or "". These name the machine itself, a local network, or a cloud's
// metadata service, which a resolver inside the deployment answers.
func refusedName(name string) string {
	switch name {
	case "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback":
		return "names this machine"
	case "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal", "metadata.azure.com", "kubernetes", "kubernetes.default", "kubernetes.default.svc":
		return "names a cloud metadata or cluster service"
	}
	for _, suffix := range []string{".localhost", ".local", ".localdomain", ".internal", ".intranet", ".lan", ".home.arpa", ".corp", ".svc", ".cluster.local"} {
		if strings.HasSuffix(name, suffix) {
			return fmt.Sprintf("is under %s, a private or local name space", suffix)
		}
	}
	if !strings.Contains(name, ".") {
		return "is a single label, which only a local resolver answers"
	}
	return ""
}

// normalHost is how names are compared: lower case, without the root's
// trailing dot ("LOCALHOST." is localhost).
func normalHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// validHostName reports whether h is a DNS host name: labels of letters,
// digits, '-' and '_' up to 63 bytes, 253 in all.
func validHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// looksNumeric reports whether a name's last label is a number (decimal,
// or 0x hex): no top-level domain is, and inet_aton reads such names as
// IPv4 addresses.
func looksNumeric(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if _, err := strconv.ParseUint(last, 0, 64); err == nil {
		return true
	}
	l := strings.ToLower(last)
	return strings.HasPrefix(l, "0x") && strings.Trim(l[2:], "0123456789abcdef") == ""
}
