package hotline

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/evidence/evidencetest"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
)

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// sealBytes seals content as member name under key.
func sealBytes(t *testing.T, key []byte, name string, content []byte) []byte {
	t.Helper()
	aead, _ := newGCM(key)
	var b bytes.Buffer
	sum, n, err := seal(&b, aead, name, bytes.NewReader(content))
	if err != nil || n != int64(len(content)) || sum != sha256.Sum256(content) {
		t.Fatalf("seal: %d bytes, %v; want %d and the content's SHA-256", n, err, len(content))
	}
	return b.Bytes()
}

// unseal reads a sealed member back, returning what it yielded before
// its error.
func unseal(key []byte, name string, member, want []byte) ([]byte, error) {
	aead, _ := newGCM(key)
	u, err := newUnsealer(bytes.NewReader(member), aead, name, want)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, u)
	return out.Bytes(), err
}

func TestSealRoundTrip(t *testing.T) {
	key := randomKey(t)
	for _, n := range []int{0, 1, segSize - 1, segSize, segSize + 1, 3 * segSize, 3*segSize + 5} {
		content := make([]byte, n)
		rand.Read(content)
		m := sealBytes(t, key, "files/a.enc", content)
		segs := max(1, (n+segSize-1)/segSize)
		if len(m) != prefixSize+n+segs*tagSize {
			t.Errorf("%d bytes: sealed in %d bytes, want %d (%d segments)", n, len(m), prefixSize+n+segs*tagSize, segs)
		}
		sum := sha256.Sum256(content)
		got, err := unseal(key, "files/a.enc", m, sum[:])
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%d bytes: read back %d bytes, %v", n, len(got), err)
		}
		// The last segment is sealed as such: an empty content is one
		// empty last segment, a content of whole segments has no empty
		// one after them.
		if n > 0 && n%segSize == 0 && len(m) != prefixSize+n+n/segSize*tagSize {
			t.Errorf("%d bytes: an empty segment after the last full one", n)
		}
	}
}

