package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// adminWorld is the world with banks and rules in a SQLite store: a bank
// of three entries from two sources, a rule, and a dead letter.
func adminWorld(t *testing.T, opts ...any) (*world, *sqlite.Store) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := newWorld(t, append(opts, func(c *api.Config) { c.Banks, c.Rules = st, st })...)
	if _, err := st.CreateBank(ctx, bank.Bank{Name: "hotline", Description: "the hotline's list"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	es := []bank.Entry{
		{Signal: bank.MD5, Value: strings.Repeat("a", 32), Source: "IWF", AddedAt: at.Add(-time.Hour)},
		{Signal: bank.MD5, Value: strings.Repeat("b", 32), Source: "IWF", AddedAt: at},
		{Signal: bank.MD5, Value: strings.Repeat("c", 32), Source: "review", AddedAt: at.Add(-2 * time.Hour)},
	}
	if _, err := st.AddEntries(ctx, "hotline", func(yield func(bank.Entry, error) bool) {
		for _, e := range es {
			if !yield(e, nil) {
				return
			}
		}
	}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRule(ctx, rules.Rule{Name: "hotline near", Enabled: true, Banks: []string{"hotline"},
		Actions: []rules.Action{{Kind: rules.Enqueue, Priority: 80}}}); err != nil {
		t.Fatal(err)
	}
	d := webhook.Delivery{ID: "dlv_1", Webhook: "moderation", Event: "scan.decision", Body: []byte(`{}`),
		CreatedAt: at, State: webhook.Pending, NextAttempt: at}
	if err := w.hooks.EnqueueDeliveries(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := w.hooks.MarkDeliveryDead(ctx, d.ID, 8, at, "connection refused"); err != nil {
		t.Fatal(err)
	}
	return w, st
}

// text is a page's text without tags, spaces collapsed.
func text(html string) string {
	return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(html, " ")), " ")
}

// TestAdminOnly: the admin screens are refused to every other role the
// console signs in, and an admin is taken to them, not to the queues.
func TestAdminOnly(t *testing.T) {
	w, _ := adminWorld(t)
	for _, role := range []auth.Role{auth.Reviewer, auth.Auditor} {
		b := w.browser()
		b.signIn(role)
		for _, p := range []string{"/console/admin/banks", "/console/admin/keys", "/console/admin/audit", "/console/admin/webhooks", "/console/admin/rules"} {
			if a := b.get(p); a.status != http.StatusForbidden || !strings.Contains(a.body, "role admin") {
				t.Errorf("%s GET %s: %d", role, p, a.status)
			}
		}
		q := b.get("/console/")
		if a := b.post("/console/admin/keys", url.Values{"csrf": {csrf(t, q.body)}, "role": {"admin"}, "name": {"mine"}}); a.status != http.StatusForbidden {
			t.Errorf("%s creating a key: %d", role, a.status)
		}
	}
	b := w.browser()
	if a := b.signIn(auth.Admin); a.status != http.StatusOK || a.url != "/console/admin/banks" {
		t.Fatalf("admin's sign-in landed on %s (%d)", a.url, a.status)
	}
}

func TestAdminBanksAndRules(t *testing.T) {
	w, st := adminWorld(t)
	b := w.browser()
	page := b.signIn(auth.Admin)
	banks := text(regexp.MustCompile(`(?s)<tr data-bank="hotline">.*?</tr>`).FindString(page.body))
	for _, want := range []string{"hotline", "the hotline&#39;s list", " 3 ", "IWF: 2", "review: 1", "2026-11-20 08:30 UTC"} {
		if !strings.Contains(banks, want) {
			t.Errorf("the bank's row %q lacks %q", banks, want)
		}
	}

	rp := b.get("/console/admin/rules")
	if !strings.Contains(text(rp.body), "hotline near v1 banks hotline enqueue (priority 80) enabled") {
		t.Fatalf("rules page:\n%s", text(rp.body))
	}
	// Without the session's token, nothing changes.
	if a := b.post("/console/admin/rules/1/disable", url.Values{"csrf": {"00"}}); a.status != http.StatusForbidden {
		t.Fatalf("disabling without the token: %d", a.status)
	}
	if r, _ := st.Rule(context.Background(), 1); !r.Enabled {
		t.Fatal("a refused form disabled the rule")
	}
	a := b.post("/console/admin/rules/1/disable", url.Values{"csrf": {csrf(t, rp.body)}})
	if a.status != http.StatusOK || !strings.Contains(a.body, "Rule disabled.") {
		t.Fatalf("disabling: %d\n%s", a.status, a.body)
	}
	if r, _ := st.Rule(context.Background(), 1); r.Enabled {
		t.Fatal("the rule is still enabled")
	}
	if es := w.entries(audit.RuleUpdate); len(es) != 1 || es[0].Actor != w.ids[auth.Admin] {
		t.Fatalf("rule.update entries: %+v", es)
	}
	if a := b.post("/console/admin/rules/x/disable", url.Values{"csrf": {csrf(t, rp.body)}}); a.status != http.StatusNotFound {
		t.Errorf("disabling rule x: %d", a.status)
	}
	if a := b.post("/console/admin/rules/99/disable", url.Values{"csrf": {csrf(t, rp.body)}}); a.status != http.StatusNotFound {
		t.Errorf("disabling rule 99: %d", a.status)
	}
}

func TestAdminWebhooks(t *testing.T) {
	w, _ := adminWorld(t)
	b := w.browser()
	b.signIn(auth.Admin)
	page := b.get("/console/admin/webhooks")
	if !strings.Contains(text(page.body), "dlv_1 moderation scan.decision 8 connection refused") {
		t.Fatalf("webhooks page:\n%s", text(page.body))
	}
	a := b.post("/console/admin/webhooks/dead-letters/dlv_1/replay", url.Values{"csrf": {csrf(t, page.body)}})
	if a.status != http.StatusOK || !strings.Contains(a.body, "queued for delivery again") || strings.Contains(a.body, `data-delivery="dlv_1"`) {
		t.Fatalf("replaying: %d\n%s", a.status, text(a.body))
	}
	if d, _ := w.hooks.Delivery(context.Background(), "dlv_1"); d.State != webhook.Pending {
		t.Fatalf("after replay the delivery is %s", d.State)
	}
	if es := w.entries(audit.WebhookUpdate); len(es) != 1 || es[0].Actor != w.ids[auth.Admin] || es[0].Subject != "dlv_1" {
		t.Fatalf("webhook.update entries: %+v", es)
	}
	if a := b.post("/console/admin/webhooks/dead-letters/nosuch/replay", url.Values{"csrf": {csrf(t, page.body)}}); a.status != http.StatusNotFound {
		t.Errorf("replaying nosuch: %d", a.status)
	}
}

var newKey = regexp.MustCompile(`<code id="new-key" class="secret">(sg_[a-z2-7_]+)</code>`)

func TestAdminKeys(t *testing.T) {
	w, _ := adminWorld(t)
	ctx := context.Background()
	b := w.browser()
	b.signIn(auth.Admin)
	page := b.get("/console/admin/keys")
	a := b.post("/console/admin/keys", url.Values{"csrf": {csrf(t, page.body)}, "role": {"flagger"}, "name": {"Hotline NGO"}})
	m := newKey.FindStringSubmatch(a.body)
	if a.status != http.StatusOK || m == nil {
		t.Fatalf("creating a key: %d\n%s", a.status, a.body)
	}
	k, err := auth.Authenticate(ctx, w.keys, m[1])
	if err != nil || k.Name != "Hotline NGO" || k.Role != auth.Flagger || k.CreatedBy != w.ids[auth.Admin] {
		t.Fatalf("the key shown: %+v, %v", k, err)
	}
	if again := b.get("/console/admin/keys"); strings.Contains(again.body, m[1]) || !strings.Contains(again.body, k.ID) {
		t.Fatal("the keys page shows the plaintext again, or not the new key")
	}
	if es := w.entries(audit.KeyCreate); len(es) != 1 || es[0].Actor != w.ids[auth.Admin] || es[0].Subject != k.ID {
		t.Fatalf("key.create entries: %+v", es)
	}
	// A bad role or name is said, and nothing is created.
	n, _ := w.keys.ListKeys(ctx)
	bad := b.post("/console/admin/keys", url.Values{"csrf": {csrf(t, page.body)}, "role": {"root"}, "name": {"x"}})
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "unknown role") || newKey.MatchString(bad.body) {
		t.Fatalf("bad role: %d\n%s", bad.status, text(bad.body))
	}
	if n2, _ := w.keys.ListKeys(ctx); len(n2) != len(n) {
		t.Fatal("a refused form created a key")
	}

	// Revoking asks first.
	ask := b.post("/console/admin/keys/"+k.ID+"/revoke", url.Values{"csrf": {csrf(t, page.body)}})
	if ask.status != http.StatusOK || !strings.Contains(ask.body, `id="confirm-revoke"`) {
		t.Fatalf("revoke without confirming: %d\n%s", ask.status, text(ask.body))
	}
	if _, err := auth.Authenticate(ctx, w.keys, m[1]); err != nil {
		t.Fatalf("unconfirmed, the key was revoked: %v", err)
	}
	done := b.post("/console/admin/keys/"+k.ID+"/revoke", url.Values{"csrf": {csrf(t, page.body)}, "confirm": {"yes"}})
	if done.status != http.StatusOK || !strings.Contains(done.body, "Key revoked") {
		t.Fatalf("revoking: %d\n%s", done.status, text(done.body))
	}
	if _, err := auth.Authenticate(ctx, w.keys, m[1]); err == nil {
		t.Fatal("the revoked key still works")
	}
	if es := w.entries(audit.KeyRevoke); len(es) != 1 || es[0].Subject != k.ID {
		t.Fatalf("key.revoke entries: %+v", es)
	}
	if a := b.post("/console/admin/keys/nosuch/revoke", url.Values{"csrf": {csrf(t, page.body)}}); a.status != http.StatusNotFound {
		t.Errorf("revoking nosuch: %d", a.status)
	}
}

func TestAdminAudit(t *testing.T) {
	w, _ := adminWorld(t)
	b := w.browser()
	b.signIn(auth.Admin)
	page := b.get("/console/admin/audit")
	if page.status != http.StatusOK || !strings.Contains(page.body, "test admin (admin)") || !strings.Contains(page.body, "console.signin") {
		t.Fatalf("audit page: %d\n%s", page.status, text(page.body))
	}
	if strings.Contains(page.body, `id="verified"`) {
		t.Fatal("verified without being asked")
	}
	v := b.get("/console/admin/audit?verify=1")
	if !strings.Contains(text(v.body), "Chain verified") {
		t.Fatalf("verify: %s", text(v.body))
	}
	// A tampered entry is named.
	w.audit.Tamper(func(es []audit.Entry) []audit.Entry { es[0].Subject = "someone else"; return es })
	v = b.get("/console/admin/audit?verify=1")
	if !strings.Contains(text(v.body), "does not verify") {
		t.Fatalf("verify of a tampered log: %s", text(v.body))
	}
	if a := b.get("/console/admin/audit?from=zero"); a.status != http.StatusBadRequest {
		t.Errorf("from=zero: %d", a.status)
	}
}
