package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media"
)

const testdata = "../../testdata/threatexchange"

func needTestdata(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(testdata); err != nil {
		t.Fatalf("reference test data missing at %s: it is part of the repository (testdata/threatexchange)", testdata)
	}
}

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// The csv output is the reference pdq-photo-hasher's, so the two can be
// diffed: for lossless images, line for line the same.
func TestHashCSVMatchesReference(t *testing.T) {
	needTestdata(t)
	want := map[string]string{} // path -> line
	f, err := os.Open(filepath.Join(testdata, "expected-pdq.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var pngs []string
	for sc.Scan() {
		line := sc.Text()
		path := line[strings.LastIndex(line, ",")+1:]
		if strings.HasSuffix(path, ".png") {
			want[filepath.Join(testdata, path)] = line[:strings.LastIndex(line, ",")+1] + filepath.Join(testdata, path)
			pngs = append(pngs, filepath.Join(testdata, path))
		}
	}
	code, out, errs := run(t, strings.Join(pngs, "\n")+"\n", "hash", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(pngs) {
		t.Fatalf("%d lines for %d files:\n%s", len(lines), len(pngs), out)
	}
	for i, line := range lines {
		if line != want[pngs[i]] {
			t.Errorf("line %d:\n got %s\nwant %s", i, line, want[pngs[i]])
		}
	}
}

func TestHashDirectoryJSONAndBadFiles(t *testing.T) {
	needTestdata(t)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(testdata, "pdq/data/bridge-mods/aaa-orig.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "a.jpg"), src, 0o644)
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte("not an image"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.jpg"), src[:len(src)/3], 0o644)
	os.WriteFile(filepath.Join(dir, "empty.png"), nil, 0o644)

	code, out, errs := run(t, "", "hash", "--format", "json", "--dihedral", dir, filepath.Join(dir, "missing.jpg"))
	if code != 1 {
		t.Errorf("exit %d, want 1 after bad files", code)
	}
	var got []hashJSON
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var j hashJSON
		if err := json.Unmarshal([]byte(line), &j); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, j)
	}
	if len(got) != 1 {
		t.Fatalf("want one good image, got %d:\n%s", len(got), out)
	}
	j := got[0]
	if j.Path != filepath.Join(dir, "sub", "a.jpg") || j.Quality != 100 || j.Format != "jpeg" ||
		j.MD5 == "" || len(j.SHA256) != 64 || j.Dihedral == nil || j.Dihedral.Original != j.PDQ {
		t.Errorf("unexpected record %+v", j)
	}
	for _, name := range []string{"b.txt", "c.jpg", "empty.png", "missing.jpg"} {
		if !strings.Contains(errs, name) {
			t.Errorf("stderr does not name %s:\n%s", name, errs)
		}
	}
}

func TestHashUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"hash", "--format", "xml", "x"},
		{"hash", "--mode", "quantum", "x"},
		{"hash"},
		{"nosuchcommand"},
	} {
		code, _, errs := run(t, "", args...)
		if code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
}

// With libjpeg-turbo at full size, the csv output is the reference's for
// every sample image, JPEGs included: `diff` finds nothing.
func TestHashTurboMatchesReferenceExactly(t *testing.T) {
	needTestdata(t)
	if !media.HaveLibjpeg {
		t.Skip("built without libjpeg-turbo")
	}
	want, err := os.ReadFile(filepath.Join(testdata, "expected-pdq.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		paths = append(paths, line[strings.LastIndex(line, ",")+1:])
	}
	t.Chdir(testdata) // the reference printed paths relative to it
	code, out, errs := run(t, strings.Join(paths, "\n")+"\n", "hash", "--mode", "turbo", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != string(want) {
		t.Errorf("output differs from expected-pdq.csv:\n%s", out)
	}
}
