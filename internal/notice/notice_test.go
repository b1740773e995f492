package notice_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

var loop = webhook.Policy{Allow: []string{"127.0.0.1/32"}}

// The safe fetcher refuses loopback unless allowed, re-checks each
// redirect's target, stops at its redirect and size limits and its time
// limit.
func TestSafeFetch(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write(make([]byte, 2000))
		case "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()

	if _, err := (&notice.Safe{}).Fetch(ctx, srv.URL+"/"); !errors.Is(err, webhook.ErrRefusedTarget) {
		t.Errorf("loopback with the default policy: %v, want refused", err)
	}
	f, err := (&notice.Safe{Policy: loop}).Fetch(ctx, srv.URL+"/")
	if err != nil || f.Status != 200 || string(f.Body) != "ok" {
		t.Errorf("allowed loopback: %+v, %v", f, err)
	}
	if _, err := (&notice.Safe{Policy: loop}).Fetch(ctx, srv.URL+"/metadata"); !errors.Is(err, webhook.ErrRefusedTarget) {
		t.Errorf("redirect to the metadata address: %v, want refused", err)
	}
	if _, err := (&notice.Safe{Policy: loop, MaxRedirects: 3}).Fetch(ctx, srv.URL+"/loop"); !errors.Is(err, notice.ErrTooManyRedirects) {
		t.Errorf("redirect loop: %v", err)
	}
	if f, err := (&notice.Safe{Policy: loop, MaxBytes: 1000}).Fetch(ctx, srv.URL+"/big"); err != nil || !f.Truncated || len(f.Body) != 1000 {
		t.Errorf("over the size limit: %d bytes, truncated %v, %v", len(f.Body), f.Truncated, err)
	}
	if _, err := (&notice.Safe{Policy: loop, Timeout: 50 * time.Millisecond}).Fetch(ctx, srv.URL+"/slow"); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("slow host: %v, want a timeout", err)
	}
}

func TestValidate(t *testing.T) {
	ok := notice.Notice{URL: "https://Img.Example/a.jpg", Contact: "abuse@img.example", Category: review.SuspectedCSAM, LegalBasis: "Art. 16 DSA"}
	n := ok
	if err := n.Validate(); err != nil || n.Host != "img.example" {
		t.Errorf("valid notice: %v, host %q", err, n.Host)
	}
	for _, tc := range []struct {
		name string
		edit func(n *notice.Notice)
		want string
	}{
		{"scheme", func(n *notice.Notice) { n.URL = "file:///etc/passwd" }, "absolute http"},
		{"contact", func(n *notice.Notice) { n.Contact = "Abuse <abuse@x.example>\r\nBcc: y@z" }, "contact"},
		{"category", func(n *notice.Notice) { n.Category = "spam" }, "category"},
		{"basis", func(n *notice.Notice) { n.LegalBasis = "" }, "legal_basis is required"},
		{"control", func(n *notice.Notice) { n.Note = "a\x00b" }, "note"},
	} {
		n := ok
		tc.edit(&n)
		if err := n.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

func TestFigures(t *testing.T) {
	t0 := time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	sent := func(host string, st notice.State, removedAfter time.Duration) notice.Notice {
		n := notice.Notice{Host: host, State: st, Sends: 1, FirstSentAt: t0}
		if st == notice.Removed {
			n.RemovedAt = t0.Add(removedAfter)
		}
		return n
	}
	ns := []notice.Notice{
		sent("a", notice.Removed, 10*time.Hour), sent("a", notice.Removed, 2*time.Hour), sent("a", notice.Removed, 30*time.Hour),
		sent("a", notice.Open, 0), {Host: "a", State: notice.Removed}, sent("a", notice.Withdrawn, 0), {Host: "b", State: notice.Open},
	}
	rows := notice.Figures(ns, t0.Add(48*time.Hour))
	a, b := rows[0], rows[1]
	if a.Notices != 6 || a.Sent != 5 || a.Removed != 3 || a.GoneBeforeNotice != 1 || a.StillUp != 1 || a.Withdrawn != 1 ||
		a.MedianToRemoval != 10*time.Hour || a.Oldest != 48*time.Hour {
		t.Errorf("host a: %+v", a)
	}
	if b.Notices != 1 || b.Sent != 0 || b.StillUp != 1 || b.Oldest != 0 {
		t.Errorf("host b: %+v", b)
	}
}
