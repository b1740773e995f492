package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNoticeCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "notices.json")
	os.WriteFile(path, []byte(`{"org": "Hotline", "smtp": "mail.example:587", "from": "n@hotline.example",
		"authority": "reg@authority.example", "escalate_after": "168h",
		"hosts": {"img.example": {"url": "https://img.example/abuse", "token_env": "SG_IMG_TOKEN"}}}`), 0o600)
	code, out, errs := run(t, "", "notice", "check", path)
	if code != 0 {
		t.Fatalf("check: %d %s", code, errs)
	}
	for _, want := range []string{"e-mail through mail.example:587", "escalate to reg@authority.example after 168h0m0s", "token from $SG_IMG_TOKEN", "check every 6h0m0s"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	os.WriteFile(path, []byte(`{"smtp": "mail.example:587"}`), 0o600)
	if code, _, errs := run(t, "", "notice", "check", path); code != 2 || !strings.Contains(errs, "from is not") {
		t.Errorf("smtp without from: %d %s", code, errs)
	}

	data := "--data=" + dir
	if code, out, errs := run(t, "", "notice", "add", data, "--url=https://img.example/a.jpg", "--contact=abuse@img.example", "--legal-basis=Art. 16 DSA"); code != 0 || !strings.Contains(out, "notice 1:") {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	if code, _, errs := run(t, "", "notice", "add", data, "--url=ftp://x", "--legal-basis=x"); code != 2 || !strings.Contains(errs, "http or https") {
		t.Errorf("bad add: %d %s", code, errs)
	}
	if code, out, _ := run(t, "", "notice", "list", data); code != 0 || !strings.Contains(out, "open") || !strings.Contains(out, "img.example") {
		t.Errorf("list: %d %s", code, out)
	}
	if code, out, _ := run(t, "", "notice", "figures", data); code != 0 || !strings.Contains(out, "img.example") {
		t.Errorf("figures: %d %s", code, out)
	}
	if code, out, errs := run(t, "", "notice", "withdraw", data, "1", "--reason=dup"); code != 0 || !strings.Contains(out, "withdrawn") {
		t.Errorf("withdraw: %d %s %s", code, out, errs)
	}
}
