package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/console"
)

// chromium finds Debian's chromium (or another Chromium-based browser).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (Debian: apt-get install chromium): skipping the console's browser test")
	return ""
}

// chrome is one headless Chromium for a browser test: its context, and
// what its pages reported (script errors, CSP refusals).
type chrome struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	shots    map[string][]byte // written out when the test ends
}

// newChrome starts Chromium, or skips the test where there is none or
// with -short.
func newChrome(t *testing.T) *chrome {
	browser := chromium(t)
	if testing.Short() {
		t.Skip("-short: skipping the browser test")
	}
	// Not t.TempDir: Chromium's helpers may still be writing to its
	// profile just after it exits, which would fail the test's cleanup.
	profile, err := os.MkdirTemp("", "safeguard-console-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun, chromedp.Flag("disable-sync", true), chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	// Cleanups run last first: the browser goes before its profile.
	t.Cleanup(cancelA)
	t.Cleanup(cancelB)
	t.Cleanup(cancelT)
	c := &chrome{t: t, ctx: ctx, shots: map[string][]byte{}}
	t.Cleanup(c.saveShots)

	// The browser lives as long as the context of the first Run. The
	// Log domain reports what the page refused (CSP) or failed to load.
	if err := chromedp.Run(ctx, cdplog.Enable()); err != nil {
		t.Fatalf("starting %s: %v", browser, err)
	}

	// Script errors, CSP refusals included, fail the test.
	chromedp.ListenTarget(ctx, func(ev any) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch e := ev.(type) {
		case *cdpruntime.EventExceptionThrown:
			c.problems = append(c.problems, "exception: "+e.ExceptionDetails.Error())
		case *cdplog.EventEntryAdded:
			// Chromium asks for /favicon.ico on its own; the console has none.
			if e.Entry.Level == cdplog.LevelError && !strings.HasSuffix(e.Entry.URL, "/favicon.ico") {
				c.problems = append(c.problems, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *cdpruntime.EventConsoleAPICalled:
			if e.Type == cdpruntime.APITypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				c.problems = append(c.problems, "console.error: "+strings.Join(parts, " "))
			}
		}
	})
	return c
}

// run runs a step's actions; on failure it shows the page.
func (c *chrome) run(step string, actions ...chromedp.Action) {
	c.t.Helper()
	sctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, actions...); err != nil {
		var html, loc string
		hctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		chromedp.Run(hctx, chromedp.Location(&loc), chromedp.OuterHTML("html", &html, chromedp.ByQuery))
		cancel()
		c.t.Fatalf("%s: %v\nat %s:\n%s", step, err, loc, html)
	}
}

// poll waits until the expression is true.
func (c *chrome) poll(step, expr string) {
	c.t.Helper()
	var ok bool
	c.run(step, chromedp.Poll(expr, &ok, chromedp.WithPollingTimeout(15*time.Second)))
}

// ready waits for the page's (deferred) script: keys go to the page only
// once it has run.
func (c *chrome) ready() {
	c.t.Helper()
	c.poll("the page's script has run", `document.readyState === "complete"`)
}

// press types a key as a person does: one keyDown carrying its text,
// so a handler that prevents the default stops the character too
// (chromedp.KeyEvent sends the character as a separate event).
func press(r rune) chromedp.ActionFunc {
	return func(ctx context.Context) error {
		evs := kb.Encode(r)
		down := *evs[0]
		down.Text, down.UnmodifiedText = evs[1].Text, evs[1].UnmodifiedText
		if err := down.Do(ctx); err != nil {
			return err
		}
		return evs[len(evs)-1].Do(ctx)
	}
}

// signIn signs the browser in with a key, at the sign-in page.
func (c *chrome) signIn(w *world, role auth.Role) {
	c.t.Helper()
	c.run("sign in as "+string(role),
		chromedp.Navigate(w.srv.URL+"/console/signin"),
		chromedp.WaitVisible(`#key`, chromedp.ByQuery),
		chromedp.SendKeys(`#key`, w.secrets[role], chromedp.ByQuery),
		chromedp.Submit(`#key`, chromedp.ByQuery),
		chromedp.WaitVisible(`header .who`, chromedp.ByQuery))
}

