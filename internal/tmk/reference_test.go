package tmk

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/media/video"
)

const videoDir = "../../testdata/threatexchange/tmk/sample-videos"

// Tolerances against the reference's files, measured over the ten sample
// videos (docs/video.md): features agree to round-off, scores to 1e-4.
const (
	featureTol = 1e-4 // absolute, per value (unit-length vectors scaled by √aj)
	averageTol = 1e-3 // relative to the average's largest value
	scoreTol   = 1e-3
)

func samples(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob("testdata/reference/*.tmk")
	if err != nil || len(names) != 10 {
		t.Fatalf("reference .tmk files: %v, %d found", err, len(names))
	}
	for i, n := range names {
		names[i] = strings.TrimSuffix(filepath.Base(n), ".tmk")
	}
	return names
}

func readRef(t testing.TB, name string) (*Features, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata/reference", name+".tmk"))
	if err != nil {
		t.Fatal(err)
	}
	var f Features
	if err := f.UnmarshalBinary(data); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &f, data
}

// TestRoundTrip: every reference file reads and writes back byte for byte.
func TestRoundTrip(t *testing.T) {
	for _, name := range samples(t) {
		f, data := readRef(t, name)
		out, _ := f.MarshalBinary()
		if !bytes.Equal(out, data) {
			t.Errorf("%s: written back differs", name)
		}
		if f.FrameCount == 0 {
			t.Errorf("%s: frame count 0", name)
		}
	}
}

// refScores reads tmk-two-level-score's output (testdata SOURCE).
func refScores(t *testing.T) map[[2]string][2]float64 {
	t.Helper()
	fh, err := os.Open("testdata/reference-scores.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	out := map[[2]string][2]float64{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var s1, s2 float64
		var a, b string
		if _, err := fmt.Sscan(sc.Text(), &s1, &s2, &a, &b); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		a, b = strings.TrimSuffix(a, ".tmk"), strings.TrimSuffix(b, ".tmk")
		out[[2]string{a, b}] = [2]float64{s1, s2}
		out[[2]string{b, a}] = [2]float64{s1, s2}
	}
	return out
}

// checkScores compares every ordered pair of feats with the reference's
// scores and decisions.
func checkScores(t *testing.T, feats map[string]*Features, label string) (worst float64) {
	t.Helper()
	want := refScores(t)
	matches := 0
	for a, fa := range feats {
		for b, fb := range feats {
			w, ok := want[[2]string{a, b}]
			if !ok {
				t.Fatalf("no reference score for %s %s", a, b)
			}
			l1, l2 := float64(Level1(fa, fb)), float64(Level2(fa, fb))
			worst = max(worst, math.Abs(l1-w[0]), math.Abs(l2-w[1]))
			if math.Abs(l1-w[0]) > scoreTol || math.Abs(l2-w[1]) > scoreTol {
				t.Errorf("%s: %s vs %s: level1 %.6f level2 %.6f, reference %.6f %.6f", label, a, b, l1, l2, w[0], w[1])
			}
			s := Compare(fa, fb)
			wantMatch := w[0] >= Level1Threshold && w[1] >= Level2Threshold
			if s.Match != wantMatch {
				t.Errorf("%s: %s vs %s: match %t, reference %t", label, a, b, s.Match, wantMatch)
			}
			if s.Match {
				matches++
			}
		}
	}
	t.Logf("%s: %d ordered pairs, %d matches, worst score difference %.2g", label, len(feats)*len(feats), matches, worst)
	if matches <= len(feats) || matches == len(feats)*len(feats) {
		t.Errorf("%s: %d matches of %d pairs: the samples should give both decisions", label, matches, len(feats)*len(feats))
	}
	return worst
}

// TestReferenceScores: our Level1/Level2 on the reference's own files give
// tmk-two-level-score's printed figures.
func TestReferenceScores(t *testing.T) {
	feats := map[string]*Features{}
	for _, name := range samples(t) {
		feats[name], _ = readRef(t, name)
	}
	checkScores(t, feats, "reference files")
}

var hashed struct {
	once  sync.Once
	feats map[string]*Features
	err   error
}

func hashSamples(t *testing.T) map[string]*Features {
	t.Helper()
	if err := video.Available(); err != nil {
		t.Skip(err)
	}
	hashed.once.Do(func() {
		hashed.feats = map[string]*Features{}
		for _, name := range samples(t) {
			f, _, err := HashFile(context.Background(), filepath.Join(videoDir, name+".mp4"), video.Limits{})
			if err != nil {
				hashed.err = err
				return
			}
			hashed.feats[name] = f
		}
	})
	if hashed.err != nil {
		t.Fatal(hashed.err)
	}
	return hashed.feats
}

// TestHashFile: our features of the sample videos agree with the
// reference's files within the stated tolerances, and so do the scores and
// decisions for every ordered pair.
func TestHashFile(t *testing.T) {
	feats := hashSamples(t)
	var worstFeat, worstAvg float64
	identical := 0
	for name, got := range feats {
		want, wantBytes := readRef(t, name)
		if out, _ := got.MarshalBinary(); bytes.Equal(out, wantBytes) {
			identical++
		}
		if got.FrameCount != want.FrameCount {
			t.Errorf("%s: %d frames, reference %d", name, got.FrameCount, want.FrameCount)
		}
		var top float64
		for _, v := range want.Average {
			top = max(top, math.Abs(float64(v)))
		}
		for k := range want.Average {
			worstAvg = max(worstAvg, math.Abs(float64(got.Average[k]-want.Average[k]))/top)
		}
		for i := range Periods {
			for j := range Coefficients {
				for k := 0; k < Dim; k++ {
					worstFeat = max(worstFeat,
						math.Abs(float64(got.Cos[i][j][k]-want.Cos[i][j][k])),
						math.Abs(float64(got.Sin[i][j][k]-want.Sin[i][j][k])))
				}
			}
		}
	}
	// Measured with Debian's ffmpeg 5.1: all ten are the reference's bytes.
	// Another ffmpeg may scale differently; the tolerances below still hold
	// the decisions.
	t.Logf("%d of %d .tmk files byte for byte the reference's", identical, len(feats))
	if identical != len(feats) {
		t.Errorf("%d of %d .tmk files identical to the reference's", identical, len(feats))
	}
	t.Logf("worst cos/sin difference %.2g (tolerance %g); worst average difference %.2g of its largest value (tolerance %g)", worstFeat, featureTol, worstAvg, averageTol)
	if worstFeat > featureTol || worstAvg > averageTol {
		t.Errorf("features differ from the reference's beyond tolerance")
	}
	checkScores(t, feats, "our hashes")
}
