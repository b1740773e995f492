// Package storetest is the test suite every store.Store implementation
// passes: the SQLite and PostgreSQL stores run the same tests, so they
// behave alike.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/store"
)

// Run runs the suite. open returns a new, empty store for one test, and
// arranges (with t.Cleanup) to close and discard it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"Banks", testBanks},
		{"AddEntries", testAddEntries},
		{"BadLineKeepsNothing", testBadLine},
		{"BadInput", testBadInput},
		{"RemoveEntry", testRemoveEntry},
		{"DeleteBank", testDeleteBank},
		{"Changes", testChanges},
		{"ExportRoundTrip", testExportRoundTrip},
		{"LargeImport", testLargeImport},
		{"ConcurrentAdds", testConcurrentAdds},
		{"Cancelled", testCancelled},
		{"Provenance", testProvenance},
		{"Atomically", testAtomically},
		{"Summarize", testSummarize},
		{"VPDQ", testVPDQ},
		{"IndexMarks", testIndexMarks},
		{"TextPruneWaits", testTextPruneWaits},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open(t)) })
	}
}

// Hashes made from a seed, so tests can name them.
func pdqHash(i int) string    { return hexOf(i, 32) }
func md5Hash(i int) string    { return hexOf(i, 16) }
func sha256Hash(i int) string { return hexOf(i+1<<20, 32) }

func hexOf(seed, n int) string {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5afe))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return bank.EncodeValue(b)
}

