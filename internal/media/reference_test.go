package media_test

import (
	"bufio"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// testdata is the reference's sample images with the hashes its C++ hasher
// (libjpeg-turbo 2.1.5, libpng) printed for them; see SOURCE.txt there.
const testdata = "../../testdata/threatexchange"

type sample struct {
	path    string
	hashes  []pdq.Hash // one, or the eight dihedral hashes
	quality int
}

func readCSV(t *testing.T, name string) []sample {
	t.Helper()
	f, err := os.Open(filepath.Join(testdata, name))
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reference test data missing at %s: it is part of the repository (testdata/threatexchange)", testdata)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		n := len(fields)
		q, err := strconv.Atoi(fields[n-2])
		if err != nil {
			t.Fatalf("%s: %q: %v", name, sc.Text(), err)
		}
		s := sample{path: fields[n-1], quality: q}
		for _, h := range fields[:n-2] {
			p, err := pdq.ParseHex(h)
			if err != nil {
				t.Fatal(err)
			}
			s.hashes = append(s.hashes, p)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func hashFile(t *testing.T, h *pdq.Hasher, path string, opt media.Options, dihedral bool) (pdq.Result, image.Image) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, path))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := media.Decode(path, data, opt)
	if err != nil {
		t.Fatal(err)
	}
	return h.HashImage(img, dihedral), img
}

// Through media.Decode, PNGs hash exactly as the reference hashes them in
// every mode, and so do JPEGs decoded by libjpeg-turbo at full size (the
// reference's own decoder). Go's decoder and DCT scaling land close.
func TestReferenceHashes(t *testing.T) {
	type tally struct{ n, sum, worst int }
	modes := []struct {
		name  string
		opt   media.Options
		exact bool
	}{
		{"go", media.Options{JPEG: media.JPEGGo}, false},
		{"go-scaled", media.Options{JPEG: media.JPEGGoScaled}, false},
		{"turbo", media.Options{JPEG: media.JPEGTurbo, ForPDQ: true}, true},
		{"turbo-scaled", media.Options{JPEG: media.JPEGTurboScaled, ForPDQ: true}, false},
		{"auto", media.Options{ForPDQ: true}, false},
	}
	for _, m := range modes {
		if !media.HaveLibjpeg && (m.opt.JPEG == media.JPEGTurbo || m.opt.JPEG == media.JPEGTurboScaled) {
			continue
		}
		decoded := map[string]image.Image{} // each file decoded once, for both lists
		for _, file := range []string{"expected-pdq.csv", "expected-pdq-dihedral.csv"} {
			dihedral := strings.Contains(file, "dihedral")
			var jpegs tally
			var h pdq.Hasher
			for _, s := range readCSV(t, file) {
				img, ok := decoded[s.path]
				if !ok {
					_, img = hashFile(t, &h, s.path, m.opt, false)
					decoded[s.path] = img
				}
				r := h.HashImage(img, dihedral)
				got := []pdq.Hash{r.Hash}
				if dihedral {
					got = r.Dihedral[:]
				}
				lossless := strings.HasSuffix(s.path, ".png")
				for i := range got {
					d := pdq.Distance(got[i], s.hashes[i])
					switch {
					case lossless || m.exact:
						if d != 0 || r.Quality != s.quality {
							t.Errorf("%s %s %v: got %v q=%d, want %v q=%d (distance %d)", m.name, s.path, pdq.Dihedral(i), got[i], r.Quality, s.hashes[i], s.quality, d)
						}
					case d > 8:
						t.Errorf("%s %s %v: distance %d from the reference's, want <= 8", m.name, s.path, pdq.Dihedral(i), d)
					}
					if !lossless {
						jpegs.n++
						jpegs.sum += d
						jpegs.worst = max(jpegs.worst, d)
					}
				}
			}
			mean := float64(jpegs.sum) / float64(max(jpegs.n, 1))
			t.Logf("%s, %s: JPEG hashes a mean %.2f bits from the reference's, max %d, over %d", file, m.name, mean, jpegs.worst, jpegs.n)
			if mean > 2 {
				t.Errorf("%s, %s: JPEG hashes a mean %.2f bits from the reference's, want <= 2", file, m.name, mean)
			}
		}
	}
}
