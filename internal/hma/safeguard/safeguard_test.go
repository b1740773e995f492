package safeguard_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/hma"
	"github.com/safeguard-oss/safeguard/internal/hma/safeguard/safeguardtest"
)

const (
	pdq1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	pdq2 = "62c9789627838f69f23cf98c29e37836d61c87c31c59587c4b49a783f496725c"
	md51 = "cab08b36195edb1a1231d2d09fa450e0"
)

// A content with several signals is one id: each signal finds it, it
// shows them all, and deleting it removes them all.
func TestContentWithSeveralSignals(t *testing.T) {
	ctx := context.Background()
	b, st, _ := safeguardtest.Open(t)
	if _, err := b.CreateBank(ctx, "k1", hma.Bank{Name: "VIDEOS", EnabledRatio: 1}); err != nil {
		t.Fatal(err)
	}
	// Another content first, so the ids are not all 1.
	first, err := b.AddContent(ctx, "k1", hma.Content{Bank: "VIDEOS", Signals: map[string]string{"pdq": pdq2}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.AddContent(ctx, "k1", hma.Content{Bank: "VIDEOS", Signals: map[string]string{"pdq": strings.ToUpper(pdq1), "video_md5": md51},
		Note: "two signals", ExternalID: "ext-9"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == first.ID || c.Signals["pdq"] != pdq1 || c.Signals["video_md5"] != md51 {
		t.Fatalf("added %+v after %+v", c, first)
	}
	for st, v := range map[string]string{"pdq": pdq1, "video_md5": md51} {
		ms, err := b.Lookup(ctx, st, v, nil)
		if err != nil || len(ms) != 1 || ms[0].ContentID != c.ID || ms[0].Bank != "VIDEOS" || ms[0].Distance != "0" {
			t.Fatalf("lookup %s: %+v %v, want content %d", st, ms, err, c.ID)
		}
	}
	got, err := b.Content(ctx, "VIDEOS", c.ID)
	if err != nil || len(got.Signals) != 2 || got.Note != "two signals" || got.ExternalID != "ext-9" {
		t.Fatalf("content: %+v %v", got, err)
	}
	// Adding a signal the bank holds again answers the content it is in.
	again, err := b.AddContent(ctx, "k1", hma.Content{Bank: "VIDEOS", Signals: map[string]string{"video_md5": md51}})
	if err != nil || again.ID != c.ID {
		t.Fatalf("re-add: %+v %v, want id %d", again, err, c.ID)
	}
	// A new note keeps the id and both signals.
	note := "renewed"
	if _, err := b.UpdateContent(ctx, "k1", "VIDEOS", c.ID, hma.ContentUpdate{Note: &note}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Content(ctx, "VIDEOS", c.ID); err != nil || got.Note != note || len(got.Signals) != 2 {
		t.Fatalf("after the note: %+v %v", got, err)
	}
	if ms, _ := b.Lookup(ctx, "video_md5", md51, nil); len(ms) != 1 || ms[0].ContentID != c.ID {
		t.Fatalf("lookup after the note: %+v", ms)
	}
	n, err := b.DeleteContent(ctx, "k1", "VIDEOS", c.ID)
	if err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	for st, v := range map[string]string{"pdq": pdq1, "video_md5": md51} {
		if ms, err := b.Lookup(ctx, st, v, nil); err != nil || len(ms) != 0 {
			t.Fatalf("lookup %s after delete: %+v %v", st, ms, err)
		}
	}
	if _, err := b.Content(ctx, "VIDEOS", c.ID); !errors.Is(err, hma.ErrNotFound) {
		t.Fatalf("content after delete: %v", err)
	}
	if x, err := st.Bank(ctx, "videos"); err != nil || x.Entries != 1 {
		t.Fatalf("bank after delete: %+v %v, want the first content's entry only", x, err)
	}
	// Every change is in the audit log, as done through HMA.
	n = 0
	for e, err := range st.AuditEntries(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Actor == "k1" && strings.Contains(string(e.Detail), `"via":"hma"`) {
			n++
		}
	}
	if n < 5 {
		t.Fatalf("%d audit entries via hma, want one per change (6)", n)
	}
}

// Entries that did not come through the HMA API are content of their own
// and keep their provenance.
func TestForeignEntries(t *testing.T) {
	ctx := context.Background()
	b, st, m := safeguardtest.Open(t)
	if _, err := st.CreateBank(ctx, bank.Bank{Name: "iwf", Threshold: 20, Description: "from the hotline"}); err != nil {
		t.Fatal(err)
	}
	e := bank.Entry{Signal: bank.PDQ, Value: pdq1, Source: "IWF", ExternalID: "iwf-1", Note: "class A"}
	if _, err := st.AddEntries(ctx, "iwf", func(yield func(bank.Entry, error) bool) { yield(e, nil) }, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	ms, err := b.Lookup(ctx, "pdq", pdq1, []string{"IWF"})
	if err != nil || len(ms) != 1 {
		t.Fatalf("lookup: %+v %v", ms, err)
	}
	c, err := b.Content(ctx, "IWF", ms[0].ContentID)
	if err != nil || c.Note != "class A" || c.ExternalID != "iwf-1" {
		t.Fatalf("content: %+v %v", c, err)
	}
	note := "changed"
	if _, err := b.UpdateContent(ctx, "k1", "IWF", c.ID, hma.ContentUpdate{Note: &note}); !errors.Is(err, hma.ErrUnsupported) {
		t.Fatalf("new note on a hotline's entry: %v, want ErrUnsupported", err)
	}
	// A ratio change keeps the description and the threshold.
	q := 0.0
	got, err := b.UpdateBank(ctx, "k1", "IWF", hma.BankUpdate{EnabledRatio: &q})
	if err != nil || got.EnabledRatio != 0 {
		t.Fatalf("ratio: %+v %v", got, err)
	}
	x, err := st.Bank(ctx, "iwf")
	if err != nil || x.Threshold != 20 || !strings.HasPrefix(x.Description, "from the hotline\n") {
		t.Fatalf("stored bank: %+v %v", x, err)
	}
	one := 1.0
	if got, err = b.UpdateBank(ctx, "k1", "IWF", hma.BankUpdate{EnabledRatio: &one}); err != nil || got.EnabledRatio != 1 {
		t.Fatalf("ratio back to 1: %+v %v", got, err)
	}
	if x, _ = st.Bank(ctx, "iwf"); x.Description != "from the hotline" {
		t.Fatalf("description %q", x.Description)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	b, _, _ := safeguardtest.Open(t)
	if _, err := b.CreateBank(ctx, "k1", hma.Bank{Name: "_LEADING", EnabledRatio: 1}); !errors.Is(err, hma.ErrInvalid) {
		t.Errorf("leading underscore: %v", err)
	}
	if _, err := b.CreateBank(ctx, "k1", hma.Bank{Name: strings.Repeat("A", 65), EnabledRatio: 1}); !errors.Is(err, hma.ErrInvalid) {
		t.Errorf("65 characters: %v", err)
	}
	if _, err := b.CreateBank(ctx, "k1", hma.Bank{Name: "B", EnabledRatio: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateBank(ctx, "k1", hma.Bank{Name: "B", EnabledRatio: 1}); !errors.Is(err, hma.ErrExists) {
		t.Errorf("twice: %v", err)
	}
	for _, c := range []hma.Content{
		{Bank: "B", Signals: map[string]string{"pdq": "banana"}},
		{Bank: "B", Signals: map[string]string{"vpdq": pdq1}},
		{Bank: "B", Signals: map[string]string{"video_md5": pdq1}},
		{Bank: "B", Signals: map[string]string{"pdq": pdq1}, Note: "nul\x00"},
	} {
		if _, err := b.AddContent(ctx, "k1", c); !errors.Is(err, hma.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", c, err)
		}
	}
	if _, err := b.AddContent(ctx, "k1", hma.Content{Bank: "NONE", Signals: map[string]string{"pdq": pdq1}}); !errors.Is(err, hma.ErrNotFound) {
		t.Errorf("no bank: %v", err)
	}
	if _, err := b.Lookup(ctx, "pdq", "zz", nil); !errors.Is(err, hma.ErrInvalid) {
		t.Errorf("bad hash: %v", err)
	}
	if _, err := b.Hash(ctx, "photo", []byte("not an image")); !errors.Is(err, hma.ErrInvalid) {
		t.Errorf("bad image: %v", err)
	}
	if _, err := b.Exchange(ctx, "X"); !errors.Is(err, hma.ErrNotFound) {
		t.Errorf("no exchanges: %v", err)
	}
}

// Contents added at once each get their own id, and each of their signals
// finds it: the two writes of a content with several signals do not mix
// with another's.
func TestConcurrentAdds(t *testing.T) {
	ctx := context.Background()
	b, _, _ := safeguardtest.Open(t)
	if _, err := b.CreateBank(ctx, "k1", hma.Bank{Name: "MANY", EnabledRatio: 1}); err != nil {
		t.Fatal(err)
	}
	const n = 16
	ids := make([]int64, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			c, err := b.AddContent(ctx, "k1", hma.Content{Bank: "MANY", Signals: map[string]string{
				"pdq": fmt.Sprintf("%064x", i+1), "video_md5": fmt.Sprintf("%032x", i+1)}})
			ids[i] = c.ID
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int64]bool{}
	for i, id := range ids {
		if seen[id] {
			t.Fatalf("id %d given twice", id)
		}
		seen[id] = true
		ms, err := b.Lookup(ctx, "video_md5", fmt.Sprintf("%032x", i+1), nil)
		if err != nil || len(ms) != 1 || ms[0].ContentID != id {
			t.Fatalf("content %d's MD5: %+v %v", id, ms, err)
		}
		c, err := b.Content(ctx, "MANY", id)
		if err != nil || c.Signals["pdq"] != fmt.Sprintf("%064x", i+1) {
			t.Fatalf("content %d: %+v %v", id, c, err)
		}
	}
}
