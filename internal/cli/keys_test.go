package cli

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/hotline"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
)

func TestEvidenceKeygen(t *testing.T) {
	code, out, errs := run(t, "", "evidence", "keygen", "--id", "2026-12")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	spec := strings.TrimSpace(out)
	kr, err := evidence.ParseKeyring(spec)
	if err != nil || kr.Current() != "2026-12" {
		t.Fatalf("keygen printed %q: %v", spec, err)
	}
	_, again, _ := run(t, "", "evidence", "keygen", "--id", "2026-12")
	if again == out {
		t.Error("two keygens printed the same key")
	}
	if code, _, errs := run(t, "", "evidence", "keygen", "--id", "a:b"); code == 0 || !strings.Contains(errs, "id") {
		t.Errorf("bad id: exit %d, %q", code, errs)
	}
}

// A hotline's key pair opens the packages made for its public key: keygen,
// a package for PREFIX.pub, evidence open with PREFIX.key writes the
// decrypted members; a tampered package is not opened.
func TestHotlineKeygenAndOpen(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "hotline")
	code, out, errs := run(t, "", "hotline", "keygen", "--out", prefix)
	if code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, errs)
	}
	if info, err := os.Stat(prefix + ".key"); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v, %v; want mode 0600", info, err)
	}
	if code, _, _ := run(t, "", "hotline", "keygen", "--out", prefix); code == 0 {
		t.Error("keygen overwrote an existing key pair")
	}
	pubText, _ := os.ReadFile(prefix + ".pub")
	if !strings.Contains(out, strings.TrimSpace(string(pubText))) {
		t.Errorf("keygen output %q lacks the public key", out)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(pubText)))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ecdh.X25519().NewPublicKey(raw)
	if err != nil {
		t.Fatal(err)
	}

	r := lereporttest.Sample()
	r.ID = 9
	content := bytes.Repeat([]byte("preserved "), 300)
	msgs := []lereport.Message{{Time: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), Conversation: "dm-1", From: "a", To: "b", Text: "hi", Flagged: true}}
	var buf bytes.Buffer
	if _, err := hotline.Write(context.Background(), &buf, hotline.Package{
		Report: r, Files: lereporttest.NewFiles(map[string][]byte{r.Files[0].EvidenceID: content}), Messages: msgs, Recipient: pub, Created: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(dir, "p.zip")
	os.WriteFile(pkg, buf.Bytes(), 0o644)
	opened := filepath.Join(dir, "opened")
	code, out, errs = run(t, "", "evidence", "open", "--key", prefix+".key", pkg, opened)
	if code != 0 || !strings.Contains(out, "1 files decrypted") {
		t.Fatalf("open: exit %d, %q %q", code, out, errs)
	}
	got, err := os.ReadFile(filepath.Join(opened, "files", r.Files[0].EvidenceID))
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("decrypted file: %d bytes, %v; want the %d preserved", len(got), err, len(content))
	}
	for _, name := range []string{"report.xml", "report.json", "manifest.json", "conversations.csv"} {
		if b, err := os.ReadFile(filepath.Join(opened, name)); err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
	if csv, _ := os.ReadFile(filepath.Join(opened, "conversations.csv")); !strings.Contains(string(csv), "dm-1") {
		t.Errorf("conversations.csv = %q; want the conversation", csv)
	}
	if code, _, errs := run(t, "", "evidence", "open", "--key", prefix+".key", pkg, opened); code == 0 || !strings.Contains(errs, "not empty") {
		t.Errorf("open into a used directory: exit %d, %q", code, errs)
	}

	bad := bytes.Clone(buf.Bytes())
	bad[bytes.Index(bad, []byte("files/"))+200] ^= 0xff
	os.WriteFile(pkg, bad, 0o644)
	other := filepath.Join(dir, "other")
	if code, _, errs := run(t, "", "evidence", "open", "--key", prefix+".key", pkg, other); code == 0 || !strings.Contains(errs, "files/") {
		t.Errorf("tampered package: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("a tampered package was written out")
	}
}

// The embedded default makes its keyring once, 0600, says so, and reads
// it on the next start; a keyring others can read is refused.
func TestEmbeddedKeyring(t *testing.T) {
	data := t.TempDir()
	var errb bytes.Buffer
	e := &env{stdout: &bytes.Buffer{}, stderr: &errb}
	spec, err := embeddedKeyring(e, data)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(data, keyringFile)
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("keyring file %v, %v; want mode 0600", info, err)
	}
	if !strings.Contains(errb.String(), path) || !strings.Contains(errb.String(), "SAFEGUARD_EVIDENCE_KEYS") {
		t.Errorf("first start said %q; want the file and how to move it", errb.String())
	}
	if _, err := evidence.ParseKeyring(spec); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	again, err := embeddedKeyring(e, data)
	if err != nil || again != spec || errb.Len() != 0 {
		t.Errorf("second start: %q, %v, said %q; want the same keyring, quietly", again, err, errb.String())
	}
	os.Chmod(path, 0o644)
	if _, err := embeddedKeyring(e, data); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a keyring others can read: %v; want refused", err)
	}
}

// A package of the format before (hotline.FormatV1, files sealed whole),
// which hotlines already hold, still verifies and opens.
func TestOpenVersion1Package(t *testing.T) {
	pkg, key := "../lereport/hotline/testdata/v1.zip", "../lereport/hotline/testdata/v1.key"
	if code, out, errs := run(t, "", "evidence", "verify", "--key", key, pkg); code != 0 || !strings.Contains(out, "2 files decrypt") {
		t.Fatalf("verify: exit %d, %q %q", code, out, errs)
	}
	dir := filepath.Join(t.TempDir(), "opened")
	if code, out, errs := run(t, "", "evidence", "open", "--key", key, pkg, dir); code != 0 || !strings.Contains(out, "2 files decrypted") {
		t.Fatalf("open: exit %d, %q %q", code, out, errs)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "files", "0123456789abcdef0123456789abcdef")); err != nil || string(got) != "the first file" {
		t.Errorf("decrypted file: %q, %v", got, err)
	}
	if csv, err := os.ReadFile(filepath.Join(dir, "conversations.csv")); err != nil || !strings.Contains(string(csv), "how old are you") {
		t.Errorf("conversations.csv: %q, %v", csv, err)
	}
}
