package hotline

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
)

// openBytes and verifyBytes are Open and Verify of a package in memory.
func openBytes(pkg []byte, priv *ecdh.PrivateKey) (*Contents, error) {
	return Open(bytes.NewReader(pkg), int64(len(pkg)), priv)
}

func verifyBytes(pkg []byte) (ManifestFile, error) {
	return Verify(bytes.NewReader(pkg), int64(len(pkg)))
}

// decrypted is encrypted member name of c.
func decrypted(t *testing.T, c *Contents, name string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.Decrypt(&b, name); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var when = time.Date(2026, 11, 25, 3, 15, 0, 0, time.UTC)

// sampleTwoFiles is the sample report, as report 7, with a second file.
func sampleTwoFiles() lereport.Report {
	r := lereporttest.Sample()
	r.ID = 7
	second := r.Files[0]
	second.EvidenceID = "fedcba9876543210fedcba9876543210"
	r.Files = append(r.Files, second)
	return r
}

func sampleMessages() []Message {
	return []Message{
		{Time: when.Add(-time.Hour), Conversation: "dm-1", From: "acct_9f", To: "acct_1c", Text: "hi, how old are you?"},
		{Time: when.Add(-time.Hour + time.Second), Conversation: "dm-1", From: "acct_1c", To: "acct_9f", Text: "13, \"why\"\n=1+1"},
	}
}

// build writes the sample report, with two files, as a package.
func build(t testing.TB) (pkg []byte, sum [32]byte, priv *ecdh.PrivateKey, files map[string][]byte) {
	t.Helper()
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r := sampleTwoFiles()
	files = map[string][]byte{r.Files[0].EvidenceID: []byte("the first file"), r.Files[1].EvidenceID: bytes.Repeat([]byte{0xd8}, 5000)}
	var b bytes.Buffer
	sum, err = Write(context.Background(), &b, Package{Report: r, Files: lereporttest.NewFiles(files), Messages: sampleMessages(), Recipient: priv.PublicKey(), Created: when})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), sum, priv, files
}

func TestWriteOpen(t *testing.T) {
	pkg, sum, priv, files := build(t)
	c, err := openBytes(pkg, priv)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files()) != 2 || c.Manifest.Format != Format {
		t.Fatalf("%d files, format %s; want 2, %s", len(c.Files()), c.Manifest.Format, Format)
	}
	for _, f := range c.Files() {
		if !bytes.Equal(decrypted(t, c, f.Name), files[f.EvidenceID]) || f.Name != FileMember(f.EvidenceID) {
			t.Errorf("file %s (%s): decrypted content differs", f.EvidenceID, f.Name)
		}
	}
	wantCSV := "time,conversation,from,to,text\n" +
		"2026-11-25T02:15:00Z,dm-1,acct_9f,acct_1c,\"hi, how old are you?\"\n" +
		"2026-11-25T02:15:01Z,dm-1,acct_1c,acct_9f,\"13, \"\"why\"\"\n=1+1\"\n"
	if csv := decrypted(t, c, ConversationsCSV); string(csv) != wantCSV {
		t.Errorf("conversations:\n%s\nwant\n%s", csv, wantCSV)
	}
	if bytes.Contains(pkg, []byte("how old")) {
		t.Error("the conversation appears in the package unencrypted")
	}
	if !bytes.Contains(c.ReportXML, []byte("<incidentType>Child Pornography")) {
		t.Errorf("report.xml:\n%s", c.ReportXML)
	}
	if c.Manifest.ReportID != 7 || c.Manifest.CaseID != "case-42" || !c.Manifest.Created.Equal(when) {
		t.Errorf("manifest %+v", c.Manifest)
	}
	// The returned digest is the manifest's, for the audit log.
	z, _ := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	for _, f := range z.File {
		if f.Name == Manifest {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			if sha256.Sum256(b) != sum {
				t.Error("Write's digest is not the manifest's SHA-256")
			}
		}
		if f.Name != Manifest && f.Name != KeyFile && !strings.HasPrefix(f.Name, "files/") && f.Name != ReportXML && f.Name != ReportJSON && f.Name != ConversationsCSV {
			t.Errorf("unexpected member %s", f.Name)
		}
	}
	// The JSON twin holds the same report.
	var tw twin
	if err := json.Unmarshal(member(t, pkg, ReportJSON), &tw); err != nil {
		t.Fatal(err)
	}
	if tw.Report.IncidentSummary.IncidentType != lereport.ChildPornography || len(tw.Files) != 2 || !tw.Files[0].FileViewedByESP {
		t.Errorf("report.json: %+v", tw)
	}
	// The files are not readable without the key.
	for id, content := range files {
		if bytes.Contains(pkg, content[:14]) {
			t.Errorf("file %s appears in the package unencrypted", id)
		}
	}
	other, _ := ecdh.X25519().GenerateKey(rand.Reader)
	if _, err := openBytes(pkg, other); err == nil || !strings.Contains(err.Error(), "another recipient") {
		t.Errorf("Open with another key: %v", err)
	}
}

