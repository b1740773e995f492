package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// A hotline's video list end to end: a video imported (hashed on import),
// a reference vPDQ hash file and a python-threatexchange signal string
// imported, then a video matched against them with --format json; the
// percentages are python-threatexchange's for those two videos.
func TestBankImportVideoAndMatch(t *testing.T) {
	needTestdata(t)
	needFFmpeg(t)
	data := "--data=" + t.TempDir()
	dir := t.TempDir()
	mustRun := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := run(t, "", append(args, data)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d; stderr: %s", args, code, want, errs)
		}
		return out
	}
	chair20 := filepath.Join(testdata, "tmk/sample-videos/chair-20-sd-bar.mp4")
	origHashes := filepath.Join(testdata, "vpdq/sample-hashes/chair-orig-22-sd-bar.txt")
	logoHashes := filepath.Join(testdata, "vpdq/sample-hashes/chair-22-with-large-logo-bar.txt")

	// The signal string of the logo video, as HMA would hold it.
	sigFile := filepath.Join(dir, "logo.json")
	os.WriteFile(sigFile, []byte(vpdq.FormatSignal(readFrames(t, logoHashes))+"\n"), 0o644)

	mustRun(0, "bank", "create", "videos")
	mustRun(0, "bank", "create", "strict", "--vpdq-threshold", "99.5")
	out := mustRun(0, "bank", "import", "videos", chair20, origHashes, sigFile)
	for _, want := range []string{"chair-20-sd-bar.mp4: 3 added", "chair-orig-22-sd-bar.txt: 1 added", "logo.json: 1 added"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output %q: want %q", out, want)
		}
	}
	mustRun(0, "bank", "import", "strict", origHashes)
	if out := mustRun(0, "bank", "import", "videos", origHashes); !strings.Contains(out, "0 added, 1 already") {
		t.Errorf("second import: %q", out)
	}

	// chair-20 at one frame a second: its MD5, SHA-256 and vPDQ (100/100)
	// in videos, and chair-orig-22's every-frame hashes in both banks at
	// the rule's figures for the reference's frames 0, 30, ... of chair-20
	// (which our hashes equal); not the logo video (about 10 %).
	ref := readFrames(t, filepath.Join(testdata, "vpdq/sample-hashes/chair-20-sd-bar.txt"))
	var sampled []vpdq.Frame
	for i := 0; i < len(ref); i += 30 {
		sampled = append(sampled, ref[i])
	}
	r := vpdq.DefaultRule.Compare(sampled, readFrames(t, origHashes))
	origPct := fmt.Sprintf("%.2f/%.2f", r.QueryPercent, r.ComparedPercent)
	out = mustRun(0, "match", "--format", "json", chair20)
	type line struct {
		Query           string   `json:"query"`
		Bank            string   `json:"bank"`
		Entry           int64    `json:"entry"`
		Signal          string   `json:"signal"`
		QueryPercent    *float64 `json:"query_match_percent"`
		ComparedPercent *float64 `json:"compared_match_percent"`
	}
	got := map[string]int{}
	var pcts []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m line
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if m.Query != chair20 || m.Entry == 0 {
			t.Errorf("line %q: want query %s and an entry", l, chair20)
		}
		got[m.Bank+"/"+m.Signal]++
		if m.Signal == "vpdq" {
			pcts = append(pcts, fmt.Sprintf("%s %.2f/%.2f", m.Bank, *m.QueryPercent, *m.ComparedPercent))
		} else if m.QueryPercent != nil {
			t.Errorf("line %q: percentages on a digest match", l)
		}
	}
	if got["videos/md5"] != 1 || got["videos/sha256"] != 1 || got["videos/vpdq"] != 2 || got["strict/vpdq"] != 1 || len(got) != 4 {
		t.Errorf("matches %v (%s)", got, out)
	}
	wantPcts := map[string]bool{"videos 100.00/100.00": true, "videos " + origPct: true, "strict " + origPct: true}
	for _, p := range pcts {
		if !wantPcts[p] {
			t.Errorf("vPDQ match %q: want one of %v", p, wantPcts)
		}
	}

	// --bank narrows, and CSV names the percentages.
	out = mustRun(0, "match", "--bank", "strict", chair20)
	if want := chair20 + ",vpdq:" + strings.ReplaceAll(origPct, "/", "%/") + "%,0,strict,"; !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 {
		t.Errorf("csv: %q", out)
	}
}

func readFrames(t *testing.T, path string) []vpdq.Frame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames, err := vpdq.ReadText(f)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}
