// Package evidencetest checks an evidence.Files: the evidence store over
// it keeps, reads, rewraps, holds, lists and deletes items as over a
// directory, and a second Store over the same files (another server)
// reads what the first kept.
package evidencetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/evidence"
)

// Run checks the Files that open returns (fresh and empty); each call of
// open after the first in one test must return the same files again, as
// another server opening them would.
func Run(t *testing.T, open func(t *testing.T) (first, second evidence.Files)) {
	t.Run("Files", func(t *testing.T) { files(t, open) })
	t.Run("Store", func(t *testing.T) { stores(t, open) })
	t.Run("Streamed", func(t *testing.T) { streamed(t, open) })
	t.Run("Stream", func(t *testing.T) { stream(t, open) })
}

// pattern is content of n bytes computed from the offset, so a reader of
// it holds none of it: whatever the heap holds while it is kept is the
// evidence path's.
type pattern struct {
	n     int64
	reads int // of the last byte: how often the content was read through
	flip  int // if set, the read through of this number yields other bytes
}

func (p *pattern) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-off)]
	if off+int64(len(b)) == p.n {
		p.reads++
	}
	for i := range b {
		o := off + int64(i)
		b[i] = byte(o ^ o>>11 ^ o>>19)
		if p.flip != 0 && p.reads+1 == p.flip && o == p.n/2 {
			b[i] ^= 1
		}
	}
	if off+int64(len(b)) == p.n {
		return len(b), io.EOF
	}
	return len(b), nil
}

// Content is n bytes of synthesized content, the streamed test's: a
// reader of it holds none of it, so a test measuring what a path streaming
// a large item holds (Peak) sees only the path's memory.
func Content(n int64) *io.SectionReader { return io.NewSectionReader(&pattern{n: n}, 0, n) }

// StreamedSize is the item streamed's size: a large video's.
const StreamedSize = 100 << 20

