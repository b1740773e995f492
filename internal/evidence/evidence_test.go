package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// keyFor derives a fixed test key from a name; key "k" and key "k!" differ.
func keyFor(name string) []byte {
	k := sha256.Sum256([]byte(name))
	return k[:]
}

// ring returns a keyring of the named keys, current first.
func ring(t testing.TB, ids ...string) *Keyring {
	t.Helper()
	keys := map[string][]byte{}
	for _, id := range ids {
		keys[id] = keyFor(id)
	}
	k, err := NewKeyring(ids[0], keys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func open(t testing.TB, dir string, k *Keyring) *Store {
	t.Helper()
	s, err := Open(dir, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	content = []byte("MARKER-CONTENT " + strings.Repeat("pixels ", 100))
	meta    = Meta{ContentType: "image/jpeg", ContentID: "post-991", AccountID: "MARKER-ACCOUNT", Source: "scan", Reason: "rule block-known: quarantine"}
)

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "evidence")
	s := open(t, dir, ring(t, "2026-11"))
	before := time.Now()
	item, err := s.Put(content, meta)
	if err != nil {
		t.Fatal(err)
	}
	if len(item.ID) != 32 || item.KeyID != "2026-11" || item.Size != int64(len(content)) ||
		item.SHA256 != sha256.Sum256(content) || item.Meta != meta || item.Created.Before(before.Add(-time.Second)) {
		t.Errorf("Put returned %+v", item)
	}
	data, got, err := s.Get(item.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := json.Marshal(item); !strings.Contains(string(j), `"sha256":"`+hex.EncodeToString(item.SHA256[:])+`"`) {
		t.Errorf("item JSON %s does not give the SHA-256 in hex", j)
	}
	if !bytes.Equal(data, content) || got != item {
		t.Errorf("Get = %q, %+v; want what was put, %+v", data[:20], got, item)
	}

	file, err := os.ReadFile(filepath.Join(dir, item.ID+".sgev"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"MARKER-CONTENT", "MARKER-ACCOUNT", "post-991", string(item.SHA256[:])} {
		if bytes.Contains(file, []byte(secret)) {
			t.Errorf("the item file holds %q in the clear", secret)
		}
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, item.ID+".sgev"): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode().Perm(), want, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 || entries[0].Name() != item.ID+".hold" || entries[1].Name() != item.ID+".sgev" {
		t.Errorf("directory holds %v after one Put, want the item and its hold", entries)
	}

	// Two puts of the same content are two items with different keys.
	item2, err := s.Put(content, meta)
	if err != nil {
		t.Fatal(err)
	}
	file2, _ := os.ReadFile(filepath.Join(dir, item2.ID+".sgev"))
	if item2.ID == item.ID || bytes.Equal(file[120:200], file2[120:200]) {
		t.Error("the same content encrypted twice gave the same bytes")
	}
}

func TestWrongAndMissingKeys(t *testing.T) {
	dir := t.TempDir()
	item, err := open(t, dir, ring(t, "a")).Put(content, meta)
	if err != nil {
		t.Fatal(err)
	}
	// The same id, another key: a configuration mistake.
	wrong, err := NewKeyring("a", map[string][]byte{"a": keyFor("not a")})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = open(t, dir, wrong).Get(item.ID)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `does not unwrap under master key "a"`) {
		t.Errorf("Get with the wrong key: %v", err)
	}
	_, _, err = open(t, dir, ring(t, "b")).Get(item.ID)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `wrapped by master key "a"; the keyring holds [b]`) {
		t.Errorf("Get without the key: %v", err)
	}
}

func TestTampering(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, ring(t, "k1", "k2"))
	item, err := s.Put(content, meta)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Put([]byte("other content"), Meta{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, item.ID+".sgev")
	orig, _ := os.ReadFile(path)
	otherFile, _ := os.ReadFile(filepath.Join(dir, other.ID+".sgev"))
	k := len("k1")
	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 0x01; return b }
	}
	tests := []struct {
		name   string
		tamper func([]byte) []byte
		want   error
		msg    string
	}{
		{"magic", flip(0), ErrCorrupt, `header: starts "RGEV"`},
		{"version", flip(4), ErrCorrupt, "format version 3, this program reads 1 and 2"},
		{"item id", flip(10), ErrCorrupt, "the file holds item"},
		{"created", flip(25), ErrCorrupt, "content does not decrypt"},
		{"body nonce", flip(30), ErrCorrupt, "content does not decrypt"},
		{"body length", flip(48), ErrCorrupt, "the header says"},
		{"key id length", flip(49), ErrCorrupt, "header"},
		{"key id renamed to another key", func(b []byte) []byte { b[51] = '2'; return b }, ErrCorrupt, `does not unwrap under master key "k2"`},
		{"key id renamed to an unknown key", flip(50), ErrUnknownKey, `master key "j1"`},
		{"wrap nonce", flip(50 + k + 3), ErrCorrupt, "does not unwrap"},
		{"wrapped key", flip(62 + k + 20), ErrCorrupt, "does not unwrap"},
		{"body", flip(110 + k + 40), ErrCorrupt, "content does not decrypt"},
		{"tag", flip(len(orig) - 1), ErrCorrupt, "content does not decrypt"},
		{"cut short", func(b []byte) []byte { return b[:len(b)-1] }, ErrCorrupt, "cut short or appended"},
		{"appended to", func(b []byte) []byte { return append(b, 0) }, ErrCorrupt, "cut short or appended"},
		{"header only", func(b []byte) []byte { return b[:60] }, ErrCorrupt, "header cut short"},
		{"empty", func([]byte) []byte { return nil }, ErrCorrupt, "0 bytes"},
		{"wrapped key of another item", func(b []byte) []byte {
			copy(b[50+k:110+k], otherFile[50+k:110+k])
			return b
		}, ErrCorrupt, "does not unwrap"},
		{"another item's file", func([]byte) []byte { return bytes.Clone(otherFile) }, ErrCorrupt, "the file holds item " + other.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.tamper(bytes.Clone(orig)), 0o600); err != nil {
				t.Fatal(err)
			}
			data, _, err := s.Get(item.ID)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || data != nil {
				t.Errorf("Get: %v, want %v %q", err, tt.want, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "evidence: item "+item.ID+": ") {
				t.Errorf("error %q does not name the item", err)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, ring(t, "k"))
	os.WriteFile(filepath.Join(dir, "secret"), []byte("x"), 0o600)
	for _, id := range []string{
		"00112233445566778899aabbccddeeff", // well formed, absent
		"00112233445566778899AABBCCDDEEFF", // upper case
		"../secret", "", "0011", "secret",  //
		"00112233445566778899aabbccddeefg",   // not hex
		"00112233445566778899aabbccddeeff/.", //
	} {
		if _, _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", id, err)
		}
	}
}

