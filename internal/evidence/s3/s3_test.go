package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/evidence/evidencetest"
	"github.com/safeguard-oss/safeguard/internal/evidence/s3/s3test"
)

// open opens Files at s3://bucket/prefix on s with the test's credentials.
func open(tb testing.TB, s *s3test.Server, bucket, prefix string) *Files {
	tb.Helper()
	f, err := Open(s.URL(tb, bucket, prefix))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// The evidence store over a bucket behaves as over a directory, and a
// second server (its own client) reads what the first kept.
func TestFiles(t *testing.T) {
	s := s3test.Start(t)
	evidencetest.Run(t, func(t *testing.T) (evidence.Files, evidence.Files) {
		b := s.Bucket(t)
		return open(t, s, b, "node/evidence"), open(t, s, b, "node/evidence")
	})
}

func keyring(t testing.TB) *evidence.Keyring {
	k, err := evidence.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// An object changed in the bucket by anyone but the store fails its
// check: the bucket's operator cannot alter evidence unseen.
func TestTamper(t *testing.T) {
	s := s3test.Start(t)
	b := s.Bucket(t)
	st, err := evidence.OpenFiles(open(t, s, b, "p"), keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	item, err := st.Put([]byte("the content"), evidence.Meta{ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := "p/" + item.ID + ".sgev"
	obj, err := s.Admin.GetObject(ctx, b, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("the content")) {
		t.Fatal("the object holds the content in clear")
	}
	sealed[len(sealed)-3] ^= 1
	if _, err := s.Admin.PutObject(ctx, b, key, bytes.NewReader(sealed), int64(len(sealed)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Get(item.ID); !errors.Is(err, evidence.ErrCorrupt) {
		t.Fatalf("Get of an altered object: %v, want ErrCorrupt", err)
	}

	// A larger item altered in its second segment streams its first
	// segment's content, then fails there, naming it.
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<12) // 192 KiB: three segments and a bit
	item, err = st.Put(big, evidence.Meta{ContentType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	key = "p/" + item.ID + ".sgev"
	if obj, err = s.Admin.GetObject(ctx, b, key, minio.GetObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if sealed, err = io.ReadAll(obj); err != nil {
		t.Fatal(err)
	}
	const header, sealedSeg = 110 + len("k1"), 64<<10 + 16
	sealed[header+sealedSeg+5] ^= 1
	if _, err := s.Admin.PutObject(ctx, b, key, bytes.NewReader(sealed), int64(len(sealed)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, _, err := st.Open(item.ID)
	if err != nil {
		t.Fatalf("Open of an object altered past its first segment: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, evidence.ErrCorrupt) || !strings.Contains(err.Error(), "at segment 1") {
		t.Errorf("streaming an object altered in segment 1: %v, want ErrCorrupt at segment 1", err)
	}
	if len(got) == 0 || len(got) >= 64<<10 || !bytes.Equal(got, big[:len(got)]) {
		t.Errorf("streamed %d bytes before the error, want the first segment's content only", len(got))
	}
	if _, err := st.Verify(item.ID); !errors.Is(err, evidence.ErrCorrupt) {
		t.Errorf("Verify of the altered object: %v, want ErrCorrupt", err)
	}
}

// pattern yields n bytes that are not all alike without holding them.
type pattern struct{ n, off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rem := p.n - p.off; int64(len(b)) > rem {
		b = b[:rem]
	}
	for i := range b {
		x := uint64(p.off + int64(i))
		b[i] = byte(x ^ x>>8 ^ x>>16)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// A file of several parts streams in as a multipart upload and back out
// whole and in order.
func TestLarge(t *testing.T) {
	s := s3test.Start(t)
	f := open(t, s, s.Bucket(t), "")
	const n = 3*PartSize + 4321
	if err := f.Write("big.sgev", &pattern{n: n}); err != nil {
		t.Fatal(err)
	}
	rc, info, err := f.Open("big.sgev")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := sha256.New()
	if _, err := io.Copy(got, rc); err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	io.Copy(want, &pattern{n: n})
	if info.Size != n || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("read back %d bytes, SHA-256 %x; wrote %d, %x", info.Size, got.Sum(nil), int64(n), want.Sum(nil))
	}
}

// A bucket that is missing, credentials the server refuses and a server
// that is down are each a clear error of kind Unavailable (503), from
// Ready and from the store's operations alike.
func TestFaults(t *testing.T) {
	s := s3test.Start(t)
	good := s.Bucket(t)
	cases := []struct {
		name, want string
		files      func(t *testing.T) *Files
	}{
		{"missing bucket", "bucket does not exist", func(t *testing.T) *Files { return open(t, s, "no-such-bucket", "") }},
		{"wrong credentials", "refused the credentials", func(t *testing.T) *Files {
			f := open(t, s, good, "")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
			return f
		}},
		{"server down", "the server did not answer", func(t *testing.T) *Files {
			f, err := Open("s3://" + good + "?endpoint=http://" + s3test.FreeAddr(t))
			if err != nil {
				t.Fatal(err)
			}
			return f
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.files(t)
			st, err := evidence.OpenFiles(f, keyring(t))
			if err != nil {
				t.Fatal(err)
			}
			_, putErr := st.Put([]byte("x"), evidence.Meta{})
			_, _, getErr := st.Get("0123456789abcdef0123456789abcdef")
			var listErr error
			for _, err := range st.IDs() {
				listErr = err
			}
			for op, err := range map[string]error{"Ready": f.Ready(context.Background()), "Put": putErr, "Get": getErr, "IDs": listErr} {
				if err == nil || derrors.Kind(err) != derrors.Unavailable || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: %v (kind %v), want Unavailable saying %q", op, err, derrors.Kind(err), c.want)
				}
				t.Logf("%s: %v", op, err)
			}
		})
	}
}

func TestOpenURL(t *testing.T) {
	for _, u := range []string{
		"https://bucket/p",
		"s3://key:secret@bucket/p",
		"s3://Bad_Bucket/p",
		"s3://bucket/p?endpoint=host:1/x",
		"s3://bucket/p?endpont=host:1",
	} {
		if _, err := Open(u); err == nil {
			t.Errorf("Open(%q) took it", u)
		}
	}
	f, err := Open("s3://bucket/a/b/?endpoint=http://127.0.0.1:9000&region=eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if f.bucket != "bucket" || f.prefix != "a/b/" || f.String() != "s3://bucket/a/b/ at http://127.0.0.1:9000" {
		t.Fatalf("bucket %q prefix %q where %q", f.bucket, f.prefix, f)
	}
}

// BenchmarkWrite streams an item of 128 MiB (evidence.DefaultMaxSize)
// into the bucket from a reader that holds none of it, and reports the
// most heap the write held at once: bounded by the part size, not the
// item's.
func BenchmarkWrite(b *testing.B) {
	s := s3test.Start(b)
	f := open(b, s, s.Bucket(b), "")
	const n = evidence.DefaultMaxSize
	b.SetBytes(n)
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		p := evidencetest.Peak(func() {
			if err := f.Write("big.sgev", &pattern{n: n}); err != nil {
				b.Fatal(err)
			}
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