func seq(es ...bank.Entry) iter.Seq2[bank.Entry, error] {
	return func(yield func(bank.Entry, error) bool) {
		for _, e := range es {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func pdqs(from, to int) []bank.Entry {
	var es []bank.Entry
	for i := from; i < to; i++ {
		es = append(es, bank.Entry{Signal: bank.PDQ, Value: pdqHash(i)})
	}
	return es
}

func mustCreate(t *testing.T, s store.Store, name string) bank.Bank {
	t.Helper()
	b, err := s.CreateBank(context.Background(), bank.Bank{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustAdd(t *testing.T, s store.Store, name string, es ...bank.Entry) bank.ImportResult {
	t.Helper()
	r, err := s.AddEntries(context.Background(), name, seq(es...), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func entries(t *testing.T, s store.Store, name string) []bank.Entry {
	t.Helper()
	var out []bank.Entry
	for e, err := range s.Entries(context.Background(), name) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// values lists the signal:value of entries, for comparisons.
func values(es []bank.Entry) []string {
	var vs []string
	for _, e := range es {
		vs = append(vs, string(e.Signal)+":"+e.Value)
	}
	return vs
}

func allChanges(t *testing.T, s store.Store, since int64) []bank.Change {
	t.Helper()
	var all []bank.Change
	for {
		cs, err := s.Changes(context.Background(), since, 1000)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cs...)
		if len(cs) < 1000 {
			return all
		}
		since = cs[len(cs)-1].Seq
	}
}

func lastSeq(t *testing.T, s store.Store) int64 {
	cs := allChanges(t, s, 0)
	if len(cs) == 0 {
		return 0
	}
	return cs[len(cs)-1].Seq
}

func testBanks(t *testing.T, s store.Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	b, err := s.CreateBank(ctx, bank.Bank{Name: "iwf", Description: "IWF hash list"})
	if err != nil {
		t.Fatal(err)
	}
	if b.ID == 0 || b.Threshold != bank.DefaultThreshold || b.CreatedAt.Before(before) || b.CreatedAt.After(time.Now()) {
		t.Errorf("created %+v: want an ID, threshold %d and a creation time of now", b, bank.DefaultThreshold)
	}
	if _, err := s.CreateBank(ctx, bank.Bank{Name: "iwf", Threshold: 10}); !errors.Is(err, derrors.Exists) {
		t.Errorf("creating a duplicate bank: %v, want ErrExists", err)
	}
	for _, bad := range []bank.Bank{{Name: "Bad Name"}, {Name: "x", Threshold: bank.MaxThreshold + 1}, {Name: "y", Threshold: -1}} {
		if _, err := s.CreateBank(ctx, bad); err == nil {
			t.Errorf("CreateBank(%+v) succeeded, want an error", bad)
		}
	}
	if _, err := s.CreateBank(ctx, bank.Bank{Name: "self-report", Threshold: 20}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Bank(ctx, "iwf")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(b.CreatedAt) || got.Name != b.Name || got.ID != b.ID || got.Description != b.Description {
		t.Errorf("Bank = %+v, want %+v", got, b)
	}
	if _, err := s.Bank(ctx, "nope"); !errors.Is(err, derrors.NotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown bank: %v, want ErrNotFound naming it", err)
	}
	mustAdd(t, s, "self-report", pdqs(0, 3)...)
	list, err := s.ListBanks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, b := range list {
		summary = append(summary, fmt.Sprintf("%s/%d/%d", b.Name, b.Threshold, b.Entries))
	}
	if want := []string{"iwf/31/0", "self-report/20/3"}; !slices.Equal(summary, want) {
		t.Errorf("ListBanks = %v, want %v", summary, want)
	}
	if err := s.UpdateBank(ctx, bank.Bank{Name: "iwf", Description: "new", Threshold: 12}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Bank(ctx, "iwf"); got.Description != "new" || got.Threshold != 12 {
		t.Errorf("after update: %+v", got)
	}
	if err := s.UpdateBank(ctx, bank.Bank{Name: "nope", Threshold: 12}); !errors.Is(err, derrors.NotFound) {
		t.Errorf("updating an unknown bank: %v, want ErrNotFound", err)
	}
	if err := s.UpdateBank(ctx, bank.Bank{Name: "iwf", Threshold: 0}); err == nil {
		t.Errorf("updating to threshold 0 succeeded, want an error")
	}
}

func testAddEntries(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, "b")
	file := pdqHash(1) + "\n" + strings.ToUpper(md5Hash(2)) + ",from a hotline\nsha256 " + sha256Hash(3) + "\n"
	var progress []int64
	before := time.Now().Add(-time.Second)
	r, err := s.AddEntries(ctx, "b", bank.Read(strings.NewReader(file), "list.txt", bank.Text), func(n int64) { progress = append(progress, n) })
	if err != nil {
		t.Fatal(err)
	}
	if r != (bank.ImportResult{Added: 3}) {
		t.Errorf("first import: %+v, want 3 added", r)
	}
	if len(progress) == 0 || progress[len(progress)-1] != 3 {
		t.Errorf("progress calls %v, want the last to say 3", progress)
	}
	es := entries(t, s, "b")
	if want := []string{"pdq:" + pdqHash(1), "md5:" + md5Hash(2), "sha256:" + sha256Hash(3)}; !slices.Equal(values(es), want) {
		t.Fatalf("entries %v, want %v", values(es), want)
	}
	b, _ := s.Bank(ctx, "b")
	for _, e := range es {
		if e.BankID != b.ID || e.ID == 0 || e.AddedAt.Before(before) || e.AddedAt.After(time.Now()) {
			t.Errorf("entry %+v: want bank %d, an ID and added now", e, b.ID)
		}
		got, err := s.Entry(ctx, e.ID)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("Entry(%d) = %+v, %v; want %+v", e.ID, got, err, e)
		}
	}
	if es[1].Note != "from a hotline" {
		t.Errorf("note %q lost", es[1].Note)
	}
	seqBefore := lastSeq(t, s)
	r, err = s.AddEntries(ctx, "b", bank.Read(strings.NewReader(file), "list.txt", bank.Text), nil)
	if err != nil || r != (bank.ImportResult{Existing: 3}) {
		t.Errorf("re-import: %+v, %v; want 3 existing", r, err)
	}
	// Duplicates inside one import count as existing too.
	r = mustAdd(t, s, "b", bank.Entry{Signal: bank.MD5, Value: md5Hash(9)}, bank.Entry{Signal: bank.MD5, Value: md5Hash(9)})
	if r != (bank.ImportResult{Added: 1, Existing: 1}) {
		t.Errorf("import with a duplicate: %+v, want 1 added 1 existing", r)
	}
	if got := allChanges(t, s, seqBefore); len(got) != 1 {
		t.Errorf("%d changes after a no-op re-import and one new entry, want 1", len(got))
	}
	// The same value under another signal or in another bank is another entry.
	mustCreate(t, s, "c")
	if r := mustAdd(t, s, "c", bank.Entry{Signal: bank.PDQ, Value: pdqHash(1)}); r.Added != 1 {
		t.Errorf("same value in another bank: %+v, want added", r)
	}
	if r := mustAdd(t, s, "b", bank.Entry{Signal: bank.SHA256, Value: pdqHash(1)}); r.Added != 1 {
		t.Errorf("same hex under another signal: %+v, want added", r)
	}
	// An empty import is a no-op, not an error: the API may send one.
	if r := mustAdd(t, s, "b"); r != (bank.ImportResult{}) {
		t.Errorf("empty import: %+v", r)
	}
	if b, _ := s.Bank(ctx, "b"); b.Entries != 5 {
		t.Errorf("bank has %d entries, want 5", b.Entries)
	}
	if _, err := s.Entry(ctx, 1<<40); !errors.Is(err, derrors.NotFound) {
		t.Errorf("Entry(unknown): %v, want ErrNotFound", err)
	}
}

func testBadLine(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, "b")
	mustAdd(t, s, "b", pdqs(0, 2)...)
	seqBefore := lastSeq(t, s)
	file := "# new list\n" + pdqHash(10) + "\n" + pdqHash(11) + "\n" + pdqHash(12)[:60] + "\n" + pdqHash(13) + "\n"
	_, err := s.AddEntries(ctx, "b", bank.Read(strings.NewReader(file), "hotline.txt", bank.Text), nil)
	le, ok := errors.AsType[*bank.LineError](err)
	if !ok || le.File != "hotline.txt" || le.Line != 4 || !strings.Contains(err.Error(), "hotline.txt:4: ") {
		t.Fatalf("import with a bad line 4: %v, want a *bank.LineError for hotline.txt:4", err)
	}
	if got, want := values(entries(t, s, "b")), values(pdqs(0, 2)); !slices.Equal(got, want) {
		t.Errorf("after the failed import the bank holds %v, want only the earlier %v", got, want)
	}
	if cs := allChanges(t, s, seqBefore); len(cs) != 0 {
		t.Errorf("failed import left %d changes", len(cs))
	}
	if b, _ := s.Bank(ctx, "b"); b.Entries != 2 {
		t.Errorf("bank counts %d entries, want 2", b.Entries)
	}
	// An entry the store itself refuses fails the import the same way.
	_, err = s.AddEntries(ctx, "b", seq(pdqs(20, 25)[0], bank.Entry{Signal: bank.MD5, Value: pdqHash(21)}), nil)
	if le, ok := errors.AsType[*bank.LineError](err); !ok || le.Line != 2 {
		t.Errorf("import of a wrong-length md5: %v, want a *bank.LineError at 2", err)
	}
	if n := len(entries(t, s, "b")); n != 2 {
		t.Errorf("bank holds %d entries, want 2", n)
	}
}

func testBadInput(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, "b")
	mustAdd(t, s, "b", pdqs(0, 3)...)
	if _, err := s.AddEntries(ctx, "nope", seq(pdqs(5, 6)...), nil); !errors.Is(err, derrors.NotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("import into an unknown bank: %v, want ErrNotFound naming it", err)
	}
	for _, tc := range []struct {
		name, file string
		err        error
	}{
		{"empty", "", bank.ErrNoEntries},
		{"garbage", "\x00\x01PK\x03\x04 not a hash list\n" + pdqHash(7) + "\n", nil},
		{"endless line", strings.Repeat("f", bank.MaxLine+1), bank.ErrLineTooLong},
	} {
		_, err := s.AddEntries(ctx, "b", bank.Read(strings.NewReader(tc.file), tc.name, bank.Text), nil)
		if le, ok := errors.AsType[*bank.LineError](err); !ok || le.Line != 1 || tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("import of %s file: %v, want a *bank.LineError at line 1 (%v)", tc.name, err, tc.err)
		}
	}
	boom := errors.New("connection reset")
	_, err := s.AddEntries(ctx, "b", func(yield func(bank.Entry, error) bool) {
		for _, e := range pdqs(100, 1200) {
			if !yield(e, nil) {
				return
			}
		}
		yield(bank.Entry{}, boom)
	}, nil)
	if !errors.Is(err, boom) {
		t.Errorf("import whose reader failed after 1100 entries: %v, want %v", err, boom)
	}
	if got, want := values(entries(t, s, "b")), values(pdqs(0, 3)); !slices.Equal(got, want) {
		t.Errorf("after bad imports the bank holds %v, want %v", got, want)
	}
	for _, tc := range []struct {
		sig   bank.Signal
		value string
	}{{bank.PDQ, "xyz"}, {bank.PDQ, md5Hash(1)}, {"crc", md5Hash(1)}} {
		if err := s.RemoveEntry(ctx, "b", tc.sig, tc.value); err == nil || errors.Is(err, derrors.NotFound) {
			t.Errorf("RemoveEntry(%s, %q): %v, want an error about the value", tc.sig, tc.value, err)
		}
	}
}

func testRemoveEntry(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, "b")
	mustAdd(t, s, "b", pdqs(0, 3)...)
	es := entries(t, s, "b")
	seqBefore := lastSeq(t, s)
	if err := s.RemoveEntry(ctx, "b", bank.PDQ, strings.ToUpper(pdqHash(1))); err != nil {
		t.Fatal(err)
	}
	if got, want := values(entries(t, s, "b")), values([]bank.Entry{es[0], es[2]}); !slices.Equal(got, want) {
		t.Errorf("after removing the second: %v, want %v", got, want)
	}
	if _, err := s.Entry(ctx, es[1].ID); !errors.Is(err, derrors.NotFound) {
		t.Errorf("Entry of a removed entry: %v, want ErrNotFound", err)
	}
	cs := allChanges(t, s, seqBefore)
	if len(cs) != 1 || !cs[0].Removed || cs[0].Entry.ID != es[1].ID || cs[0].Entry.Value != pdqHash(1) {
		t.Errorf("changes after a removal: %+v, want one removal of entry %d", cs, es[1].ID)
	}
	if err := s.RemoveEntry(ctx, "b", bank.PDQ, pdqHash(1)); !errors.Is(err, derrors.NotFound) {
		t.Errorf("removing twice: %v, want ErrNotFound", err)
	}
	if err := s.RemoveEntry(ctx, "b", bank.MD5, md5Hash(1)); !errors.Is(err, derrors.NotFound) {
		t.Errorf("removing a value never added: %v, want ErrNotFound", err)
	}
	if err := s.RemoveEntry(ctx, "nope", bank.PDQ, pdqHash(0)); !errors.Is(err, derrors.NotFound) {
		t.Errorf("removing from an unknown bank: %v, want ErrNotFound", err)
	}
	// Adding it back makes a new entry.
	if r := mustAdd(t, s, "b", pdqs(1, 2)...); r.Added != 1 {
		t.Errorf("re-adding a removed value: %+v, want added", r)
	}
	back := entries(t, s, "b")
	if len(back) != 3 || back[2].Value != pdqHash(1) || back[2].ID <= es[2].ID {
		t.Errorf("after re-adding: %+v", back)
	}
	if b, _ := s.Bank(ctx, "b"); b.Entries != 3 {
		t.Errorf("bank counts %d entries, want 3", b.Entries)
	}
}

func testDeleteBank(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, "gone")
	mustCreate(t, s, "kept")
	mustAdd(t, s, "gone", pdqs(0, 5)...)
	mustAdd(t, s, "kept", pdqs(0, 2)...)
	if err := s.RemoveEntry(ctx, "gone", bank.PDQ, pdqHash(2)); err != nil {
		t.Fatal(err)
	}
	live := entries(t, s, "gone")
	seqBefore := lastSeq(t, s)
	if err := s.DeleteBank(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	cs := allChanges(t, s, seqBefore)
	var removed []bank.Entry
	for _, c := range cs {
		if !c.Removed {
			t.Errorf("change %+v after deleting a bank is not a removal", c)
		}
		removed = append(removed, c.Entry)
	}
	slices.SortFunc(removed, func(a, b bank.Entry) int { return int(a.ID - b.ID) })
	if !reflect.DeepEqual(removed, live) {
		t.Errorf("deleting the bank removed %v, want its 4 live entries %v", values(removed), values(live))
	}
	if _, err := s.Bank(ctx, "gone"); !errors.Is(err, derrors.NotFound) {
		t.Errorf("deleted bank: %v, want ErrNotFound", err)
	}
	if err := s.DeleteBank(ctx, "gone"); !errors.Is(err, derrors.NotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
	if _, err := s.AddEntries(ctx, "gone", seq(pdqs(9, 10)...), nil); !errors.Is(err, derrors.NotFound) {
		t.Errorf("import into a deleted bank: %v, want ErrNotFound", err)
	}
	if got := values(entries(t, s, "kept")); len(got) != 2 {
		t.Errorf("the other bank lost entries: %v", got)
	}
	// The name is free again, for a new, empty bank.
	b := mustCreate(t, s, "gone")
	if b.Entries != 0 || len(entries(t, s, "gone")) != 0 {
		t.Errorf("recreated bank is not empty")
	}
	if r := mustAdd(t, s, "gone", pdqs(0, 5)...); r.Added != 5 {
		t.Errorf("adding to the recreated bank: %+v, want 5 added", r)
	}
	list, _ := s.ListBanks(ctx)
	if len(list) != 2 {
		t.Errorf("ListBanks lists %d banks, want 2", len(list))
	}
	for _, err := range s.Entries(ctx, "nope") {
		if !errors.Is(err, derrors.NotFound) {
			t.Errorf("Entries of an unknown bank: %v, want ErrNotFound", err)
		}
	}
}

// testChanges checks that a reader applying the change feed page by page
// ends with exactly the live entries, and sees each change once.
func testChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, "a")
	mustCreate(t, s, "b")
	mustAdd(t, s, "a", pdqs(0, 10)...)
	mustAdd(t, s, "b", pdqs(5, 15)...)
	state := map[int64]bank.Entry{} // entry id -> entry, as a matcher keeps it
	var since int64
	catchUp := func() {
		for {
			cs, err := s.Changes(ctx, since, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) > 3 {
				t.Fatalf("Changes(limit 3) returned %d", len(cs))
			}
			for _, c := range cs {
				if c.Seq <= since {
					t.Fatalf("change seq %d after %d: not increasing", c.Seq, since)
				}
				since = c.Seq
				if c.Removed {
					delete(state, c.Entry.ID)
				} else {
					state[c.Entry.ID] = c.Entry
				}
			}
			if len(cs) < 3 {
				return
			}
		}
	}
	check := func(when string) {
		t.Helper()
		want := map[int64]bank.Entry{}
		for _, name := range []string{"a", "b", "c"} {
			if _, err := s.Bank(ctx, name); err != nil {
				continue
			}
			for _, e := range entries(t, s, name) {
				want[e.ID] = e
			}
		}
		if !reflect.DeepEqual(state, want) {
			t.Errorf("%s: the change feed gives %d entries, the banks hold %d", when, len(state), len(want))
		}
	}
	catchUp()
	check("after adds")
	for _, name := range []string{"a", "b"} {
		if err := s.RemoveEntry(ctx, name, bank.PDQ, pdqHash(7)); err != nil {
			t.Fatal(err)
		}
	}
	mustAdd(t, s, "a", pdqs(7, 8)...)
	catchUp()
	check("after removes")
	mustCreate(t, s, "c")
	mustAdd(t, s, "c", pdqs(20, 22)...)
	if err := s.DeleteBank(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	catchUp()
	check("after deleting a bank")
	if cs, err := s.Changes(ctx, since, 10); err != nil || len(cs) != 0 {
		t.Errorf("Changes after the last: %v, %v; want none", cs, err)
	}
	// Replaying everything from 0 converges too, and lists each entry once.
	state, since = map[int64]bank.Entry{}, 0
	catchUp()
	check("replayed from 0")
	seen := map[int64]bool{}
	for _, c := range allChanges(t, s, 0) {
		if seen[c.Entry.ID] {
			t.Errorf("entry %d appears twice in the feed", c.Entry.ID)
		}
		seen[c.Entry.ID] = true
	}
	if _, err := s.Changes(ctx, 0, 0); err == nil {
		t.Errorf("Changes with limit 0 succeeded, want an error")
	}
	// ChangeKeys is the same feed without the provenance.
	var keys []bank.Change
	for since := int64(0); ; {
		cs, err := s.ChangeKeys(ctx, since, 4)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, cs...)
		if len(cs) < 4 {
			break
		}
		since = cs[len(cs)-1].Seq
	}
	full := allChanges(t, s, 0)
	for i := range full {
		e := full[i].Entry
		full[i].Entry = bank.Entry{ID: e.ID, BankID: e.BankID, Signal: e.Signal, Value: e.Value}
	}
	if !reflect.DeepEqual(keys, full) {
		t.Errorf("ChangeKeys differs from Changes without provenance:\n got %+v\nwant %+v", keys, full)
	}
	if _, err := s.ChangeKeys(ctx, 0, -1); err == nil {
		t.Errorf("ChangeKeys with limit -1 succeeded, want an error")
	}
}

func testExportRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, "src")
	at := time.Date(2025, 3, 4, 5, 6, 7, 891011000, time.UTC)
	in := []bank.Entry{
		{Signal: bank.PDQ, Value: pdqHash(1), Source: "IWF", ExternalID: "iwf-1", Category: "A", AddedAt: at, AddedBy: "importer", Note: "a, b"},
		{Signal: bank.MD5, Value: md5Hash(2), Source: "self-report", Category: "B", Note: "line one\nline two"},
		{Signal: bank.SHA256, Value: sha256Hash(3)},
	}
	mustAdd(t, s, "src", in...)
	src := entries(t, s, "src")
	// Copying a bank streams one store call into another.
	mustCreate(t, s, "copy")
	if r, err := s.AddEntries(ctx, "copy", s.Entries(ctx, "src"), nil); err != nil || r.Added != 3 {
		t.Fatalf("copying a bank: %+v, %v", r, err)
	}
	copied := entries(t, s, "copy")
	for i := range copied {
		copied[i].ID, copied[i].BankID = src[i].ID, src[i].BankID
	}
	if !reflect.DeepEqual(copied, src) {
		t.Errorf("copied bank:\n got %+v\nwant %+v", copied, src)
	}
	// CSV carries everything; HMA the values, source and category.
	for _, f := range []bank.Format{bank.CSV, bank.HMA} {
		var buf bytes.Buffer
		if err := bank.Write(&buf, f, s.Entries(ctx, "src")); err != nil {
			t.Fatalf("%s export: %v", f, err)
		}
		dst := "dst-" + string(f)
		mustCreate(t, s, dst)
		if r, err := s.AddEntries(ctx, dst, bank.Read(&buf, "export."+string(f), f), nil); err != nil || r.Added != 3 {
			t.Fatalf("%s re-import: %+v, %v", f, r, err)
		}
		got := entries(t, s, dst)
		for i := range got {
			got[i].ID, got[i].BankID = src[i].ID, src[i].BankID
			if f == bank.HMA {
				got[i].AddedAt, got[i].ExternalID, got[i].AddedBy = src[i].AddedAt, src[i].ExternalID, src[i].AddedBy
			}
		}
		if !reflect.DeepEqual(got, src) {
			t.Errorf("%s round trip:\n got %+v\nwant %+v", f, got, src)
		}
		// Re-importing the export into the source bank is a no-op.
		buf.Reset()
		if err := bank.Write(&buf, f, s.Entries(ctx, "src")); err != nil {
			t.Fatal(err)
		}
		if r, err := s.AddEntries(ctx, "src", bank.Read(&buf, "export", f), nil); err != nil || r != (bank.ImportResult{Existing: 3}) {
			t.Errorf("%s re-import into the source: %+v, %v; want 3 existing", f, r, err)
		}
	}
}

// largeImport is how many entries testLargeImport streams.
const largeImport = 200_000

// testLargeImport streams a large import and checks that memory stays
// bounded: the store must not hold the entries.
func testLargeImport(t *testing.T, s store.Store) {
	n := largeImport
	if testing.Short() {
		n /= 10
	}
	ctx := context.Background()
	mustCreate(t, s, "big")
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	// Every thousandth entry from the 50 000th on repeats one 45 001
	// earlier, across the stores' batches and chunks.
	dups := 0
	gen := func(yield func(bank.Entry, error) bool) {
		for i := range n {
			v := i
			if i%1000 == 999 && i >= 50_000 {
				v = i - 45_001
				dups++
			}
			if i%20000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			if !yield(bank.Entry{Signal: bank.PDQ, Value: pdqHash(v), Source: "synthetic"}, nil) {
				return
			}
		}
	}
	var calls int
	start := time.Now()
	r, err := s.AddEntries(ctx, "big", gen, func(int64) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d entries in %v, heap grew by at most %d KiB, %d progress calls", n, time.Since(start), (peak-base)>>10, calls)
	if r.Added != int64(n-dups) || r.Existing != int64(dups) {
		t.Errorf("import: %+v, want %d added and %d existing", r, n-dups, dups)
	}
	// Holding the entries would take ~200 bytes each (40 MB at 200k).
	if grew := peak - base; grew > 24<<20 {
		t.Errorf("heap grew by %d MiB during the import: entries are not streamed", grew>>20)
	}
	if calls < 2 {
		t.Errorf("%d progress calls during a %d-entry import", calls, n)
	}
	if b, _ := s.Bank(ctx, "big"); b.Entries != r.Added {
		t.Errorf("bank counts %d entries, want %d", b.Entries, r.Added)
	}
	count := 0
	for _, err := range s.Entries(ctx, "big") {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != int(r.Added) {
		t.Errorf("Entries streamed %d, want %d", count, r.Added)
	}
}

// testCancelled cancels the context in the middle of an import: the import
// fails and keeps nothing.
func testCancelled(t *testing.T, s store.Store) {
	mustCreate(t, s, "b")
	mustAdd(t, s, "b", pdqs(0, 2)...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := s.AddEntries(ctx, "b", func(yield func(bank.Entry, error) bool) {
		for i, e := range pdqs(10, 3000) {
			if i == 1500 {
				cancel()
			}
			if !yield(e, nil) {
				return
			}
		}
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("import cancelled half-way: %v, want context.Canceled", err)
	}
	if got, want := values(entries(t, s, "b")), values(pdqs(0, 2)); !slices.Equal(got, want) {
		t.Errorf("after the cancelled import the bank holds %d entries, want the earlier %d", len(got), len(want))
	}
}

func testConcurrentAdds(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, "b")
	const workers, each = 6, 300
	var wg sync.WaitGroup
	results := make([]bank.ImportResult, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			// Each worker's range overlaps the next one's by half.
			from := w * each / 2
			results[w], errs[w] = s.AddEntries(ctx, "b", seq(pdqs(from, from+each)...), nil)
		})
	}
	wg.Wait()
	var total bank.ImportResult
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("worker %d: %v", w, errs[w])
		}
		total.Added += results[w].Added
		total.Existing += results[w].Existing
	}
	distinct := (workers + 1) * each / 2
	if total.Added != int64(distinct) || total.Existing != int64(workers*each-distinct) {
		t.Errorf("concurrent imports: %+v, want %d added and %d existing", total, distinct, workers*each-distinct)
	}
	if got := len(entries(t, s, "b")); got != distinct {
		t.Errorf("bank holds %d entries, want %d", got, distinct)
	}
	if cs := allChanges(t, s, 0); len(cs) != distinct {
		t.Errorf("%d changes, want %d", len(cs), distinct)
	}
}

