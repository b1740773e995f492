package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/testkit"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// fakeDNS answers from a table; no test depends on outside DNS.
type fakeDNS map[string][]string

func (f fakeDNS) lookup(_ context.Context, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, fmt.Errorf("no such host %q", host)
	}
	var ips []netip.Addr
	for _, a := range addrs {
		ips = append(ips, netip.MustParseAddr(a))
	}
	return ips, nil
}

var dns = fakeDNS{
	"hooks.example.com":        {"93.184.215.14"},
	"v6.example.com":           {"2606:2800:21f:cb07:6820:80da:af6b:8b2c"},
	"rebind.example.com":       {"127.0.0.1"},
	"private.example.com":      {"10.1.2.3"},
	"mixed.example.com":        {"93.184.215.14", "169.254.169.254"},
	"mapped.example.com":       {"::ffff:192.168.1.1"},
	"hooks.corp":               {"10.9.9.9"},
	"metadata.google.internal": {"169.254.169.254"},
}

func TestCheckURL(t *testing.T) {
	p := webhook.Policy{LookupIP: dns.lookup}
	for _, u := range []string{
		"https://hooks.example.com/events",
		"http://hooks.example.com:8080/x?y=1",
		"https://HOOKS.example.com./events",
		"https://v6.example.com/",
		"https://93.184.215.14/events",
		"https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
	} {
		if err := webhook.CheckURL(context.Background(), u, p); err != nil {
			t.Errorf("CheckURL(%q): %v, want it allowed", u, err)
		}
	}
	refused := []struct{ url, why string }{
		{"http://127.0.0.1/", "loopback"},
		{"http://127.255.0.9:9/", "loopback"},
		{"http://[::1]/", "loopback"},
		{"http://0.0.0.0/", "unspecified"},
		{"http://[::]/", "unspecified"},
		{"http://10.0.0.1/", "private"},
		{"http://172.16.5.4/", "private"},
		{"http://192.168.0.1/", "private"},
		{"http://169.254.169.254/latest/meta-data/", "link-local"},
		{"http://[fe80::1]/", "link-local"},
		{"http://[fe80::1%25eth0]/", "zone"},
		{"http://[fd00::1]/", "unique-local"},
		{"http://100.64.0.1/", "carrier-grade NAT"},
		{"http://224.0.0.1/", "multicast"},
		{"http://[ff02::1]/", "multicast"},
		{"http://255.255.255.255/", "reserved"},
		{"http://[::ffff:127.0.0.1]/", "loopback"},
		{"http://[::ffff:169.254.169.254]/", "link-local"},
		{"http://[64:ff9b::a9fe:a9fe]/", "NAT64"},
		{"http://[2002:a9fe:a9fe::1]/", "6to4"},
		{"http://2130706433/", "non-standard spelling"},
		{"http://0x7f000001/", "non-standard spelling"},
		{"http://0177.0.0.1/", "non-standard spelling"},
		{"http://0x7f.1/", "non-standard spelling"},
		{"http://127.1/", "non-standard spelling"},
		{"http://017700000001/", "non-standard spelling"},
		{"http://localhost:8080/", "names this machine"},
		{"http://LOCALHOST./", "names this machine"},
		{"http://api.localhost/", ".localhost"},
		{"http://metadata.google.internal/computeMetadata/v1/", "metadata"},
		{"http://metadata/", "metadata"},
		{"http://printer.local/", ".local"},
		{"http://intranet/", "single label"},
		{"http://rebind.example.com/", "resolves to 127.0.0.1, which is loopback"},
		{"http://private.example.com/", "resolves to 10.1.2.3, which is private"},
		{"http://mixed.example.com/", "resolves to 169.254.169.254"},
		{"http://mapped.example.com/", "private"},
	}
	for _, tt := range refused {
		err := webhook.CheckURL(context.Background(), tt.url, p)
		if !errors.Is(err, webhook.ErrRefusedTarget) || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("CheckURL(%q): %v, want it refused as %q", tt.url, err, tt.why)
		}
	}
	for _, tt := range []struct{ url, want string }{
		{"ftp://hooks.example.com/", "scheme must be http or https"},
		{"https://user:pw@hooks.example.com/", "credentials"},
		{"https:///path", "no host"},
		{"https://nowhere.example.com/", "no such host"},
		{"http://[::1", "url:"},
	} {
		err := webhook.CheckURL(context.Background(), tt.url, p)
		if err == nil || errors.Is(err, webhook.ErrRefusedTarget) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckURL(%q): %v, want an error saying %q (not a refused target)", tt.url, err, tt.want)
		}
	}
}

