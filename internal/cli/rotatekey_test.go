package cli

import (
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/evidence"
)

// A rotation: items kept under an old key are rewrapped under the new one,
// after which the old key can leave the keyring and every item still
// reads; an item whose key has gone is a clear ErrUnknownKey.
func TestEvidenceRotateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "evidence")
	oldKey, newKey := hex.EncodeToString([]byte(strings.Repeat("o", 32))), hex.EncodeToString([]byte(strings.Repeat("n", 32)))
	oldOnly, err := evidence.ParseKeyring("2025:" + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := evidence.Open(dir, oldOnly)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range []string{"first", "second", "third"} {
		item, err := st.Put([]byte(s), evidence.Meta{Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, item.ID)
	}

	t.Setenv("SAFEGUARD_EVIDENCE_KEYS", "2026:"+newKey)
	newOnly, _ := evidence.ParseKeyring("2026:" + newKey)
	before, _ := evidence.Open(dir, newOnly)
	if _, _, err := before.Get(ids[0]); !errors.Is(err, evidence.ErrUnknownKey) || !strings.Contains(err.Error(), `master key "2025"`) {
		t.Errorf("reading an item whose key is not in the keyring: %v, want ErrUnknownKey naming the key", err)
	}
	code, _, errs := run(t, "", "evidence", "rotate-key", "--evidence-dir", dir)
	if code != 1 || !strings.Contains(errs, "keep every key") || strings.Contains(errs, oldKey[:8]) || strings.Contains(errs, newKey[:8]) {
		t.Errorf("rotating without the old key: exit %d, %q; want 1 and a warning to keep the keys (and no key material)", code, errs)
	}

	t.Setenv("SAFEGUARD_EVIDENCE_KEYS", "2026:"+newKey+",2025:"+oldKey)
	code, out, errs := run(t, "", "evidence", "rotate-key", "--evidence-dir", dir)
	if code != 0 || !strings.Contains(out, `rewrapped 3 items under master key "2026"`) || !strings.Contains(out, "2025 may leave") {
		t.Fatalf("rotate-key: exit %d, %q %q", code, out, errs)
	}
	for i, id := range ids {
		data, item, err := before.Get(id)
		if err != nil || item.KeyID != "2026" || string(data) != []string{"first", "second", "third"}[i] {
			t.Errorf("item %d after rotation, with only the new key: %q, key %q, %v", i, data, item.KeyID, err)
		}
	}
	code, out, _ = run(t, "", "evidence", "rotate-key", "--evidence-dir", dir)
	if code != 0 || !strings.Contains(out, "rewrapped 0 items") {
		t.Errorf("a second rotation: exit %d, %q; want nothing moved", code, out)
	}
	t.Setenv("SAFEGUARD_EVIDENCE_KEYS", "")
	if code, _, errs := run(t, "", "evidence", "rotate-key", "--evidence-dir", dir); code != 2 || !strings.Contains(errs, "no keyring") {
		t.Errorf("no keyring: exit %d, %q", code, errs)
	}
}
