package usecase_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/testkit"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// fakeHost is an outside host on loopback serving the reported picture at
// /img, taking notices on its API at /abuse, and behaving as its script
// says once it has had some.
type fakeHost struct {
	*httptest.Server
	mu      sync.Mutex
	notices int
	got     []map[string]any
}

func (h *fakeHost) received() int { h.mu.Lock(); defer h.mu.Unlock(); return h.notices }

// newHost serves what img returns for the notices received so far
// (status, body); /abuse counts notices.
func newHost(t *testing.T, img func(notices int, w http.ResponseWriter, r *http.Request)) *fakeHost {
	h := &fakeHost{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/abuse" && r.Method == http.MethodPost {
			var m map[string]any
			json.NewDecoder(r.Body).Decode(&m)
			h.mu.Lock()
			h.notices++
			h.got = append(h.got, m)
			h.mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
			return
		}
		img(h.received(), w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func jpegOf(t *testing.T, seed, quality int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testkit.Picture(seed, 256), &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestNoticeChasing: five hosts on a fake clock over five days. One
// removes the picture after two notices, one never does, one answers 410
// after the first, one redirects to a CDN serving a re-encoded copy (still
// the picture, by PDQ), one serves a different picture at the same URL
// (removed, by hash). Notices go by each host's API or by e-mail to a
// local SMTP sink; the two that stay up are escalated to the regulator
// after three days; the per-host figures and the audit log agree.
func TestNoticeChasing(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testNoticeChasing(t, be.open(t)) })
	}
}