func TestLimits(t *testing.T) {
	s := open(t, t.TempDir(), ring(t, "k"))
	s.MaxSize = 100
	if _, err := s.Put(make([]byte, 101), meta); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Put of 101 bytes with MaxSize 100: %v", err)
	}
	if _, err := s.Put(nil, meta); err == nil || !strings.Contains(err.Error(), "no content") {
		t.Errorf("Put of nothing: %v", err)
	}
	if _, err := s.Put([]byte("x"), Meta{Reason: strings.Repeat("r", MaxMeta)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Put with huge metadata: %v", err)
	}
	item, err := s.Put(make([]byte, 100), meta)
	if err != nil {
		t.Fatal(err)
	}
	// A file bigger than any item the store takes is refused before it
	// is read into memory.
	s.MaxSize = 1
	big := make([]byte, sealedLen(1+MaxMeta+36)+fixedSize+1+maxKeyID+nonceSize+wrappedLen+1)
	os.WriteFile(filepath.Join(dirOf(s), item.ID+".sgev"), big, 0o600)
	if _, _, err := s.Get(item.ID); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Get of an oversized file: %v", err)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	old := open(t, dir, ring(t, "2025"))
	var ids []string
	for i := range 3 {
		item, err := old.Put([]byte{byte(i), 1, 2, 3}, Meta{ContentID: string(rune('a' + i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, item.ID)
	}

	// A new current key; the old one kept for reading.
	s := open(t, dir, ring(t, "2026", "2025"))
	fresh, err := s.Put([]byte("after rotation"), meta)
	if err != nil || fresh.KeyID != "2026" {
		t.Fatalf("Put after rotation: %+v, %v", fresh, err)
	}
	for _, id := range ids {
		if _, item, err := s.Get(id); err != nil || item.KeyID != "2025" {
			t.Errorf("old item %s after rotation: %+v, %v", id, item, err)
		}
	}

	oldFile, _ := os.ReadFile(filepath.Join(dir, ids[0]+".sgev"))
	if err := s.Rewrap(ids[0], "2026"); err != nil {
		t.Fatal(err)
	}
	newFile, _ := os.ReadFile(filepath.Join(dir, ids[0]+".sgev"))
	if !bytes.Equal(oldFile[:fixedSize], newFile[:fixedSize]) || !bytes.Equal(oldFile[110+4:], newFile[110+4:]) {
		t.Error("Rewrap changed more than the wrapped key")
	}
	if err := s.Rewrap(ids[0], "2027"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Rewrap to a key not in the keyring: %v", err)
	}
	moved, err := s.RewrapAll(t.Context(), "2026")
	if err != nil || moved != 2 {
		t.Errorf("RewrapAll moved %d, %v; want the 2 left", moved, err)
	}

	// The old key can go now.
	s = open(t, dir, ring(t, "2026"))
	for i, id := range ids {
		data, item, err := s.Get(id)
		if err != nil || item.KeyID != "2026" || data[0] != byte(i) || item.Meta.ContentID != string(rune('a'+i)) {
			t.Errorf("item %s after rewrap: %v %+v, %v", id, data, item, err)
		}
	}

	// RewrapAll carries on past an item it cannot read, and says which.
	bad := filepath.Join(dir, ids[1]+".sgev")
	b, _ := os.ReadFile(bad)
	b[len(b)-1] ^= 1
	os.WriteFile(bad, b, 0o600)
	s = open(t, dir, ring(t, "2027", "2026"))
	moved, err = s.RewrapAll(t.Context(), "2027")
	if moved != 3 || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), ids[1]) {
		t.Errorf("RewrapAll over a damaged item: moved %d, %v", moved, err)
	}
}

func TestOpenRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".tmp-stale")
	fresh := filepath.Join(dir, ".tmp-fresh")
	os.WriteFile(stale, []byte("x"), 0o600)
	os.WriteFile(fresh, []byte("x"), 0o600)
	os.Chtimes(stale, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour))
	open(t, dir, ring(t, "k"))
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("Open left a temporary file two hours old")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("Open removed a temporary file being written")
	}
}