func member(t *testing.T, pkg []byte, name string) []byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range z.File {
		if f.Name == name {
			rc, _ := f.Open()
			defer rc.Close()
			b, _ := io.ReadAll(rc)
			return b
		}
	}
	t.Fatalf("no member %s", name)
	return nil
}

// rewrite rebuilds the ZIP with edit applied to each member's bytes, the
// way someone altering a package would (so ZIP checksums are right).
func rewrite(t *testing.T, pkg []byte, edit func(name string, b []byte) (string, []byte)) []byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := zip.NewWriter(&out)
	for _, f := range z.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		name, b := edit(f.Name, b)
		if name == "" {
			continue
		}
		fw, _ := w.Create(name)
		fw.Write(b)
	}
	w.Close()
	return out.Bytes()
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i%len(b)] ^= 1
	return b
}

// TestTamper changes one byte of each member in turn, or removes or adds
// one: Verify or Open must fail and name the member.
func TestTamper(t *testing.T) {
	pkg, _, priv, _ := build(t)
	const file1 = "files/0123456789abcdef0123456789abcdef.enc"
	tests := []struct {
		name string
		edit func(name string, b []byte) (string, []byte)
		want string // in Verify's error; "" if only Open can tell
		open string // in Open's error
	}{
		{"a file's byte", func(n string, b []byte) (string, []byte) {
			if n == file1 {
				return n, flip(b, 20)
			}
			return n, b
		}, file1 + ": SHA-256", file1},
		{"the conversations", func(n string, b []byte) (string, []byte) {
			if n == ConversationsCSV {
				return n, flip(b, 40)
			}
			return n, b
		}, ConversationsCSV + ": SHA-256", ConversationsCSV},
		{"report.xml", func(n string, b []byte) (string, []byte) {
			if n == ReportXML {
				return n, bytes.Replace(b, []byte("acct_9f"), []byte("acct_9e"), 1)
			}
			return n, b
		}, ReportXML + ": SHA-256", ReportXML},
		{"a file removed", func(n string, b []byte) (string, []byte) {
			if n == file1 {
				return "", nil
			}
			return n, b
		}, file1 + ": missing", file1},
		{"a member added", func(n string, b []byte) (string, []byte) {
			if n == ReportXML {
				return "notes.txt", b
			}
			return n, b
		}, "notes.txt: not in the manifest (added)", "notes.txt"},
		{"files swapped", func(n string, b []byte) (string, []byte) {
			switch n {
			case file1:
				return "files/fedcba9876543210fedcba9876543210.enc", b
			case "files/fedcba9876543210fedcba9876543210.enc":
				return file1, b
			}
			return n, b
		}, file1, file1},
		// The manifest rewritten to match an altered member: the member
		// check passes, but the content key no longer unwraps.
		{"manifest and member", func(n string, b []byte) (string, []byte) {
			switch n {
			case ReportXML:
				return n, bytes.Replace(b, []byte("acct_9f"), []byte("acct_9e"), 1)
			case Manifest:
				old := sha256.Sum256(member(t, pkg, ReportXML))
				nw := sha256.Sum256(bytes.Replace(member(t, pkg, ReportXML), []byte("acct_9f"), []byte("acct_9e"), 1))
				return n, bytes.Replace(b, fmt.Appendf(nil, "%x", old), fmt.Appendf(nil, "%x", nw), 1)
			}
			return n, b
		}, "", "manifest.json or key.json was altered"},
		{"manifest byte", func(n string, b []byte) (string, []byte) {
			if n == Manifest {
				return n, bytes.Replace(b, []byte(`"case-42"`), []byte(`"case-43"`), 1)
			}
			return n, b
		}, "", "manifest.json or key.json was altered"},
		{"key", func(n string, b []byte) (string, []byte) {
			if n == KeyFile {
				var k KeyJSON
				json.Unmarshal(b, &k)
				k.WrappedKey = flip(k.WrappedKey, 3)
				b, _ = json.Marshal(k)
			}
			return n, b
		}, "", "manifest.json or key.json was altered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := rewrite(t, pkg, tt.edit)
			_, err := verifyBytes(bad)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Verify = %v, want nil (only the key can tell)", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Verify = %v, want an error containing %q", err, tt.want)
			}
			if _, err := openBytes(bad, priv); err == nil || !strings.Contains(err.Error(), tt.open) {
				t.Errorf("Open = %v, want an error containing %q", err, tt.open)
			}
		})
	}
	// A byte flipped in place, without fixing the ZIP's checksum.
	z, _ := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	for _, f := range z.File {
		if f.Name != file1 {
			continue
		}
		off, _ := f.DataOffset()
		if _, err := verifyBytes(flip(pkg, int(off)+30)); err == nil || !strings.Contains(err.Error(), file1) {
			t.Errorf("Verify of a package with a flipped byte = %v", err)
		}
	}
}