// streamed keeps an item of StreamedSize from a reader that holds none
// of it and checks that the heap never held more than half of it at once
// (the backend's buffers and a segment, not the item); and that content
// that changes between PutFrom's two reads is refused and nothing kept.
func streamed(t *testing.T, open func(t *testing.T) (evidence.Files, evidence.Files)) {
	if testing.Short() {
		t.Skip("writes 100 MiB")
	}
	// Peak counts garbage not yet swept, and how much of it piles up is
	// the collector's pacing, not the path's: with the default pacing a
	// path that holds one segment at a time showed anywhere from 6 to 13
	// MiB, depending on how busy the machine was. A tight pacing while it
	// runs makes the figure what the path holds live.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	f, _ := open(t)
	s, err := evidence.OpenFiles(f, keyring(t, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	src := &pattern{n: StreamedSize}
	var item evidence.Item
	peak := Peak(func() {
		item, err = s.PutFrom(src, src.n, evidence.Meta{ContentType: "video/mp4"})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kept %d MiB holding at most %.1f MiB of heap", src.n>>20, float64(peak)/(1<<20))
	if peak > StreamedSize/2 {
		t.Errorf("keeping %d MiB held %.1f MiB of heap at once: not streamed", src.n>>20, float64(peak)/(1<<20))
	}
	if src.reads != 2 || item.Size != src.n {
		t.Errorf("content read through %d times (want 2), item of %d bytes (want %d)", src.reads, item.Size, src.n)
	}
	// Read back, described, verified and streamed, it holds a segment and
	// the backend's buffers, not the item.
	for _, read := range []struct {
		name string
		f    func() error
	}{
		{"Describe", func() error { _, err := s.Describe(item.ID); return err }},
		{"Verify", func() error { _, err := s.Verify(item.ID); return err }},
		{"Open", func() error {
			rc, _, err := s.Open(item.ID)
			if err != nil {
				return err
			}
			defer rc.Close()
			back := &pattern{n: src.n}
			if n, err := io.Copy(&same{want: back}, rc); err != nil || n != src.n {
				return fmt.Errorf("streamed %d bytes of %d: %v", n, src.n, err)
			}
			return nil
		}},
	} {
		peak := Peak(func() { err = read.f() })
		if err != nil {
			t.Fatalf("%s: %v", read.name, err)
		}
		t.Logf("%s of %d MiB held at most %.1f MiB of heap", read.name, src.n>>20, float64(peak)/(1<<20))
		if peak > StreamedSize/8 {
			t.Errorf("%s of %d MiB held %.1f MiB of heap at once: not streamed", read.name, src.n>>20, float64(peak)/(1<<20))
		}
	}
	// Content that changes under PutFrom: nothing is kept.
	small := &pattern{n: 3 << 20, flip: 2}
	if _, err := s.PutFrom(small, small.n, evidence.Meta{}); !errors.Is(err, evidence.ErrCorrupt) {
		t.Errorf("content changed between the reads: %v, want ErrCorrupt", err)
	}
	var ids []string
	for id, err := range s.IDs() {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) != 1 || ids[0] != item.ID {
		t.Errorf("the store holds %v, want only %s", ids, item.ID)
	}
	if _, err := s.PutFrom(src, s.MaxSize+1, evidence.Meta{}); !errors.Is(err, evidence.ErrTooLarge) {
		t.Errorf("a size over MaxSize: %v, want ErrTooLarge", err)
	}
}

// same is a writer that checks what it is written is want's content, in
// order, without holding it.
type same struct {
	want *pattern
	off  int64
	buf  []byte
}

func (w *same) Write(p []byte) (int, error) {
	if cap(w.buf) < len(p) {
		w.buf = make([]byte, len(p))
	}
	b := w.buf[:len(p)]
	if n, _ := w.want.ReadAt(b, w.off); n != len(p) || !bytes.Equal(b, p) {
		return 0, fmt.Errorf("bytes %d..%d are not the content's", w.off, w.off+int64(len(p)))
	}
	w.off += int64(len(p))
	return len(p), nil
}

func keyring(t *testing.T, current string) *evidence.Keyring {
	keys := map[string][]byte{"k1": bytes.Repeat([]byte{1}, 32), "k2": bytes.Repeat([]byte{2}, 32)}
	k, err := evidence.NewKeyring(current, keys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func files(t *testing.T, open func(t *testing.T) (evidence.Files, evidence.Files)) {
	f, _ := open(t)
	if _, _, err := f.Open("none.sgev"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing file: %v, want fs.ErrNotExist", err)
	}
	// Larger than a chunk of any sensible store, and not a multiple.
	big := make([]byte, 3<<20+12345)
	rand.Read(big)
	for _, data := range [][]byte{[]byte("small"), big, []byte("replaced")} {
		before := time.Now().Add(-time.Minute)
		if err := f.Write("a.sgev", bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		rc, info, err := f.Open("a.sgev")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) || info.Size != int64(len(data)) {
			t.Fatalf("read back %d bytes (size %d), wrote %d", len(got), info.Size, len(data))
		}
		if info.Written.Before(before) {
			t.Errorf("written %v, before the write", info.Written)
		}
	}
	// A failed write leaves the old file.
	if err := f.Write("a.sgev", io.MultiReader(bytes.NewReader(big), errReader{})); err == nil {
		t.Fatal("a write whose reader failed succeeded")
	}
	rc, _, err := f.Open("a.sgev")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "replaced" {
		t.Fatalf("after a failed write the file holds %d bytes, want the old 8", len(got))
	}
	if err := f.Write("b.hold", bytes.NewReader([]byte("{}"))); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n, err := range f.Names() {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"a.sgev", "b.hold"}) {
		t.Fatalf("names %v", names)
	}
	for _, n := range []string{"a.sgev", "a.sgev", "b.hold"} {
		if err := f.Remove(n); err != nil {
			t.Fatalf("remove %s: %v", n, err)
		}
	}
	if _, _, err := f.Open("a.sgev"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a removed file: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("reader failed") }

func stores(t *testing.T, open func(t *testing.T) (evidence.Files, evidence.Files)) {
	ctx := context.Background()
	f1, f2 := open(t)
	a, err := evidence.OpenFiles(f1, keyring(t, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := evidence.OpenFiles(f2, keyring(t, "k2"))
	if err != nil {
		t.Fatal(err)
	}
	content := make([]byte, 5<<20)
	rand.Read(content)
	item, err := a.Put(content, evidence.Meta{ContentType: "image/jpeg", ContentID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	// The other server reads it, and moves it to its key.
	got, gitem, err := b.Get(item.ID)
	if err != nil {
		t.Fatalf("another store over the same files: %v", err)
	}
	if !bytes.Equal(got, content) || gitem.SHA256 != item.SHA256 || gitem.Meta.ContentID != "c1" {
		t.Fatalf("read back %d bytes %v, kept %d %v", len(got), gitem.SHA256, len(content), item.SHA256)
	}
	if moved, err := b.RewrapAll(ctx, "k2"); err != nil || moved != 1 {
		t.Fatalf("rewrap: moved %d, %v", moved, err)
	}
	if _, gitem, err := a.Get(item.ID); err != nil || gitem.KeyID != "k2" {
		t.Fatalf("after rewrap: key %q, %v", gitem.KeyID, err)
	}
	if _, _, err := a.Get("0123456789abcdef0123456789abcdef"); !errors.Is(err, evidence.ErrNotFound) {
		t.Fatalf("Get of a missing item: %v", err)
	}
	if _, _, err := a.Get("../../etc/passwd"); !errors.Is(err, evidence.ErrNotFound) {
		t.Fatalf("Get of a path: %v", err)
	}
	h, err := b.Hold(item.ID)
	if err != nil {
		t.Fatal(err)
	}
	log := audit.NewLog(&audittest.Memory{})
	if err := a.Delete(ctx, log, item.ID, "admin", "test"); !errors.Is(err, evidence.ErrHeld) {
		t.Fatalf("delete within the hold: %v", err)
	}
	a.Now = func() time.Time { return h.Until.Add(time.Hour) }
	if err := a.Delete(ctx, log, item.ID, "admin", "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Get(item.ID); !errors.Is(err, evidence.ErrNotFound) {
		t.Fatalf("Get of a deleted item on the other store: %v", err)
	}
	for id, err := range b.IDs() {
		t.Fatalf("IDs after the delete: %s %v", id, err)
	}
}
