package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lereport/hotline"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
)

func TestEvidenceVerify(t *testing.T) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r := lereporttest.Sample()
	r.ID = 3
	var buf bytes.Buffer
	content := bytes.Repeat([]byte("preserved content "), 100)
	if _, err := hotline.Write(context.Background(), &buf, hotline.Package{
		Report: r, Files: lereporttest.NewFiles(map[string][]byte{r.Files[0].EvidenceID: content}), Recipient: priv.PublicKey(), Created: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.zip")
	os.WriteFile(good, buf.Bytes(), 0o644)
	key := filepath.Join(dir, "key.hex")
	os.WriteFile(key, []byte(hex.EncodeToString(priv.Bytes())+"\n"), 0o600)

	code, out, errs := run(t, "", "evidence", "verify", good)
	if code != 0 || !strings.Contains(out, "good.zip: ok") || !strings.Contains(out, "not decrypted") {
		t.Fatalf("good package: exit %d, %q %q", code, out, errs)
	}
	code, out, errs = run(t, "", "evidence", "verify", "--key", key, good)
	if code != 0 || !strings.Contains(out, "1 files decrypt") {
		t.Fatalf("good package with key: exit %d, %q %q", code, out, errs)
	}

	// One byte changed inside the encrypted file: verification fails and
	// names the member at fault.
	bad := bytes.Clone(buf.Bytes())
	i := bytes.Index(bad, []byte("files/"))
	if i < 0 {
		t.Fatal("no files/ member in the package")
	}
	// Flip a byte of the member's data, past its local header and name.
	bad[i+200] ^= 0xff
	badPath := filepath.Join(dir, "bad.zip")
	os.WriteFile(badPath, bad, 0o644)
	code, _, errs = run(t, "", "evidence", "verify", good, badPath)
	if code != 1 || !strings.Contains(errs, "bad.zip") || !strings.Contains(errs, "files/") {
		t.Errorf("tampered package: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := run(t, "", "evidence", "verify", filepath.Join(dir, "missing.zip")); code != 1 || !strings.Contains(errs, "missing.zip") {
		t.Errorf("missing package: exit %d, %q", code, errs)
	}
	os.WriteFile(key, []byte("zz"), 0o600)
	if code, _, errs := run(t, "", "evidence", "verify", "--key", key, good); code != 2 || !strings.Contains(errs, "X25519") {
		t.Errorf("bad key file: exit %d, %q", code, errs)
	}
}

// A data-request export is checked by the same command.
func TestEvidenceVerifyExport(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	req := lerequest.Request{ID: 4, Agency: "Police", LegalBasis: "order 7", Accounts: []string{"acct-1"},
		From: t0.Add(-24 * time.Hour), To: t0, Deadline: t0.Add(48 * time.Hour)}
	var buf bytes.Buffer
	if _, err := export.Write(&buf, req, export.Records{}, t0); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "export.zip")
	os.WriteFile(good, buf.Bytes(), 0o644)
	code, out, errs := run(t, "", "evidence", "verify", good)
	if code != 0 || !strings.Contains(out, "data request 4 export") {
		t.Fatalf("export: exit %d, %q %q", code, out, errs)
	}
	// One byte of the first member's data changed.
	bad := bytes.Clone(buf.Bytes())
	z, err := zip.NewReader(bytes.NewReader(bad), int64(len(bad)))
	if err != nil {
		t.Fatal(err)
	}
	off, err := z.File[0].DataOffset()
	if err != nil {
		t.Fatal(err)
	}
	bad[off+1] ^= 0xff
	os.WriteFile(good, bad, 0o644)
	if code, _, errs := run(t, "", "evidence", "verify", good); code != 1 || !strings.Contains(errs, ".json") {
		t.Errorf("tampered export: exit %d, %q", code, errs)
	}
}