// However a keyring is mistyped (a key with no id, id and key swapped, a
// key cut short or run into the next), its error shows no 8 characters of
// any key in it.
func TestParseKeyringErrorsHideKeys(t *testing.T) {
	hexKey := hex.EncodeToString(keyFor("x"))
	b64 := base64.StdEncoding.EncodeToString(keyFor("y"))
	for _, spec := range []string{
		hexKey,
		b64,
		hexKey + ":2026-11",
		b64 + ":2026-11",
		hexKey[:60] + ":2026-11",
		"2026-11:" + hexKey + "," + hexKey,
		"2026-11:" + hexKey[:63],
		"2026-11:" + b64[:40],
		"a:" + hexKey + ",a:" + hexKey,
		hexKey + ":" + hexKey,
		"2026 11:" + hexKey,
		"k:" + hexKey + ",k2:" + hexKey + "zz",
	} {
		_, err := ParseKeyring(spec)
		if err == nil {
			t.Errorf("ParseKeyring(%.12q…) accepted a mistyped keyring", spec)
			continue
		}
		for _, key := range []string{hexKey, b64} {
			for i := 0; i+8 <= len(key); i++ {
				if strings.Contains(err.Error(), key[i:i+8]) {
					t.Errorf("ParseKeyring(%.12q…) error %q shows key material %q", spec, err, key[i:i+8])
					break
				}
			}
		}
	}
}