// shot takes a screenshot of the whole page, kept as name.
func (c *chrome) shot(name string) {
	c.t.Helper()
	var b []byte
	c.run("screenshot "+name, chromedp.FullScreenshot(&b, 100))
	c.shots[name] = b
}

// text reads the text of the element sel selects.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	var s string
	c.run("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

// saveShots writes the screenshots to $SAFEGUARD_ARTIFACTS (default
// $TMPDIR/safeguard-console-test) and logs where.
func (c *chrome) saveShots() {
	dir := os.Getenv("SAFEGUARD_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "safeguard-console-test")
	}
	os.MkdirAll(dir, 0o755)
	for name, b := range c.shots {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			c.t.Error(err)
		}
		c.t.Logf("screenshot: %s", filepath.Join(dir, name))
	}
}

// check fails the test with what the pages reported, but for what
// ignore says is expected.
func (c *chrome) check(ignore func(string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps := slices.DeleteFunc(slices.Clone(c.problems), ignore); len(ps) > 0 {
		c.t.Errorf("the pages reported problems:\n%s", strings.Join(ps, "\n"))
	}
}

// TestBrowser works a case in real headless Chromium: sign in, find the
// queue in priority order, open the top case from the keyboard, find its
// preview blurred and greyscale, reveal it with a key, confirm with a key,
// and see the case leave the queue. Screenshots go to the directory it logs.
func TestBrowser(t *testing.T) {
	ch := newChrome(t)
	w := newWorld(t, func(c *console.Config) { c.UndoAfter = time.Second })
	run, poll, ready := ch.run, ch.poll, ch.ready

	var url string
	run("the sign-in page",
		chromedp.Navigate(w.srv.URL+"/console/"),
		chromedp.WaitVisible(`#key`, chromedp.ByQuery))
	run("sign in",
		chromedp.SendKeys(`#key`, w.secrets[auth.Reviewer], chromedp.ByQuery),
		chromedp.Submit(`#key`, chromedp.ByQuery),
		chromedp.WaitVisible(`a[href="/console/queues/known_csam"]`, chromedp.ByQuery),
		chromedp.Location(&url))
	if !strings.HasSuffix(url, "/console/") {
		t.Fatalf("signed in at %s", url)
	}

	var order []int64
	var scores []int
	run("open the queue",
		chromedp.Click(`a[href="/console/queues/known_csam"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#cases`, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#cases tr[data-case]"), r => +r.dataset.case)`, &order),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#cases tr[data-case]"), r => +r.dataset.score)`, &scores))
	if want := []int64{w.top, w.flagged, w.user}; !slices.Equal(order, want) {
		t.Fatalf("queue order %v, want %v (scores %v)", order, want, scores)
	}
	if !slices.IsSortedFunc(scores, func(a, b int) int { return b - a }) {
		t.Fatalf("scores not highest first: %v", scores)
	}

	// j selects the first case, Enter opens it.
	ready()
	run("open the top case from the keyboard",
		chromedp.KeyEvent("j"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`img.preview`, chromedp.ByQuery),
		chromedp.Location(&url))
	if !strings.HasSuffix(url, fmt.Sprintf("/console/cases/%d", w.top)) {
		t.Fatalf("Enter opened %s, want case %d", url, w.top)
	}
	poll("the preview loads", `(() => { const i = document.querySelector("img.preview"); return i.complete && i.naturalWidth === 64; })()`)

	var filter string
	computed := chromedp.Evaluate(`getComputedStyle(document.querySelector(".preview")).filter`, &filter)
	run("the preview's style", computed)
	if !strings.Contains(filter, "blur(") || !strings.Contains(filter, "grayscale(1)") {
		t.Fatalf("the preview's computed filter is %q, want blurred and greyscale", filter)
	}
	ch.shot("console-case-blurred.png")

	ready()
	run("reveal with v", chromedp.KeyEvent("v"))
	poll("the preview is revealed", `document.querySelector(".preview").classList.contains("revealed")`)
	run("the revealed preview's style", computed)
	if filter != "none" {
		t.Fatalf("revealed, the filter is %q", filter)
	}
	reveals := 0
	for _, e := range w.entries(audit.EvidenceRead) {
		var d struct{ Purpose, Shown string }
		json.Unmarshal(e.Detail, &d)
		if e.Actor != w.ids[auth.Reviewer] || e.Subject != w.item || d.Purpose != "view" {
			t.Errorf("evidence.read entry %+v", e)
		}
		if d.Shown == "revealed" {
			reveals++
		}
	}
	if reveals != 1 {
		t.Fatalf("%d reveals recorded, want 1", reveals)
	}
	// Escape blurs it again.
	run("blur with Escape", chromedp.KeyEvent(kb.Escape))
	poll("the preview is blurred again", `!document.querySelector(".preview").classList.contains("revealed")`)

	// 1 chooses A1, c confirms (remove is the default action).
	run("confirm from the keyboard",
		chromedp.KeyEvent("1"),
		chromedp.KeyEvent("c"),
		chromedp.WaitVisible(`.notice`, chromedp.ByQuery),
		chromedp.Location(&url),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#cases tr[data-case]"), r => +r.dataset.case)`, &order))
	if !strings.Contains(url, "/console/queues/known_csam") {
		t.Fatalf("after deciding, at %s", url)
	}
	if slices.Contains(order, w.top) || len(order) != 2 {
		t.Fatalf("after deciding case %d the queue holds %v", w.top, order)
	}
	// The flagger's case is next: d asks for a reason, Enter dismisses;
	// a trusted flagger's case then waits for a second reviewer.
	ready()
	run("open the next case", chromedp.KeyEvent("j"), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(`#decision`, chromedp.ByQuery))
	ready()
	run("dismiss from the keyboard", press('d'))
	poll("d focuses the reason", `document.activeElement === document.getElementById("reason")`)
	run("type the reason and send it",
		chromedp.KeyEvent("adult, not a child"),
		press('\r'),
		chromedp.WaitVisible(`.notice`, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#cases tr[data-case]"), r => +r.dataset.case)`, &order))
	if c, _, _, _ := w.desk.Case(context.Background(), w.flagged); c.State != "pending_second" || c.Decisions[0].Reason != "adult, not a child" {
		t.Fatalf("after dismissing the flagger's case: %+v", c)
	}
	var notice string
	run("the notice", chromedp.Text(`.notice`, &notice, chromedp.ByQuery))
	if !strings.Contains(notice, "waits for a second reviewer") {
		t.Errorf("after a first dismissal the notice says %q", notice)
	}
	if !slices.Contains(order, w.flagged) {
		t.Fatalf("the flagger's case, waiting for a second reviewer, left the queue: %v", order)
	}

	ch.shot("console-queue-after.png")
	dec := w.entries("case.decide")
	if len(dec) != 1 || dec[0].Actor != w.ids[auth.Reviewer] || dec[0].Subject != fmt.Sprintf("case:%d", w.top) || !strings.Contains(string(dec[0].Detail), "A1") {
		t.Fatalf("case.decide entries: %+v", dec)
	}

	// Video: shown as a player that never starts by itself, blurred too.
	// (The bytes are not a playable video; what matters is the element.)
	video, _ := w.ruleCase("clip-1", []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom not really a video"), "video/mp4")
	var preload string
	var autoplay, paused, muted, strip bool
	run("a case with a video",
		chromedp.Navigate(fmt.Sprintf("%s/console/cases/%d", w.srv.URL, video)),
		chromedp.WaitReady(`video.preview`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("video.preview").preload`, &preload),
		chromedp.Evaluate(`document.querySelector("video.preview").autoplay`, &autoplay),
		chromedp.Evaluate(`document.querySelector("video.preview").paused`, &paused),
		chromedp.Evaluate(`document.querySelector("video.preview").muted`, &muted),
		chromedp.Evaluate(`!!document.querySelector("video.preview + img.strip")`, &strip),
		computed)
	if preload != "none" || autoplay || !paused || !muted || !strip {
		t.Errorf("video: preload %q, autoplay %v, paused %v, muted %v, keyframe strip %v", preload, autoplay, paused, muted, strip)
	}
	if !strings.Contains(filter, "blur(") || !strings.Contains(filter, "grayscale(1)") {
		t.Errorf("the video's computed filter is %q, want blurred and greyscale", filter)
	}

	// The image element's failure to draw the video is how the page
	// learns to show a player: not a problem.
	ch.check(func(p string) bool { return strings.Contains(p, "/content/") })
}
