package bank

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestWriteGolden pins the exported files byte for byte: other tools read
// them, so a change must be deliberate (go test -update, then review).
func TestWriteGolden(t *testing.T) {
	for _, tc := range []struct {
		f    Format
		file string
	}{
		{Text, "export.txt"},
		{CSV, "export.csv"},
		{HMA, "export.hma.csv"},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, tc.f, entrySeq(sampleEntries())); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", tc.file)
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s export differs from %s:\n%s", tc.f, path, buf.Bytes())
		}
	}
}