// TestSealTamper: a segment altered, moved, dropped or taken from another
// member, a member cut short or appended to, each is refused, naming the
// member and the segment, and nothing of the bad segment is yielded.
func TestSealTamper(t *testing.T) {
	key := randomKey(t)
	const name = "files/a.enc"
	content := make([]byte, 3*segSize+100) // four segments, the last short
	rand.Read(content)
	m := sealBytes(t, key, name, content)
	seg := func(i int) []byte { // sealed segment i
		start := prefixSize + i*sealedSeg
		return m[start:min(start+sealedSeg, len(m))]
	}
	join := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{m[:prefixSize]}, parts...), nil) }
	whole := make([]byte, 2*segSize) // two full segments, the second the last
	rand.Read(whole)
	w := sealBytes(t, key, name, whole)
	other := sealBytes(t, key, "files/b.enc", content)
	sum := sha256.Sum256(content)

	for _, tt := range []struct {
		name   string
		member []byte
		want   string
		yield  int // bytes of content yielded before the error
	}{
		{"a byte of segment 1", flip(m, prefixSize+sealedSeg+10), "segment 1 does not decrypt", segSize},
		{"the tag of the last segment", flip(m, len(m)-1), "segment 3 does not decrypt", 3 * segSize},
		{"the prefix", flip(m, 2), "segment 0 does not decrypt", 0},
		{"segments 1 and 2 reordered", join(seg(0), seg(2), seg(1), seg(3)), "segment 1 does not decrypt (altered, moved", segSize},
		{"segment 2 dropped", join(seg(0), seg(1), seg(3)), "segment 2 does not decrypt", 2 * segSize},
		{"the last segment dropped", join(seg(0), seg(1), seg(2)), "cut short: segment 2 is not the last, and nothing follows it", 2 * segSize},
		{"cut inside the last segment", m[:len(m)-7], "segment 3 does not decrypt (altered, cut short inside it", 3 * segSize},
		{"cut to the prefix", m[:prefixSize], "segment 0 does not decrypt", 0},
		{"cut inside the prefix", m[:3], "too short to decrypt", 0},
		{"a segment of another member", join(seg(0), other[prefixSize+sealedSeg:prefixSize+2*sealedSeg], seg(2), seg(3)), "segment 1 does not decrypt", segSize},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unseal(key, name, tt.member, sum[:])
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), name) {
				t.Errorf("error %v, want one naming %s and saying %q", err, name, tt.want)
			}
			if !bytes.Equal(got, content[:tt.yield]) {
				t.Errorf("yielded %d bytes before the error, want the %d before the bad segment", len(got), tt.yield)
			}
		})
	}
	t.Run("appended to after a full last segment", func(t *testing.T) {
		_, err := unseal(key, name, append(bytes.Clone(w), 0), nil)
		if err == nil || !strings.Contains(err.Error(), "segment 1 is the last, and more follows it (appended)") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("under another member's name", func(t *testing.T) {
		if _, err := unseal(key, "files/b.enc", m, nil); err == nil || !strings.Contains(err.Error(), "segment 0 does not decrypt") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("not the intake SHA-256", func(t *testing.T) {
		other := sha256.Sum256([]byte("other"))
		got, err := unseal(key, name, m, other[:])
		if err == nil || !strings.Contains(err.Error(), "is not the "+hex.EncodeToString(other[:])+" recorded at intake") {
			t.Errorf("error %v", err)
		}
		if len(got) != 3*segSize {
			t.Errorf("yielded %d bytes, want all but the last segment (%d)", len(got), 3*segSize)
		}
	})
}

// TestDecryptAfterOpen: a package that changes after Open (its file
// replaced) fails Decrypt at the segment that changed, having yielded only
// what came before it.
func TestDecryptAfterOpen(t *testing.T) {
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	r := lereporttest.Sample()
	id := r.Files[0].EvidenceID
	content := make([]byte, 2*segSize+10)
	rand.Read(content)
	var b bytes.Buffer
	if _, err := Write(context.Background(), &b, Package{Report: r, Files: lereporttest.NewFiles(map[string][]byte{id: content}),
		Recipient: priv.PublicKey(), Created: when}); err != nil {
		t.Fatal(err)
	}
	pkg := b.Bytes()
	c, err := openBytes(pkg, priv)
	if err != nil {
		t.Fatal(err)
	}
	f := c.members[FileMember(id)]
	off, _ := f.DataOffset()
	pkg[off+prefixSize+sealedSeg+5] ^= 1 // in segment 1; bytes.Reader reads pkg itself
	var got bytes.Buffer
	err = c.Decrypt(&got, FileMember(id))
	if err == nil || !strings.Contains(err.Error(), FileMember(id)+": segment 1 does not decrypt") || !bytes.Equal(got.Bytes(), content[:segSize]) {
		t.Errorf("Decrypt of an altered package: %d bytes, %v; want segment 0's and an error at segment 1", got.Len(), err)
	}
	if err := c.Decrypt(io.Discard, ReportXML); err == nil {
		t.Error("Decrypt of report.xml, which is not encrypted, succeeded")
	}
}

// TestVersion1: a package of the format before (written by the code of
// that version; testdata/v1.key is its recipient's key) still verifies and
// opens, its files decrypted whole.
func TestVersion1(t *testing.T) {
	pkg, err := os.ReadFile("testdata/v1.zip")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile("testdata/v1.key")
	k, _ := hex.DecodeString(strings.TrimSpace(string(raw)))
	priv, err := ecdh.X25519().NewPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := verifyBytes(pkg); err != nil || m.Format != FormatV1 || m.ReportID != 7 {
		t.Fatalf("Verify: %+v, %v", m, err)
	}
	c, err := openBytes(pkg, priv)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"0123456789abcdef0123456789abcdef": []byte("the first file"), "fedcba9876543210fedcba9876543210": bytes.Repeat([]byte{0xd8}, 5000)}
	if len(c.Files()) != 2 {
		t.Fatalf("%d files, want 2", len(c.Files()))
	}
	for _, f := range c.Files() {
		if got := decrypted(t, c, f.Name); !bytes.Equal(got, want[f.EvidenceID]) {
			t.Errorf("%s: %q", f.Name, got)
		}
	}
	if csv := decrypted(t, c, ConversationsCSV); !strings.Contains(string(csv), "hi, how old are you?") {
		t.Errorf("conversations: %q", csv)
	}
	// Altered, a version 1 member is refused as before.
	bad := rewrite(t, pkg, func(n string, b []byte) (string, []byte) {
		if n == FileMember("0123456789abcdef0123456789abcdef") {
			return n, flip(b, 20)
		}
		return n, b
	})
	if _, err := openBytes(bad, priv); err == nil || !strings.Contains(err.Error(), "does not decrypt") {
		t.Errorf("Open of an altered version 1 package: %v", err)
	}
}

// TestStreamed writes, opens and decrypts a package of one file of
// evidencetest.StreamedSize (a large video's size), synthesized so that
// only the package's own memory is on the heap, and checks none of the
// three holds more than an eighth of it at once.
func TestStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a package of 100 MiB")
	}
	// As evidencetest's streamed test: a tight pacing makes Peak what the
	// path holds live, not the garbage the collector has yet to sweep.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	const n = evidencetest.StreamedSize
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	r := lereporttest.Sample()
	id := r.Files[0].EvidenceID
	files := lereporttest.NewFiles(nil)
	files.Add(id, evidencetest.Content(n), n)
	path := filepath.Join(t.TempDir(), "package.zip")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	limit := uint64(n / 8)
	check := func(what string, f func() error) {
		t.Helper()
		var err error
		peak := evidencetest.Peak(func() { err = f() })
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s of a file of %d MiB held at most %.1f MiB of heap", what, n>>20, float64(peak)/(1<<20))
		if peak > limit {
			t.Errorf("%s of a file of %d MiB held %.1f MiB of heap at once: not streamed", what, n>>20, float64(peak)/(1<<20))
		}
	}
	check("Write", func() error {
		_, err := Write(context.Background(), out, Package{Report: r, Files: files, Recipient: priv.PublicKey(), Created: when})
		return err
	})
	info, err := out.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var c *Contents
	check("Open", func() error { c, err = Open(out, info.Size(), priv); return err })
	got := sha256.New()
	check("Decrypt", func() error { return c.Decrypt(got, FileMember(id)) })
	want := sha256.New()
	io.Copy(want, evidencetest.Content(n))
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) || c.Files()[0].PlainSHA256 != hex.EncodeToString(want.Sum(nil)) {
		t.Error("the file decrypted is not the content packaged")
	}
	if files.Unclosed() != 0 {
		t.Errorf("%d readers of the evidence left open", files.Unclosed())
	}
}