func testNoticeChasing(t *testing.T, st store.Store) {
	ctx := context.Background()
	pic, recoded, other := jpegOf(t, 1, 95), jpegOf(t, 1, 70), jpegOf(t, 5, 95)
	serve := func(w http.ResponseWriter, b []byte) { w.Header().Set("Content-Type", "image/jpeg"); w.Write(b) }

	removes := newHost(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n >= 2 {
			http.NotFound(w, nil)
			return
		}
		serve(w, pic)
	})
	never := newHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) { serve(w, pic) })
	gone := newHost(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n >= 1 {
			w.WriteHeader(http.StatusGone)
			return
		}
		serve(w, pic)
	})
	var redirects *fakeHost
	redirects = newHost(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cdn/img" {
			serve(w, recoded)
			return
		}
		http.Redirect(w, r, redirects.URL+"/cdn/img", http.StatusFound)
	})
	swaps := newHost(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n >= 1 {
			serve(w, other)
			return
		}
		serve(w, pic)
	})
	sink := testkit.NewSMTPSink(t)

	clk := testkit.NewClock(time.Date(2026, 5, 20, 8, 0, 0, 0, time.UTC))
	t0 := clk.Now()
	loop := webhook.Policy{Allow: []string{"127.0.0.1/32"}}
	h := &hasher.Hasher{}
	chaser := &notice.Chaser{
		Fetch: &notice.Safe{Policy: loop, Timeout: 5 * time.Second},
		Senders: &notice.Senders{
			Mail:   &notice.SMTP{Addr: sink.Addr, From: "notices@hotline.example", Timeout: 5 * time.Second},
			Policy: loop, Authority: "regulator@authority.example",
			APIs: map[string]notice.API{
				"removes": {URL: removes.URL + "/abuse", Token: "t"}, "gone": {URL: gone.URL + "/abuse"}, "swaps": {URL: swaps.URL + "/abuse"},
			},
		},
		PDQ: func(ctx context.Context, b []byte) (pdq.Hash, error) {
			s, err := h.HashContext(ctx, "fetched", b)
			return s.PDQ, err
		},
		Org: "Test Hotline", EscalateAfter: 72 * time.Hour, Now: clk.Now,
	}
	kr, err := evidence.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evidence.Open(t.TempDir(), kr)
	if err != nil {
		t.Fatal(err)
	}
	_, tx := usecase.Over(st)
	u := &usecase.Notices{Tx: tx, Log: audit.NewLog(st), Store: st, Chaser: chaser, Evidence: ev, Hasher: h}

	ids := map[string]int64{}
	for _, x := range []struct {
		host    string
		srv     *fakeHost
		contact string
	}{{"removes", removes, ""}, {"never", never, "abuse@never.example"}, {"gone", gone, ""},
		{"redirects", redirects, "abuse@redirects.example"}, {"swaps", swaps, ""}} {
		n, err := u.Create(ctx, "analyst", notice.Notice{URL: x.srv.URL + "/img", Host: x.host, Contact: x.contact,
			Category: review.SuspectedCSAM, LegalBasis: "Art. 16 DSA"}, pic, "image/jpeg")
		if err != nil {
			t.Fatal(err)
		}
		if n.Evidence == "" || n.PDQ == nil || n.MD5 == "" {
			t.Fatalf("notice %s: no evidence or hashes: %+v", x.host, n)
		}
		ids[x.host] = n.ID
	}
	if data, _, err := ev.Get(mustNotice(t, st, ids["never"]).Evidence); err != nil || !bytes.Equal(data, pic) {
		t.Fatalf("evidence of a notice: %v (the picture back: %v)", err, bytes.Equal(data, pic))
	}

	for hour := 0; hour <= 5*24; hour++ {
		clk.Set(t0.Add(time.Duration(hour) * time.Hour))
		if _, err := u.Chase(ctx); err != nil {
			t.Fatal(err)
		}
	}

	if got := removes.received(); got != 2 {
		t.Errorf("host that removes after two notices got %d", got)
	}
	if got := gone.received(); got != 1 {
		t.Errorf("host answering 410 got %d notices, want 1", got)
	}
	if got := swaps.received(); got != 1 {
		t.Errorf("host serving another picture got %d notices, want 1", got)
	}
	if m := removes.got[1]; m["notice"] != 2.0 || m["reference"] != "notice:1" || m["md5"] == "" {
		t.Errorf("second API notice = %v", m)
	}
	mailTo := map[string]int{}
	for _, m := range sink.Mail() {
		mailTo[m.To[0]]++
	}
	// Sent at 0, 24, ..., 120 h: six each; one escalation each, at 72 h.
	if mailTo["abuse@never.example"] != 6 || mailTo["abuse@redirects.example"] != 6 || mailTo["regulator@authority.example"] != 2 {
		t.Errorf("mail received: %v", mailTo)
	}
	var fourth string
	for _, m := range sink.Mail() {
		if m.To[0] == "abuse@never.example" && strings.Contains(m.Data, "Subject: Notice 4:") {
			fourth = m.Data
		}
	}
	if !strings.Contains(fourth, never.URL+"/img") || !strings.Contains(fourth, "notice number 4") || !strings.Contains(fourth, "Art. 16 DSA") {
		t.Errorf("the fourth e-mail notice to the host that never removes:\n%s", fourth)
	}

	ns, err := st.Notices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]notice.HostRow{}
	for _, r := range notice.Figures(ns, clk.Now()) {
		rows[r.Host] = r
	}
	for host, want := range map[string]notice.HostRow{
		"removes":   {Notices: 1, Sent: 1, Removed: 1, MedianToRemoval: 30 * time.Hour},
		"gone":      {Notices: 1, Sent: 1, Removed: 1, MedianToRemoval: 6 * time.Hour},
		"swaps":     {Notices: 1, Sent: 1, Removed: 1, MedianToRemoval: 6 * time.Hour},
		"never":     {Notices: 1, Sent: 1, StillUp: 1, Escalated: 1, Oldest: 120 * time.Hour},
		"redirects": {Notices: 1, Sent: 1, StillUp: 1, Escalated: 1, Oldest: 120 * time.Hour},
	} {
		got := rows[host]
		want.Host, want.Evidence = host, []int64{ids[host]}
		if got.Notices != want.Notices || got.Sent != want.Sent || got.Removed != want.Removed || got.StillUp != want.StillUp ||
			got.Escalated != want.Escalated || got.MedianToRemoval != want.MedianToRemoval || got.Oldest != want.Oldest {
			t.Errorf("%s: %+v, want %+v", host, got, want)
		}
	}

	// The evidence: every check with its status and body hash.
	evs, err := st.NoticeEvents(ctx, ids["redirects"])
	if err != nil {
		t.Fatal(err)
	}
	checks := 0
	for _, e := range evs {
		if e.Kind == notice.Checked {
			checks++
			if c := e.Check; c.Status != 200 || c.FinalURL != redirects.URL+"/cdn/img" || !c.Found || c.Distance == 0 || c.SHA256 == "" {
				t.Fatalf("a check through the redirect: %+v", c)
			}
		}
	}
	if checks != 21 { // every 6 h for 120 h
		t.Errorf("%d checks of the redirecting host, want 21", checks)
	}
	evs, _ = st.NoticeEvents(ctx, ids["swaps"])
	if last := evs[len(evs)-2]; last.Check == nil || last.Check.Status != 200 || last.Check.Found || !last.Check.Gone || evs[len(evs)-1].Kind != notice.Gone {
		t.Errorf("the swapped picture's last events: %+v", evs[len(evs)-2:])
	}

	// The audit log: the creations, each notice that went, the
	// escalations and the removals; the chain verifies.
	actions := map[string]int{}
	for e, err := range st.AuditEntries(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		actions[e.Action]++
	}
	if actions["notice.create"] != 5 || actions["notice.send"] != 2+6+1+6+1 || actions["notice.escalate"] != 2 || actions["notice.removed"] != 3 {
		t.Errorf("audit actions: %v", actions)
	}

	// A withdrawn notice is no longer chased.
	if _, err := u.Withdraw(ctx, "analyst", ids["never"], "handed to the police"); err != nil {
		t.Fatal(err)
	}
	for range 48 {
		clk.Advance(time.Hour)
		u.Chase(ctx)
	}
	if mailTo := len(sink.Mail()); mailTo != 6+6+2+2 {
		t.Errorf("%d mails after withdrawing one; want only the redirecting host's two more", mailTo)
	}
	if _, err := u.Withdraw(ctx, "analyst", ids["never"], ""); err == nil {
		t.Error("withdrew a withdrawn notice")
	}
}

func mustNotice(t *testing.T, st store.Store, id int64) notice.Notice {
	t.Helper()
	n, err := st.Notice(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
