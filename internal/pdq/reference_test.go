package pdq_test

import (
	"bufio"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// testdata is the reference implementation's sample images, with the hashes
// its C++ hasher prints for them (see SOURCE.txt there).
const testdata = "../../testdata/threatexchange"

type expected struct {
	path     string
	hashes   []pdq.Hash // one, or the eight dihedral hashes
	quality  int
	lossless bool
}

func readExpected(t *testing.T, name string) []expected {
	t.Helper()
	f, err := os.Open(filepath.Join(testdata, name))
	if os.IsNotExist(err) {
		t.Fatalf("reference test data missing at %s: it is part of the repository (testdata/threatexchange)", testdata)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []expected
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		n := len(fields)
		q, err := strconv.Atoi(fields[n-2])
		if err != nil {
			t.Fatalf("%s: %q: %v", name, sc.Text(), err)
		}
		e := expected{path: fields[n-1], quality: q, lossless: strings.HasSuffix(fields[n-1], ".png")}
		for _, s := range fields[:n-2] {
			h, err := pdq.ParseHex(s)
			if err != nil {
				t.Fatal(err)
			}
			e.hashes = append(e.hashes, h)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func decodeFile(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(filepath.Join(testdata, path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// Lossless images must give exactly the reference's hash and quality; JPEGs
// decoded by Go's decoder (not libjpeg) land close.
func TestReferenceHashes(t *testing.T) {
	for _, dihedral := range []bool{false, true} {
		name := "expected-pdq.csv"
		if dihedral {
			name = "expected-pdq-dihedral.csv"
		}
		var h pdq.Hasher
		var sum, count, worst int
		for _, e := range readExpected(t, name) {
			r := h.HashImage(decodeFile(t, e.path), dihedral)
			got := []pdq.Hash{r.Hash}
			if dihedral {
				got = r.Dihedral[:]
			}
			if len(got) != len(e.hashes) {
				t.Fatalf("%s: %d hashes, want %d", e.path, len(got), len(e.hashes))
			}
			for i := range got {
				d := pdq.Distance(got[i], e.hashes[i])
				if e.lossless && (d != 0 || r.Quality != e.quality) {
					t.Errorf("%s %v: got %v q=%d, want %v q=%d (distance %d)", e.path, pdq.Dihedral(i), got[i], r.Quality, e.hashes[i], e.quality, d)
				}
				if !e.lossless {
					sum += d
					count++
					worst = max(worst, d)
					if d > 8 {
						t.Errorf("%s %v: distance %d from the reference's", e.path, pdq.Dihedral(i), d)
					}
				}
			}
		}
		if count > 0 {
			mean := float64(sum) / float64(count)
			t.Logf("%s: Go-decoded JPEGs: mean distance %.2f, max %d over %d hashes", name, mean, worst, count)
			if mean > 2 {
				t.Errorf("%s: mean distance %.2f from the reference's, want <= 2", name, mean)
			}
		}
	}
}