func TestWriteRefusesInvalid(t *testing.T) {
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	r := lereporttest.Sample()
	r.Document.IncidentSummary.IncidentType = "Other"
	_, err := Write(context.Background(), io.Discard, Package{Report: r, Files: lereporttest.NewFiles(nil), Recipient: priv.PublicKey(), Created: when})
	if err == nil || !strings.Contains(err.Error(), "report/incidentSummary/incidentType") {
		t.Errorf("Write of an invalid report = %v", err)
	}
	p256, _ := ecdh.P256().GenerateKey(rand.Reader)
	if _, err := Write(context.Background(), io.Discard, Package{Report: lereporttest.Sample(), Files: lereporttest.NewFiles(nil), Recipient: p256.PublicKey(), Created: when}); err == nil {
		t.Error("Write accepted a P-256 recipient key")
	}
}

// FuzzVerify: a package is outside input.
func FuzzVerify(f *testing.F) {
	pkg, _, _, _ := build(f)
	f.Add(pkg)
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, b []byte) {
		verifyBytes(b)
	})
}

func BenchmarkVerify(b *testing.B) {
	pkg, _, _, _ := build(b)
	for b.Loop() {
		if _, err := verifyBytes(pkg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite1MiB(b *testing.B) {
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	r := lereporttest.Sample()
	files := lereporttest.NewFiles(map[string][]byte{r.Files[0].EvidenceID: bytes.Repeat([]byte{1}, 1<<20)})
	b.SetBytes(1 << 20)
	for b.Loop() {
		if _, err := Write(context.Background(), io.Discard, Package{Report: r, Files: files, Recipient: priv.PublicKey(), Created: when}); err != nil {
			b.Fatal(err)
		}
	}
}
