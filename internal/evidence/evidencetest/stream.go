package evidencetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/evidence"
)

// The version 2 format as docs/audit.md fixes it: a header of 110 bytes
// and the master key id, then segments of 64 KiB of plaintext, each
// sealed with a 16-byte tag.
const (
	segSize   = 64 << 10
	sealedSeg = segSize + 16
)

// stream checks Store.Open, Describe and Verify over the Files: an item
// streams back as kept; a file altered in segment k yields the content
// before segment k and then an error naming it, never a byte of segment
// k; a file cut short or appended to, whether Files says so in its size
// or not, and a wrong key, fail; Describe reads the description without
// the content (so does not see an alteration past the metadata), Verify
// sees every one.
func stream(t *testing.T, open func(t *testing.T) (evidence.Files, evidence.Files)) {
	f, _ := open(t)
	s, err := evidence.OpenFiles(f, keyring(t, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 4*segSize+1000) // five segments, the last short
	rand.Read(data)
	item, err := s.Put(data, evidence.Meta{ContentType: "video/mp4", ContentID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	name := item.ID + ".sgev"
	orig := readFile(t, f, name)
	hdr := 110 + len("k1")
	body := len(orig) - hdr
	segs := (body + sealedSeg - 1) / sealedSeg
	prefix := body - segs*16 - len(data) // the SHA-256 and metadata ahead of the content
	before := func(k int) []byte { return data[:k*segSize-prefix] }

	rc, got, err := s.Open(item.ID)
	if err != nil {
		t.Fatal(err)
	}
	read, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(read, data) || got != item {
		t.Fatalf("Open: %d bytes, %+v, %v; kept %d bytes, %+v", len(read), got, err, len(data), item)
	}
	if got, err := s.Describe(item.ID); err != nil || got != item {
		t.Fatalf("Describe: %+v, %v", got, err)
	}
	if got, err := s.Verify(item.ID); err != nil || got != item {
		t.Fatalf("Verify: %+v, %v", got, err)
	}

	flip := func(off int) []byte { b := bytes.Clone(orig); b[off] ^= 1; return b }
	cut := func(n int) []byte { return bytes.Clone(orig[:n]) }
	for _, tt := range []struct {
		name string
		file []byte
		// lie: Files reports the original file's size but yields file.
		lie bool
		// atOpen: Open itself fails; else it streams want, then fails
		// (want nil: part of the content short of its end, every segment
		// of which authenticates, then fails).
		atOpen   bool
		want     []byte
		msg      string
		describe bool // whether Describe still reads the description
	}{
		{name: "byte altered in segment 2", file: flip(hdr + 2*sealedSeg + 100), want: before(2), msg: "at segment 2", describe: true},
		{name: "tag of the last segment altered", file: flip(len(orig) - 1), want: before(4), msg: "at segment 4", describe: true},
		{name: "byte altered in segment 0", file: flip(hdr + 3), atOpen: true, msg: "at segment 0"},
		{name: "cut at a segment's end", file: cut(hdr + 3*sealedSeg), atOpen: true, msg: "cut short or appended"},
		{name: "cut at a segment's end, the size unsaid", file: cut(hdr + 3*sealedSeg), lie: true, want: before(3), msg: "cut short at segment 3", describe: true},
		{name: "cut inside a segment, the size unsaid", file: cut(hdr + 3*sealedSeg + 7), lie: true, want: before(3), msg: "cut short at segment 3", describe: true},
		{name: "appended to", file: append(bytes.Clone(orig), 0), atOpen: true, msg: "cut short or appended"},
		{name: "appended to, the size unsaid", file: append(bytes.Clone(orig), 0), lie: true, msg: "appended", describe: true},
		{name: "body length rewritten to the cut", file: withBodyLen(cut(hdr+2*sealedSeg), 2*sealedSeg), atOpen: true, msg: "at segment 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := s
			if tt.lie {
				if st, err = evidence.OpenFiles(lying{f, tt.file}, keyring(t, "k1")); err != nil {
					t.Fatal(err)
				}
			} else {
				write(t, f, name, tt.file)
				defer write(t, f, name, orig)
			}
			rc, _, err := st.Open(item.ID)
			if tt.atOpen {
				if !errors.Is(err, evidence.ErrCorrupt) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("Open: %v, want ErrCorrupt %q", err, tt.msg)
				}
			} else {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				got, err := readSmall(rc)
				rc.Close()
				if !errors.Is(err, evidence.ErrCorrupt) || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), item.ID) {
					t.Errorf("reading: %v, want ErrCorrupt %q naming the item", err, tt.msg)
				}
				if tt.want == nil && (len(got) >= len(data) || !bytes.Equal(got, data[:len(got)])) {
					t.Errorf("yielded %d bytes before the error, want fewer than the content's %d, and those the content's", len(got), len(data))
				}
				if tt.want != nil && !bytes.Equal(got, tt.want) {
					t.Errorf("yielded %d bytes before the error (equal to the content's first: %v), want the %d before the bad segment",
						len(got), bytes.Equal(got, data[:min(len(got), len(data))]), len(tt.want))
				}
			}
			if _, err := st.Verify(item.ID); !errors.Is(err, evidence.ErrCorrupt) {
				t.Errorf("Verify: %v, want ErrCorrupt", err)
			}
			if d, _, err := st.Get(item.ID); !errors.Is(err, evidence.ErrCorrupt) || d != nil {
				t.Errorf("Get: %d bytes, %v, want ErrCorrupt", len(d), err)
			}
			if got, err := st.Describe(item.ID); tt.describe != (err == nil) || err == nil && got != item {
				t.Errorf("Describe: %+v, %v (want it to read: %v)", got, err, tt.describe)
			}
			// Rewrap writes while it verifies: the write fails and the
			// file stays as it was.
			if err := st.Rewrap(item.ID, "k2"); !errors.Is(err, evidence.ErrCorrupt) {
				t.Errorf("Rewrap: %v, want ErrCorrupt", err)
			}
			was := tt.file
			if tt.lie {
				was = orig
			}
			if !bytes.Equal(readFile(t, f, name), was) {
				t.Error("a Rewrap that failed changed the file")
			}
		})
	}

	t.Run("wrong key", func(t *testing.T) {
		k, err := evidence.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, 32)})
		if err != nil {
			t.Fatal(err)
		}
		wrong, _ := evidence.OpenFiles(f, k)
		if _, _, err := wrong.Open(item.ID); !errors.Is(err, evidence.ErrCorrupt) || !strings.Contains(err.Error(), "does not unwrap") {
			t.Errorf("Open under another key of the same id: %v, want ErrCorrupt", err)
		}
		k, _ = evidence.NewKeyring("k3", map[string][]byte{"k3": bytes.Repeat([]byte{3}, 32)})
		missing, _ := evidence.OpenFiles(f, k)
		if _, _, err := missing.Open(item.ID); !errors.Is(err, evidence.ErrUnknownKey) {
			t.Errorf("Open without the key: %v, want ErrUnknownKey", err)
		}
		if _, err := missing.Describe(item.ID); !errors.Is(err, evidence.ErrUnknownKey) {
			t.Errorf("Describe without the key: %v, want ErrUnknownKey", err)
		}
	})
	if _, _, err := s.Open("0123456789abcdef0123456789abcdef"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("Open of a missing item: %v, want ErrNotFound", err)
	}
	if _, err := s.Verify(item.ID); err != nil {
		t.Errorf("the item put back does not verify: %v", err)
	}
	if err := s.Rewrap(item.ID, "k2"); err != nil {
		t.Fatal(err)
	}
	rc, got, err = s.Open(item.ID)
	if err != nil {
		t.Fatal(err)
	}
	read, err = io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(read, data) || got.KeyID != "k2" {
		t.Errorf("after Rewrap: %d bytes under key %q, %v", len(read), got.KeyID, err)
	}
}

// readSmall reads r through in reads of 1000 bytes, returning what it
// yielded before its error: a reader that released part of a bad segment
// would show it here.
func readSmall(r io.Reader) ([]byte, error) {
	var out []byte
	buf := make([]byte, 1000)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// withBodyLen sets the header's body length (bytes 41..49) to n.
func withBodyLen(b []byte, n uint64) []byte {
	for i := range 8 {
		b[41+i] = byte(n >> (56 - 8*i))
	}
	return b
}

// lying is Files that yields file for every Open, with the size and time
// of the real file: a backend whose stream is not what it said.
type lying struct {
	evidence.Files
	file []byte
}

func (l lying) Open(name string) (io.ReadCloser, evidence.FileInfo, error) {
	rc, info, err := l.Files.Open(name)
	if err != nil {
		return nil, info, err
	}
	rc.Close()
	return io.NopCloser(bytes.NewReader(l.file)), info, nil
}

func readFile(t *testing.T, f evidence.Files, name string) []byte {
	t.Helper()
	rc, _, err := f.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, f evidence.Files, name string, b []byte) {
	t.Helper()
	if err := f.Write(name, bytes.NewReader(b)); err != nil {
		t.Fatal(fmt.Errorf("writing %s: %w", name, err))
	}
}