// TestWriteContentFails: a file that fails as it is read (an item altered
// in the evidence store) fails the package, naming the file, and its
// reader is closed.
func TestWriteContentFails(t *testing.T) {
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	r := lereporttest.Sample()
	id := r.Files[0].EvidenceID
	files := lereporttest.NewFiles(map[string][]byte{id: make([]byte, 3*segSize)})
	corrupt := errors.New("at segment 1: fails its integrity check")
	files.Break(id, corrupt)
	_, err := Write(context.Background(), io.Discard, Package{Report: r, Files: files, Recipient: priv.PublicKey(), Created: when})
	if !errors.Is(err, corrupt) || !strings.Contains(err.Error(), "file "+id) {
		t.Errorf("Write with a file failing as it is read: %v", err)
	}
	if files.Unclosed() != 0 {
		t.Errorf("%d readers of the evidence left open", files.Unclosed())
	}
}

// FuzzUnseal: a sealed member is outside input. Whatever it is, reading
// it ends in an error or in content that authenticated.
func FuzzUnseal(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	aead, _ := newGCM(key)
	for _, n := range []int{0, 10, segSize, segSize + 3} {
		var b bytes.Buffer
		seal(&b, aead, "files/a.enc", bytes.NewReader(make([]byte, n)))
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, member []byte) {
		got, err := unseal(key, "files/a.enc", member, nil)
		if err == nil && len(member) != prefixSize+len(got)+tagSize*max(1, (len(got)+segSize-1)/segSize) {
			t.Fatalf("a member of %d bytes read as %d bytes of content", len(member), len(got))
		}
	})
}