func testProvenance(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, "b")
	odd := bank.Entry{
		Signal:     bank.PDQ,
		Value:      pdqHash(1),
		Source:     "Internet Watch Foundation — 🇬🇧",
		ExternalID: `id,with "quotes"; DROP TABLE entries; --`,
		Category:   "Кат. A",
		AddedAt:    time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		AddedBy:    "reviewer@例え.jp",
		Note:       "tab\there\nnewline, 'single' \\ backslash " + strings.Repeat("long ", 500),
	}
	mustAdd(t, s, "b", odd)
	es := entries(t, s, "b")
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	odd.ID, odd.BankID = es[0].ID, es[0].BankID
	if !reflect.DeepEqual(es[0], odd) {
		t.Errorf("stored %+v\n  read %+v", odd, es[0])
	}
	// AddedAt is kept to the microsecond, in UTC.
	local := bank.Entry{Signal: bank.MD5, Value: md5Hash(1), AddedAt: time.Date(2026, 1, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))}
	mustAdd(t, s, "b", local)
	es = entries(t, s, "b")
	if want := local.AddedAt.UTC().Truncate(time.Microsecond); !es[1].AddedAt.Equal(want) || es[1].AddedAt.Location() != time.UTC {
		t.Errorf("AddedAt %v, want %v", es[1].AddedAt, want)
	}
	for _, bad := range []bank.Entry{
		{Signal: bank.MD5, Value: md5Hash(5), Source: "\xff\xfe"},
		{Signal: bank.MD5, Value: md5Hash(6), Note: "nul\x00byte"},
	} {
		if _, err := s.AddEntries(ctx, "b", seq(bad), nil); err == nil {
			t.Errorf("adding %+v succeeded, want an error", bad)
		}
	}
	if n := len(entries(t, s, "b")); n != 2 {
		t.Errorf("bank holds %d entries, want 2", n)
	}
}

