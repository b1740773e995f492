package cli

import (
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/evidence/s3"
	"github.com/safeguard-oss/safeguard/internal/evidence/s3/s3test"
)

// An evidence directory moves into a bucket with evidence copy (sealed as
// it is, holds and all), and rotate-key rewraps the items there.
func TestEvidenceCopyToBucket(t *testing.T) {
	srv := s3test.Start(t)
	url := srv.URL(t, srv.Bucket(t), "evidence")
	dir := filepath.Join(t.TempDir(), "evidence")
	oldKey, newKey := hex.EncodeToString([]byte(strings.Repeat("o", 32))), hex.EncodeToString([]byte(strings.Repeat("n", 32)))
	kr, _ := evidence.ParseKeyring("2025:" + oldKey)
	st, err := evidence.Open(dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	item, err := st.Put([]byte("kept content"), evidence.Meta{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}

	code, out, errs := run(t, "", "evidence", "copy", "--from", dir, "--evidence-url", url)
	if code != 0 || !strings.Contains(out, "copied 2 files") || !strings.Contains(out, "s3://") {
		t.Fatalf("evidence copy: exit %d, %q %q", code, out, errs)
	}
	t.Setenv("SAFEGUARD_EVIDENCE_KEYS", "2026:"+newKey+",2025:"+oldKey)
	if code, out, errs := run(t, "", "evidence", "rotate-key", "--evidence-url", url); code != 0 || !strings.Contains(out, "rewrapped 1 items") {
		t.Fatalf("rotate-key in the bucket: exit %d, %q %q", code, out, errs)
	}
	files, err := s3.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	newOnly, _ := evidence.ParseKeyring("2026:" + newKey)
	inBucket, _ := evidence.OpenFiles(files, newOnly)
	data, got, err := inBucket.Get(item.ID)
	if err != nil || string(data) != "kept content" || got.KeyID != "2026" {
		t.Fatalf("the item in the bucket: %q key %q, %v", data, got.KeyID, err)
	}
	if rc, _, err := files.Open(item.ID + ".hold"); err != nil {
		t.Errorf("its hold in the bucket: %v", err)
	} else {
		rc.Close()
	}

	bad := "s3://" + strings.Repeat("x", 2) + "?endpoint=http://" + srv.Endpoint
	if code, _, errs := run(t, "", "evidence", "copy", "--from", dir, "--evidence-url", bad); code == 0 || !strings.Contains(errs, "bucket") {
		t.Errorf("copy to a bad bucket name: exit %d, %q", code, errs)
	}
}
