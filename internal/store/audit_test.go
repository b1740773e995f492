package store_test

import (
	"errors"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/store"
)

// AuditPages reads on past full pages, from the entry after each page's
// last, and stops at a short one, at the caller's break, or at a failure.
func TestAuditPages(t *testing.T) {
	const n = 2*store.AuditPage + 17
	reads := 0
	read := func(from int64, buf []audit.Entry) ([]audit.Entry, error) {
		reads++
		for seq := from; seq <= n && len(buf) < store.AuditPage; seq++ {
			buf = append(buf, audit.Entry{Seq: seq})
		}
		return buf, nil
	}
	want := int64(5)
	for e, err := range store.AuditPages(5, read) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != want {
			t.Fatalf("entry %d, want %d", e.Seq, want)
		}
		want++
	}
	if want != n+1 || reads != 3 {
		t.Errorf("read up to %d in %d reads, want %d in 3", want-1, reads, n)
	}

	reads = 0
	for e := range store.AuditPages(1, read) {
		if e.Seq == 3 {
			break
		}
	}
	if reads != 1 {
		t.Errorf("a break in the first page: %d reads, want 1", reads)
	}

	broken := errors.New("disk on fire")
	var got error
	for _, err := range store.AuditPages(1, func(int64, []audit.Entry) ([]audit.Entry, error) { return nil, broken }) {
		got = err
	}
	if !errors.Is(got, broken) {
		t.Errorf("a failed read yields %v, want it wrapped", got)
	}
}
