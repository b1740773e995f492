package tmk

import (
	"context"
	"path/filepath"
	"time"

	"fmt"
	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"math"
	"math/rand/v2"
	"testing"
)

// TestIndex: the index's two-level search finds exactly the pairs Compare
// matches among the reference's sample files, with the same scores.
func TestIndex(t *testing.T) {
	feats := map[int64]*Features{}
	names := samples(t)
	var x Index
	for i, name := range names {
		feats[int64(i)], _ = readRef(t, name)
		x.Add(int64(i), feats[int64(i)])
	}
	load := func(id int64) (*Features, error) { return feats[id], nil }
	for qi, q := range feats {
		hits, err := x.Search(q, load)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]Score{}
		for _, h := range hits {
			got[h.ID] = h.Score
		}
		for id, f := range feats {
			want := Compare(q, f)
			g, ok := got[id]
			if ok != want.Match {
				t.Errorf("%s vs %s: index match %t, Compare %v", names[qi], names[id], ok, want)
			}
			if ok && (math.Abs(float64(g.Level1-want.Level1)) > 1e-5 || g.Level2 != want.Level2) {
				t.Errorf("%s vs %s: index %v, Compare %v", names[qi], names[id], g, want)
			}
		}
	}
	x.Remove(3)
	x.Remove(3)
	if x.Len() != len(names)-1 {
		t.Fatalf("after removal: %d videos", x.Len())
	}
	for _, c := range x.Level1(feats[3], -1) {
		if c.ID == 3 {
			t.Fatal("a removed video is still found")
		}
	}
	hits, _ := x.Search(feats[9], load)
	if len(hits) == 0 || hits[0].ID != 9 {
		t.Errorf("the moved video 9 is not found by itself: %v", hits)
	}
}

// BenchmarkLevel1 is one query's level-1 scan of a bank of random
// averages: go test -bench Level1 ./internal/tmk
func BenchmarkLevel1(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var x Index
			var f Features
			for i := 0; i < n; i++ {
				for k := range f.Average {
					f.Average[k] = float32(r.NormFloat64())
				}
				x.Add(int64(i), &f)
			}
			q, _ := readRef(b, "chair-20-sd-bar")
			b.ResetTimer()
			for range b.N {
				x.Level1(q, Level1Threshold)
			}
		})
	}
}

// BenchmarkLevel2 is the cost of one level-2 comparison, paid per level-1
// survivor.
func BenchmarkLevel2(b *testing.B) {
	q, _ := readRef(b, "chair-20-sd-bar")
	f, _ := readRef(b, "chair-19-sd-bar")
	for range b.N {
		Level2(q, f)
	}
}

// BenchmarkUnmarshal is reading one .tmk, paid per survivor when its
// features come from a store.
func BenchmarkUnmarshal(b *testing.B) {
	_, data := readRef(b, "chair-20-sd-bar")
	b.SetBytes(int64(len(data)))
	for range b.N {
		var f Features
		if err := f.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashFile is TMK+PDQF of one sample video, ffmpeg included:
// go test -bench HashFile -benchtime 3x ./internal/tmk. It reports the
// ffmpeg child's CPU beside the wall time (the Go side runs PDQF and the
// kernel sums in this process).
func BenchmarkHashFile(b *testing.B) {
	if err := video.Available(); err != nil {
		b.Skip(err)
	}
	for _, name := range []string{"chair-20-sd-bar", "doorknob-hd-no-bar"} {
		b.Run(name, func(b *testing.B) {
			var ffmpeg time.Duration
			for range b.N {
				_, u, err := HashFile(context.Background(), filepath.Join(videoDir, name+".mp4"), video.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				ffmpeg += u.CPU
			}
			b.ReportMetric(ffmpeg.Seconds()/float64(b.N), "ffmpeg-cpu-s/op")
		})
	}
}

// BenchmarkFrame is the in-process cost of one resampled frame: PDQF of
// 64x64 RGB24 and its kernel sums (4 periods x 32 coefficients x 256).
func BenchmarkFrame(b *testing.B) {
	pix := make([]byte, 3*FrameSide*FrameSide)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	var (
		h    pdq.Hasher
		bld  Builder
		feat [16][16]float32
	)
	for range b.N {
		h.FloatRGB24(pix, 3*FrameSide, FrameSide, FrameSide, &feat)
		bld.Add(&feat)
	}
}
