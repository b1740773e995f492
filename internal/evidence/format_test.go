package evidence

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An item of version 1 (sealed whole, as before segments), kept in
// testdata: still read, checked and rewrapped, staying version 1.
func TestVersion1(t *testing.T) {
	const id, sum = "4c16127bc0586f39c910de762eaa2812", "04eece991e9478d73e3d9fb310632c56671a4b144f24c3be7705a51ff248736f"
	dir := t.TempDir()
	for _, ext := range []string{suffix, holdSuffix} {
		b, err := os.ReadFile(filepath.Join("testdata/v1", id+ext))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, id+ext), b, 0o600)
	}
	want := make([]byte, 200<<10+7) // what made it
	for i := range want {
		want[i] = byte(i * 7)
	}
	s := open(t, dir, ring(t, "new", "old"))
	data, item, err := s.Get(id)
	if err != nil || !bytes.Equal(data, want) || item.SHA256.String() != sum || item.Meta.ContentID != "v1-item" || item.KeyID != "old" {
		t.Fatalf("Get of a version 1 item: %d bytes, %+v, %v", len(data), item, err)
	}
	// The other reads: Describe and Open read it whole too (one message),
	// Verify and Get give the MD5 whether or not the item recorded one.
	if d, err := s.Describe(id); err != nil || d.SHA256 != item.SHA256 || d.Size != int64(len(want)) {
		t.Errorf("Describe of a version 1 item: %+v, %v", d, err)
	}
	if v, err := s.Verify(id); err != nil || v != item || v.MD5 != MD5(md5.Sum(want)) {
		t.Errorf("Verify of a version 1 item: %+v, %v; Get said %+v", v, err, item)
	}
	if rc, _, err := s.Open(id); err != nil {
		t.Errorf("Open of a version 1 item: %v", err)
	} else if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, want) {
		t.Errorf("Open of a version 1 item streamed %d bytes, %v", len(got), err)
	} else {
		rc.Close()
	}
	if err := s.Rewrap(id, "new"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, id+suffix)
	b, _ := os.ReadFile(path)
	if b[4] != version1 {
		t.Errorf("rewrapped, the item is version %d, want 1 (its body unchanged)", b[4])
	}
	if data, item, err := s.Get(id); err != nil || !bytes.Equal(data, want) || item.KeyID != "new" {
		t.Fatalf("Get after rewrap: %d bytes, key %q, %v", len(data), item.KeyID, err)
	}
	b[len(b)-100] ^= 1
	os.WriteFile(path, b, 0o600)
	if _, _, err := s.Get(id); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "content does not decrypt") {
		t.Errorf("Get of an altered version 1 item: %v", err)
	}
}

// Bodies of whole segments and of one byte either side round-trip, and
// segments cannot be reordered unseen.
func TestSegments(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, ring(t, "k"))
	prefix := int64(36 + len(`{"md5":"00000000000000000000000000000000"}`)) // the body before the content, with Meta{}
	for _, n := range []int64{1, segSize - prefix - 1, segSize - prefix, segSize - prefix + 1, 3*segSize - prefix} {
		data := bytes.Repeat([]byte{byte(n)}, int(n))
		item, err := s.Put(data, Meta{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, item.ID+suffix))
		if want := sealedLen(prefix+n) + int64(fixedSize+1+1+nonceSize+wrappedLen); int64(len(b)) != want || b[4] != version2 {
			t.Fatalf("content of %d bytes: a file of %d bytes version %d, want %d version 2", n, len(b), b[4], want)
		}
		got, _, err := s.Get(item.ID)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("content of %d bytes read back as %d: %v", n, len(got), err)
		}
		if n < 2*segSize {
			continue
		}
		body := b[fixedSize+1+1+nonceSize+wrappedLen:]
		swapped := bytes.Clone(b)
		sb := swapped[len(b)-len(body):]
		copy(sb, body[sealedSeg:2*sealedSeg])
		copy(sb[sealedSeg:], body[:sealedSeg])
		os.WriteFile(filepath.Join(dir, item.ID+suffix), swapped, 0o600)
		if _, _, err := s.Get(item.ID); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "at segment 0") {
			t.Errorf("Get with two segments swapped: %v", err)
		}
	}
}

func TestPlainLen(t *testing.T) {
	for n := int64(1); n < 3*segSize+10; n += 997 {
		if got, ok := plainLen(uint64(sealedLen(n))); !ok || got != uint64(n) {
			t.Fatalf("plainLen(sealedLen(%d)) = %d, %v", n, got, ok)
		}
	}
	for _, l := range []uint64{0, tagSize, sealedSeg + tagSize} {
		if _, ok := plainLen(l); ok {
			t.Errorf("plainLen(%d) took a length no body has", l)
		}
	}
}
