package evidence

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
)

// heldStore is a store on a fake clock with a US term of a year and a DE
// term of 90 days, and an audit log over memory.
func heldStore(t *testing.T) (*Store, *audit.Log, *audittest.Memory, *time.Time) {
	t.Helper()
	s := open(t, t.TempDir(), ring(t, "k1"))
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	s.Holds = Holds{Default: DefaultHold, ByJurisdiction: map[string]time.Duration{"DE": 90 * 24 * time.Hour}}
	mem := &audittest.Memory{}
	return s, audit.NewLog(mem), mem, &now
}

func entries(t *testing.T, mem *audittest.Memory) []audit.Entry {
	t.Helper()
	var es []audit.Entry
	for e, err := range mem.AuditEntries(context.Background(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}

func TestHoldAtIntake(t *testing.T) {
	s, _, _, _ := heldStore(t)
	for _, tc := range []struct {
		jurisdiction string
		term         time.Duration
	}{
		{"", DefaultHold},
		{"US", DefaultHold},
		{"DE", 90 * 24 * time.Hour},
	} {
		m := meta
		m.Jurisdiction = tc.jurisdiction
		m.PDQ = strings.Repeat("ab", 32)
		item, err := s.Put(content, m)
		if err != nil {
			t.Fatal(err)
		}
		if item.MD5 != md5.Sum(content) {
			t.Errorf("Put recorded MD5 %s, want %x", item.MD5, md5.Sum(content))
		}
		_, got, err := s.Get(item.ID)
		if err != nil || got != item || got.Meta.PDQ != m.PDQ {
			t.Errorf("Get = %+v, %v; want %+v with the PDQ and MD5 of intake", got, err, item)
		}
		h, err := s.Hold(item.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := item.Created.Add(tc.term); !h.Until.Equal(want) || h.Jurisdiction != tc.jurisdiction {
			t.Errorf("jurisdiction %q: hold %+v, want until %s", tc.jurisdiction, h, want)
		}
	}
}

func TestDeleteRefusedDuringHoldAllowedAndAuditedAfter(t *testing.T) {
	s, log, mem, now := heldStore(t)
	ctx := context.Background()
	item, err := s.Put(content, meta)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.Hold(item.ID)

	for _, at := range []time.Time{*now, h.Until.Add(-time.Second)} {
		*now = at
		err := s.Delete(ctx, log, item.ID, "key-admin", "retention over")
		if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), h.Until.Format(time.RFC3339)) {
			t.Fatalf("Delete at %s = %v, want ErrHeld naming the end of the hold", at, err)
		}
	}
	if _, _, err := s.Get(item.ID); err != nil {
		t.Fatalf("item gone after a refused delete: %v", err)
	}
	if es := entries(t, mem); len(es) != 0 {
		t.Fatalf("refused deletes left entries %+v", es)
	}
	if err := s.Delete(ctx, log, item.ID, "key-admin", ""); err == nil {
		t.Fatal("Delete without a reason succeeded")
	}

	*now = h.Until
	if err := s.Delete(ctx, log, item.ID, "key-admin", "retention over"); err != nil {
		t.Fatalf("Delete at the end of the hold: %v", err)
	}
	if _, _, err := s.Get(item.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if left, _ := os.ReadDir(dirOf(s)); len(left) != 0 {
		t.Errorf("directory holds %v after the delete", left)
	}
	es := entries(t, mem)
	if len(es) != 1 {
		t.Fatalf("audit log has %d entries, want the deletion's", len(es))
	}
	var d map[string]string
	json.Unmarshal(es[0].Detail, &d)
	if e := es[0]; e.Action != ActionDelete || e.Actor != "key-admin" || e.Subject != item.ID ||
		d["sha256"] != item.SHA256.String() || d["md5"] != item.MD5.String() || d["why"] != "retention over" {
		t.Errorf("deletion entry %+v (detail %v)", e, d)
	}
	if err := s.Delete(ctx, log, item.ID, "key-admin", "again"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
}

func TestExtendHold(t *testing.T) {
	s, log, mem, now := heldStore(t)
	ctx := context.Background()
	item, err := s.Put(content, meta)
	if err != nil {
		t.Fatal(err)
	}
	h0, _ := s.Hold(item.ID)
	later := h0.Until.Add(180 * 24 * time.Hour)

	if _, err := s.Extend(ctx, log, item.ID, "key-le", h0.Until.Add(-time.Hour), "FBI", "request 7"); err == nil {
		t.Error("Extend shortened the hold")
	}
	if _, err := s.Extend(ctx, log, item.ID, "key-le", later, "", "request 7"); err == nil {
		t.Error("Extend without who asked succeeded")
	}
	h, err := s.Extend(ctx, log, item.ID, "key-le", later, "FBI field office", "preservation request 2026-118")
	if err != nil {
		t.Fatal(err)
	}
	if !h.Until.Equal(later) || len(h.Extensions) != 1 || h.Extensions[0].By != "FBI field office" || h.Extensions[0].Actor != "key-le" || !h.Extensions[0].At.Equal(*now) {
		t.Errorf("Extend = %+v", h)
	}
	// The extension is kept: a store opened afresh sees it.
	s2 := open(t, dirOf(s), ring(t, "k1"))
	s2.Now = s.Now
	if got, err := s2.Hold(item.ID); err != nil || !got.Until.Equal(later) || len(got.Extensions) != 1 {
		t.Errorf("Hold after reopening = %+v, %v", got, err)
	}
	*now = h0.Until.Add(time.Hour) // past the first term, within the extension
	if err := s2.Delete(ctx, log, item.ID, "key-admin", "retention over"); !errors.Is(err, ErrHeld) {
		t.Errorf("Delete within the extension = %v, want ErrHeld", err)
	}
	es := entries(t, mem)
	if len(es) != 1 || es[0].Action != ActionHold || es[0].Actor != "key-le" || !strings.Contains(string(es[0].Detail), "preservation request 2026-118") {
		t.Errorf("audit entries %+v, want the one extension", es)
	}
}

func TestHoldFileLost(t *testing.T) {
	s, log, _, now := heldStore(t)
	m := meta
	m.Jurisdiction = "DE"
	item, err := s.Put(content, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dirOf(s), item.ID+".hold")); err != nil {
		t.Fatal(err)
	}
	// Without its file, the hold is the policy's from intake, never none.
	h, err := s.Hold(item.ID)
	if err != nil || !h.Until.Equal(item.Created.Add(90*24*time.Hour)) {
		t.Errorf("Hold without its file = %+v, %v", h, err)
	}
	if err := s.Delete(context.Background(), log, item.ID, "key-admin", "x"); !errors.Is(err, ErrHeld) {
		t.Errorf("Delete = %v, want ErrHeld", err)
	}
	*now = h.Until
	if err := s.Delete(context.Background(), log, item.ID, "key-admin", "x"); err != nil {
		t.Errorf("Delete after the hold = %v", err)
	}
}

func TestParseHolds(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Holds
		wantErr bool
	}{
		{"", DefaultHolds(), false},
		{"default=30d", Holds{Default: 30 * 24 * time.Hour}, false},
		{"US=365d, DE=2160h", Holds{Default: DefaultHold, ByJurisdiction: map[string]time.Duration{"US": DefaultHold, "DE": 90 * 24 * time.Hour}}, false},
		{"US", Holds{}, true},
		{"US=0d", Holds{}, true},
		{"US=-5h", Holds{}, true},
		{"US=a year", Holds{}, true},
		{"=30d", Holds{}, true},
	} {
		got, err := ParseHolds(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseHolds(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && (got.Default != tc.want.Default || len(got.ByJurisdiction) != len(tc.want.ByJurisdiction)) {
			t.Errorf("ParseHolds(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		for j, d := range tc.want.ByJurisdiction {
			if got.For(j) != d {
				t.Errorf("ParseHolds(%q).For(%q) = %s, want %s", tc.in, j, got.For(j), d)
			}
		}
	}
}

// FuzzParseHolds: configuration text never panics the parser, and a policy
// it accepts holds every jurisdiction a positive term.
func FuzzParseHolds(f *testing.F) {
	for _, s := range []string{"", "default=365d,US=365d,DE=180d", "US=8760h", "x=", "=1d", "a=99999999999d", "a=1d,,b=2h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHolds(s)
		if err != nil {
			return
		}
		if h.For("") <= 0 {
			t.Errorf("ParseHolds(%q): default term %s", s, h.For(""))
		}
		for j, d := range h.ByJurisdiction {
			if d <= 0 || h.For(j) != d {
				t.Errorf("ParseHolds(%q): %q held %s", s, j, d)
			}
		}
	})
}

// TestHoldFileAltered: a hold file that is not a hold stops deletion
// rather than being read as none.
func TestHoldFileAltered(t *testing.T) {
	s, log, mem, now := heldStore(t)
	item, err := s.Put(content, meta)
	if err != nil {
		t.Fatal(err)
	}
	*now = now.Add(10 * DefaultHold)
	for _, junk := range []string{"", "{}", `{"until":"yesterday"}`, "not json"} {
		if err := os.WriteFile(filepath.Join(dirOf(s), item.ID+".hold"), []byte(junk), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(context.Background(), log, item.ID, "key-admin", "x"); !errors.Is(err, ErrCorrupt) {
			t.Errorf("hold file %q: Delete = %v, want ErrCorrupt", junk, err)
		}
	}
	if es := entries(t, mem); len(es) != 0 {
		t.Errorf("refused deletes left entries %+v", es)
	}
}
