package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/console"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// TestBrowserGuardsAndAdmin, in headless Chromium: a stray c starts a
// countdown that Undo (u) takes back with nothing sent; c left alone is
// sent when the countdown ends; the queue shows each row's context and
// the case page names people, not key ids; an admin works the admin
// screens (a key created and shown once, revoked after confirming; the
// audit log verified). Screenshots go where the test logs.
func TestBrowserGuardsAndAdmin(t *testing.T) {
	ch := newChrome(t)
	const undo = 2 * time.Second
	w, _ := adminWorld(t, func(c *console.Config) { c.UndoAfter = undo })
	ctx := context.Background()

	ch.signIn(w, auth.Reviewer)
	ch.run("the queue", chromedp.Navigate(w.srv.URL+"/console/queues/known_csam"), chromedp.WaitVisible(`#cases`, chromedp.ByQuery))
	flaggedRow := ch.text(fmt.Sprintf(`tr[data-case="%d"]`, w.flagged))
	if !strings.Contains(flaggedRow, "trusted flagger") || !strings.Contains(flaggedRow, "hotline report") {
		t.Errorf("the flagger's row reads %q", flaggedRow)
	}
	if top := ch.text(fmt.Sprintf(`tr[data-case="%d"]`, w.top)); !strings.Contains(top, "pdq match in hotline") || !strings.Contains(top, "acct-post-1") {
		t.Errorf("the rule case's row reads %q", top)
	}
	ch.shot("console-queue-context.png")

	// A stray c: the countdown shows, u undoes it, nothing is sent.
	ch.run("open the flagger's case", chromedp.Navigate(fmt.Sprintf("%s/console/cases/%d", w.srv.URL, w.flagged)), chromedp.WaitVisible(`#decision`, chromedp.ByQuery))
	if who := ch.text(".reporter"); who != "test flagger (flagger)" || strings.Contains(who, w.ids[auth.Flagger]) {
		t.Errorf("the reporter is shown as %q", who)
	}
	ch.ready()
	ch.run("a stray c", press('c'))
	ch.poll("the countdown shows", `!document.getElementById("pending").hidden && +document.getElementById("pending-left").textContent > 0`)
	if s := ch.text("#pending"); !strings.Contains(s, fmt.Sprintf("Confirming case %d", w.flagged)) || !strings.Contains(s, "Undo") {
		t.Errorf("the countdown reads %q", s)
	}
	ch.shot("console-undo-countdown.png")
	ch.run("undo with u", press('u'))
	ch.poll("undone", `document.getElementById("pending").hidden && !document.getElementById("undone").hidden`)
	// Longer than the countdown: still nothing sent.
	time.Sleep(undo + time.Second)
	if c, _, _, _ := w.desk.Case(ctx, w.flagged); c.State != review.Open || len(c.Decisions) != 0 {
		t.Fatalf("after Undo the case is %s with %d decisions", c.State, len(c.Decisions))
	}
	var loc string
	ch.run("still on the case", chromedp.Location(&loc))
	if !strings.HasSuffix(loc, fmt.Sprintf("/console/cases/%d", w.flagged)) {
		t.Fatalf("after Undo at %s", loc)
	}
	// c left alone is sent when the countdown ends.
	ch.run("confirm with c", press('1'), press('c'), chromedp.WaitVisible(`.notice`, chromedp.ByQuery))
	if c, _, _, _ := w.desk.Case(ctx, w.flagged); c.State != review.Decided {
		t.Fatalf("after the countdown the case is %s", c.State)
	}
	ch.run("the decided case", chromedp.Navigate(fmt.Sprintf("%s/console/cases/%d", w.srv.URL, w.flagged)), chromedp.WaitVisible(`#history`, chromedp.ByQuery))
	if h := ch.text("#history"); !strings.Contains(h, "test reviewer (reviewer) confirm") || strings.Contains(h, w.ids[auth.Reviewer]) {
		t.Errorf("the history reads %q", h)
	}
	ch.shot("console-case-names.png")
	ch.run("sign out", chromedp.Click(`header .who button`, chromedp.ByQuery), chromedp.WaitVisible(`#key`, chromedp.ByQuery))

	// The admin screens.
	ch.signIn(w, auth.Admin)
	ch.run("the banks", chromedp.WaitVisible(`#banks`, chromedp.ByQuery))
	if b := ch.text(`tr[data-bank="hotline"]`); !strings.Contains(b, "IWF: 2") || !strings.Contains(b, "review: 1") {
		t.Errorf("the bank's row reads %q", b)
	}
	ch.shot("console-admin-banks.png")
	ch.run("the webhooks", chromedp.Navigate(w.srv.URL+"/console/admin/webhooks"), chromedp.WaitVisible(`tr[data-delivery="dlv_1"]`, chromedp.ByQuery))
	ch.shot("console-admin-webhooks.png")
	ch.run("replay", chromedp.Click(`tr[data-delivery="dlv_1"] button.replay`, chromedp.ByQuery), chromedp.WaitVisible(`.notice`, chromedp.ByQuery))

	ch.run("create a key",
		chromedp.Navigate(w.srv.URL+"/console/admin/keys"),
		chromedp.WaitVisible(`#name`, chromedp.ByQuery),
		chromedp.SendKeys(`#name`, "Hotline NGO", chromedp.ByQuery),
		chromedp.SetValue(`#role`, "flagger", chromedp.ByQuery),
		chromedp.Click(`#create`, chromedp.ByQuery),
		chromedp.WaitVisible(`#new-key`, chromedp.ByQuery))
	plain := ch.text("#new-key")
	k, err := auth.Authenticate(ctx, w.keys, plain)
	if err != nil || k.Name != "Hotline NGO" || k.Role != auth.Flagger {
		t.Fatalf("the key shown (%q): %+v %v", plain, k, err)
	}
	ch.shot("console-admin-key-created.png")
	ch.run("revoke asks first",
		chromedp.Navigate(w.srv.URL+"/console/admin/keys"),
		chromedp.WaitVisible(fmt.Sprintf(`tr[data-key="%s"] button.revoke`, k.ID), chromedp.ByQuery),
		chromedp.Click(fmt.Sprintf(`tr[data-key="%s"] button.revoke`, k.ID), chromedp.ByQuery),
		chromedp.WaitVisible(`#revoke-yes`, chromedp.ByQuery))
	if _, err := auth.Authenticate(ctx, w.keys, plain); err != nil {
		t.Fatalf("revoked before confirming: %v", err)
	}
	ch.run("confirm the revocation", chromedp.Click(`#revoke-yes`, chromedp.ByQuery), chromedp.WaitVisible(`.notice`, chromedp.ByQuery))
	if _, err := auth.Authenticate(ctx, w.keys, plain); err == nil {
		t.Fatal("the revoked key still works")
	}
	ch.run("the audit log", chromedp.Navigate(w.srv.URL+"/console/admin/audit"), chromedp.WaitVisible(`#verify`, chromedp.ByQuery),
		chromedp.Click(`#verify`, chromedp.ByQuery), chromedp.WaitVisible(`#verified`, chromedp.ByQuery))
	if v := ch.text("#verified"); !strings.Contains(v, "Chain verified") {
		t.Errorf("verification reads %q", v)
	}
	if a := ch.text("#audit"); !strings.Contains(a, "key.revoke") || !strings.Contains(a, "test admin (admin)") {
		t.Errorf("the audit log lacks the revocation by the admin: %q", a)
	}
	ch.shot("console-admin-audit.png")

	ch.check(func(p string) bool { return strings.Contains(p, "/content/") })
}
