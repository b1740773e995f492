package cli

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/network/platformgen"
)

func TestNetworkGenerateDetect(t *testing.T) {
	dir := t.TempDir()
	truthPath := filepath.Join(dir, "truth.json")
	code, events, stderr := run(t, "", "network", "generate", "--seed", "3", "--accounts", "800", "--children", "40", "--networks", "6,10", "--meme-reposts", "50", "--truth", truthPath)
	if code != 0 {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	var truth platformgen.Truth
	b, err := os.ReadFile(truthPath)
	if err != nil || json.Unmarshal(b, &truth) != nil || len(truth.Networks) != 2 {
		t.Fatalf("truth file: %v, %d networks", err, len(truth.Networks))
	}
	planted := map[string]bool{}
	for _, n := range truth.Networks {
		for _, m := range n.Members {
			planted[m] = true
		}
	}

	code, out, stderr := run(t, events, "network", "detect", "-")
	if code != 0 {
		t.Fatalf("detect: exit %d: %s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "account,network,score,role" {
		t.Errorf("header %v", rows[0])
	}
	right := 0
	for _, r := range rows[1:] {
		switch r[3] {
		case "member":
			if planted[r[0]] {
				right++
			}
		case "target":
		default:
			t.Errorf("row %v: role %q", r, r[3])
		}
	}
	if right < len(planted)*8/10 {
		t.Errorf("%d of %d planted members flagged:\n%s", right, len(planted), out)
	}

	code, out, stderr = run(t, events, "network", "detect", "--format", "json", "-")
	if code != 0 {
		t.Fatalf("detect --format json: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		var n network.Network
		if err := json.Unmarshal([]byte(l), &n); err != nil || n.ID == "" || len(n.Reasons) == 0 || len(n.Members) == 0 {
			t.Errorf("json line %.80s: %v", l, err)
		}
	}
	if len(lines) < 2 {
		t.Errorf("%d networks in json, want the 2 planted", len(lines))
	}
}

func TestNetworkDetectBadLines(t *testing.T) {
	in := `{"type":"account","id":"a","at":"2026-01-01T00:00:00Z"}
{"type":"post","id":"p"
`
	code, out, stderr := run(t, in, "network", "detect", "-")
	if code != 1 || !strings.Contains(stderr, "line 2") || out != "account,network,score,role\n" {
		t.Errorf("exit %d, stdout %q, stderr %q: want 1, the header only, and line 2 named", code, out, stderr)
	}
	if code, _, stderr := run(t, "", "network", "detect", "--format", "xml", "-"); code != 2 || !strings.Contains(stderr, "xml") {
		t.Errorf("unknown format: exit %d, %q", code, stderr)
	}
	if code, _, _ := run(t, "", "network", "detect", filepath.Join(t.TempDir(), "missing.jsonl")); code != 2 {
		t.Errorf("missing file: exit %d, want 2", code)
	}
}