// testAtomically: a change and its audit entry commit together or not at
// all, and a failed step inside undoes only itself.
func testAtomically(t *testing.T, s store.Store) {
	ctx := context.Background()
	log := audit.NewLog(s)
	errLater := errors.New("a later step failed")
	err := s.Atomically(ctx, func(tx store.Store) error {
		if _, err := tx.CreateBank(ctx, bank.Bank{Name: "gone"}); err != nil {
			return err
		}
		if _, err := log.In(tx).Record(ctx, "admin", audit.BankCreate, "gone", nil); err != nil {
			return err
		}
		if _, err := tx.Bank(ctx, "gone"); err != nil {
			t.Errorf("the view does not read its own write: %v", err)
		}
		return errLater
	})
	if !errors.Is(err, errLater) {
		t.Fatalf("Atomically = %v, want the function's error", err)
	}
	if _, err := s.Bank(ctx, "gone"); !errors.Is(err, derrors.NotFound) {
		t.Errorf("bank of a rolled-back transaction: %v, want not found", err)
	}
	if last, err := s.LastAudit(ctx); err != nil || last != nil {
		t.Errorf("audit entry of a rolled-back transaction: %v, %v", last, err)
	}

	err = s.Atomically(ctx, func(tx store.Store) error {
		if _, err := tx.CreateBank(ctx, bank.Bank{Name: "kept"}); err != nil {
			return err
		}
		// A step that fails (the name is taken) leaves the rest standing.
		if _, err := tx.CreateBank(ctx, bank.Bank{Name: "kept"}); !errors.Is(err, derrors.Exists) {
			t.Errorf("second CreateBank in the view: %v, want exists", err)
		}
		if _, err := tx.AddEntries(ctx, "kept", seq(pdqs(0, 3)...), nil); err != nil {
			return err
		}
		_, err := log.In(tx).Record(ctx, "admin", audit.BankCreate, "kept", nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := entries(t, s, "kept"); len(got) != 3 {
		t.Errorf("committed bank has %d entries, want 3", len(got))
	}
	e, err := s.LiveEntry(ctx, "kept", bank.PDQ, strings.ToUpper(pdqHash(1)))
	if err != nil || e.Value != pdqHash(1) {
		t.Errorf("LiveEntry(kept, pdq 1) = %+v, %v", e, err)
	}
	if err := s.RemoveEntry(ctx, "kept", bank.PDQ, pdqHash(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LiveEntry(ctx, "kept", bank.PDQ, pdqHash(1)); !errors.Is(err, derrors.NotFound) {
		t.Errorf("LiveEntry of a removed entry: %v, want not found", err)
	}
	if _, err := s.LiveEntry(ctx, "nosuch", bank.PDQ, pdqHash(1)); !errors.Is(err, derrors.NotFound) {
		t.Errorf("LiveEntry in a missing bank: %v, want not found", err)
	}
	if last, err := s.LastAudit(ctx); err != nil || last == nil || last.Subject != "kept" {
		t.Errorf("audit entry of a committed transaction: %+v, %v", last, err)
	}
}

// testSummarize: the live entries per source, most first, and the last
// added; removed entries do not count; a bank that does not exist is not
// found.
func testSummarize(t *testing.T, s store.Store) {
	ctx := context.Background()
	sz, ok := s.(bank.Summarizer)
	if !ok {
		t.Skip("the store cannot summarize a bank")
	}
	mustCreate(t, s, "b")
	if sum, err := sz.Summarize(ctx, "b"); err != nil || len(sum.Sources) != 0 || !sum.LastAdded.IsZero() {
		t.Fatalf("empty bank: %+v, %v", sum, err)
	}
	at := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	mustAdd(t, s, "b",
		bank.Entry{Signal: bank.PDQ, Value: pdqHash(1), Source: "IWF", AddedAt: at(1)},
		bank.Entry{Signal: bank.PDQ, Value: pdqHash(2), Source: "IWF", AddedAt: at(3)},
		bank.Entry{Signal: bank.PDQ, Value: pdqHash(3), Source: "review", AddedAt: at(2)},
		bank.Entry{Signal: bank.MD5, Value: md5Hash(4), AddedAt: at(9)})
	if err := s.RemoveEntry(ctx, "b", bank.MD5, md5Hash(4)); err != nil {
		t.Fatal(err)
	}
	sum, err := sz.Summarize(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	want := []bank.SourceCount{{Source: "IWF", Entries: 2}, {Source: "review", Entries: 1}}
	if !reflect.DeepEqual(sum.Sources, want) || !sum.LastAdded.Equal(at(3)) {
		t.Errorf("summary %+v, want sources %+v, last added %v", sum, want, at(3))
	}
	if _, err := sz.Summarize(ctx, "nosuch"); !errors.Is(err, derrors.NotFound) {
		t.Errorf("Summarize(nosuch): %v, want not found", err)
	}
}