func TestParseKeyring(t *testing.T) {
	hexKey := hex.EncodeToString(keyFor("x"))
	b64 := "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // 32 bytes, not all zero
	k, err := ParseKeyring("2026-11:" + hexKey + ", 2025.06:" + b64 + ",old_1:" + strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(b64), "="))
	if err != nil {
		t.Fatal(err)
	}
	if k.Current() != "2026-11" || strings.Join(k.IDs(), " ") != "2025.06 2026-11 old_1" {
		t.Errorf("keyring current %q, ids %v", k.Current(), k.IDs())
	}
	tests := []struct{ spec, want string }{
		{"", `want "id:key"`},
		{hexKey, `want "id:key"`},
		{"a:" + hexKey[:62], "neither 64 hex digits nor the base64 of 32 bytes"},
		{"a:" + hexKey + "00", "neither"},
		{"a:" + strings.Repeat("0", 64), "all zeros"},
		{"a:" + hexKey + ",a:" + hexKey, "given twice"},
		{"a b:" + hexKey, "only letters, digits"},
		{":" + hexKey, "want 1 to 64 characters"},
		{strings.Repeat("a", 65) + ":" + hexKey, "want 1 to 64 characters"},
	}
	for _, tt := range tests {
		_, err := ParseKeyring(tt.spec)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseKeyring(%.20q): %v, want %q", tt.spec, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), hexKey[:16]) {
			t.Errorf("ParseKeyring error %q shows key material", err)
		}
	}
	if _, err := ParseKeyring("2026-11:" + hexKey[:63]); err == nil || !strings.Contains(err.Error(), `master key 1 ("2026-11")`) {
		t.Errorf("ParseKeyring error %v does not name the key by its place and id", err)
	}
	if _, err := NewKeyring("c", map[string][]byte{"a": keyFor("a")}); err == nil {
		t.Error("NewKeyring accepted a current key it was not given")
	}
	if _, err := NewKeyring("a", map[string][]byte{"a": keyFor("a")[:16]}); err == nil {
		t.Error("NewKeyring accepted a 16-byte key")
	}
}

func FuzzParseHeader(f *testing.F) {
	dir := f.TempDir()
	s := open(f, dir, ring(f, "2026-11"))
	item, err := s.Put([]byte("seed"), meta)
	if err != nil {
		f.Fatal(err)
	}
	file, _ := os.ReadFile(filepath.Join(dir, item.ID+".sgev"))
	f.Add(file)
	f.Add(file[:fixedSize+3])
	f.Add([]byte("SGEV\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err != nil {
			return
		}
		if enc := h.append(nil); !bytes.Equal(enc, b[:len(enc)]) || len(enc) != h.size() {
			t.Errorf("header %x re-encodes as %x", b[:min(len(b), h.size())], enc)
		}
	})
}

// FuzzGet reads arbitrary files as items: a damaged evidence directory must
// give errors, never a crash or content that did not authenticate.
func FuzzGet(f *testing.F) {
	dir := f.TempDir()
	s := open(f, dir, ring(f, "k"))
	item, err := s.Put([]byte("seed"), meta)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, item.ID+".sgev")
	file, _ := os.ReadFile(path)
	f.Add(file)
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		data, got, err := s.Get(item.ID)
		if err == nil && (!bytes.Equal(b, file) || string(data) != "seed" || got.Meta != meta) {
			t.Errorf("Get accepted an altered file: %q, %+v", data, got)
		}
	})
}

// dirOf is the directory of a Store that Open returned.
func dirOf(s *Store) string { return string(s.files.(Dir)) }