func TestCheckURLAllowList(t *testing.T) {
	p := webhook.Policy{LookupIP: dns.lookup, Allow: []string{"127.0.0.1/32", "10.1.0.0/16", "hooks.corp", "::1"}}
	for _, u := range []string{
		"http://127.0.0.1:9000/",
		"http://[::1]:9000/",
		"http://rebind.example.com/",  // resolves to an allowed address
		"http://private.example.com/", // 10.1.2.3, in 10.1.0.0/16
		"http://hooks.corp/",          // allowed by name, whatever it resolves to
		"http://HOOKS.CORP./",
	} {
		if err := webhook.CheckURL(context.Background(), u, p); err != nil {
			t.Errorf("CheckURL(%q) with an allow-list: %v, want it allowed", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.2/", "http://10.2.0.1/", "http://169.254.169.254/", "http://2130706433/", "http://metadata.google.internal/"} {
		if err := webhook.CheckURL(context.Background(), u, p); !errors.Is(err, webhook.ErrRefusedTarget) {
			t.Errorf("CheckURL(%q) with an allow-list: %v, want it still refused", u, err)
		}
	}
	if err := (webhook.Policy{Allow: []string{"10.0.0.0/33"}}).Validate(); err == nil || !strings.Contains(err.Error(), `"10.0.0.0/33"`) {
		t.Errorf("Validate of a bad prefix: %v", err)
	}
	if err := (webhook.Policy{Allow: []string{"10.0.0.0/8", "hooks.corp", "::1"}}).Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// A name that resolved to a public address when the webhook was created and
// resolves to loopback when it is dialled (DNS rebinding) is refused at the
// dial: the receiver on loopback never hears of it, and the delivery is a
// dead letter at once, saying why.
func TestDialRefusesRebinding(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c)
	u, _ := url.Parse(rcv.URL)
	var lookups atomic.Int32
	rebinding := func(_ context.Context, host string) ([]netip.Addr, error) {
		if lookups.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	policy := webhook.Policy{LookupIP: rebinding}
	hookURL := "http://rebinder.example.com:" + u.Port() + "/events"
	if err := webhook.CheckURL(context.Background(), hookURL, policy); err != nil {
		t.Fatalf("at creation: %v", err)
	}
	store := setup(t, rcv)
	pointAt(t, store, hookURL)
	d := enqueue(t, store, c, "x")
	run(t, store, c, webhook.Config{Policy: webhook.Policy{LookupIP: rebinding, Allow: []string{}}})
	got := waitState(t, store, d.ID, webhook.Dead, 1)
	if !strings.Contains(got.LastError, "resolves to 127.0.0.1, which is loopback") {
		t.Errorf("LastError = %q, want the refusal", got.LastError)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("the receiver on loopback got %d requests", n)
	}
}

// pointAt moves the webhook "hook" to url.
func pointAt(t *testing.T, store webhook.Webhooks, url string) {
	t.Helper()
	e, _ := store.Webhook(context.Background(), "hook")
	e.URL = url
	if err := store.UpdateWebhook(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

// With the name allowed, the same delivery goes through, to the address the
// dialer checked.
func TestDialAllowedName(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c)
	u, _ := url.Parse(rcv.URL)
	store := setup(t, rcv)
	pointAt(t, store, "http://receiver.corp:"+u.Port()+"/events")
	d := enqueue(t, store, c, "x")
	dns := fakeDNS{"receiver.corp": {"127.0.0.1"}}
	run(t, store, c, webhook.Config{Policy: webhook.Policy{LookupIP: dns.lookup, Allow: []string{"receiver.corp"}}})
	waitState(t, store, d.ID, webhook.Delivered, 1)
	if reqs := rcv.requests(); len(reqs) != 1 || reqs[0].err != nil {
		t.Errorf("receiver got %d requests (%v)", len(reqs), reqs)
	}
}

// Whatever the URL, CheckURL answers without panicking, and what it allows
// is an http(s) URL whose host resolves to no refused address.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/x", "http://127.0.0.1/", "http://0x7f.1/", "http://[::ffff:10.0.0.1]/", "http://a.b.c.d.e/", "http://%31%32%37.0.0.1/"} {
		f.Add(s)
	}
	public := func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := webhook.CheckURL(context.Background(), raw, webhook.Policy{LookupIP: public})
		if err != nil {
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") {
			t.Fatalf("CheckURL allowed %q", raw)
		}
		if ip, perr := netip.ParseAddr(u.Hostname()); perr == nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.Unmap().IsLoopback() || ip.Unmap().IsPrivate()) {
			t.Fatalf("CheckURL allowed %q, which is %s", raw, ip)
		}
	})
}

// During a rotation's overlap a delivery carries both signatures, so a
// receiver holding either secret accepts it; after the overlap only the
// new one, so the old secret no longer authenticates anything.
func TestSecretRotationOverlap(t *testing.T) {
	c := testkit.NewClock(start)
	rcv := newReceiver(t, c)
	store := setup(t, rcv)
	e, _ := store.Webhook(context.Background(), "hook")
	old := e.Secret
	if _, err := e.Rotate(old, c.Now(), time.Hour); err == nil {
		t.Error("Rotate to the same secret succeeded")
	}
	if _, err := e.Rotate("short", c.Now(), time.Hour); err == nil {
		t.Error("Rotate to a short secret succeeded")
	}
	rotated, err := e.Rotate(webhook.NewSecret(), c.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.UpdateWebhook(context.Background(), rotated); err != nil {
		t.Fatal(err)
	}
	run(t, store, c, webhook.Config{})
	d := enqueue(t, store, c, "during")
	waitState(t, store, d.ID, webhook.Delivered, 1)
	c.Advance(time.Hour)
	d2 := enqueue(t, store, c, "after")
	waitState(t, store, d2.ID, webhook.Delivered, 1)

	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(reqs))
	}
	during, after := reqs[0], reqs[1]
	if h := during.header.Get(webhook.SignatureHeader); strings.Count(h, "v1=") != 2 {
		t.Errorf("during the overlap: %q, want two v1 signatures", h)
	}
	for _, secret := range []string{old, rotated.Secret} {
		if err := webhook.Verify([]byte(secret), during.header.Get(webhook.SignatureHeader), []byte(during.body), c.Now().Add(-time.Hour), webhook.DefaultTolerance); err != nil {
			t.Errorf("during the overlap, a receiver holding %.10s… refuses: %v", secret, err)
		}
	}
	h := after.header.Get(webhook.SignatureHeader)
	if strings.Count(h, "v1=") != 1 {
		t.Errorf("after the overlap: %q, want one v1 signature", h)
	}
	if err := webhook.Verify([]byte(rotated.Secret), h, []byte(after.body), c.Now(), webhook.DefaultTolerance); err != nil {
		t.Errorf("after the overlap, the new secret: %v", err)
	}
	if err := webhook.Verify([]byte(old), h, []byte(after.body), c.Now(), webhook.DefaultTolerance); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("after the overlap, the old secret: %v, want ErrBadSignature", err)
	}
}
