package vpdq

import (
	"context"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time used so far by this process and its waited-for
// children (ffmpeg).
func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

// BenchmarkHashFile reports seconds of video hashed per CPU-second (ours
// plus ffmpeg's) at every frame and at one frame a second, for the SD
// sample (480x720, 20.5 s) and an HD clip made here with ffmpeg's testsrc
// (1280x720, 30 fps, 10 s), with the C colour conversion (the default)
// and the SIMD one, and the peak resident memory of the ffmpeg children. Run: go test -run '^$' -bench HashFile -benchtime 3x ./internal/vpdq
func BenchmarkHashFile(b *testing.B) {
	needFFmpeg(b)
	hd := filepath.Join(b.TempDir(), "hd.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
		"testsrc=size=1280x720:rate=30:duration=10", "-pix_fmt", "yuv420p", "-c:v", "libx264", hd).CombinedOutput()
	if err != nil {
		b.Fatalf("making the HD clip: %v\n%s", err, out)
	}
	clips := []struct {
		name, path string
		seconds    float64
	}{
		{"SD", videoPath("chair-20-sd-bar"), 614.0 / 30},
		{"HD", hd, 10},
	}
	for _, c := range clips {
		for _, run := range []struct {
			name string
			sph  float64
			conv Conversion
		}{{"every-frame", 0, ConvertC}, {"1fps", 1, ConvertC}, {"every-frame-simd", 0, ConvertSIMD}} {
			sph := run.sph
			b.Run(c.name+"/"+run.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuTime()
				var rss int64
				for i := 0; i < b.N; i++ {
					v, err := HashFile(context.Background(), c.path, HashOptions{SecondsPerHash: sph, Conversion: run.conv})
					if err != nil {
						b.Fatal(err)
					}
					rss = max(rss, v.Usage.PeakRSS)
				}
				cpu := cpuTime() - cpu0
				b.ReportMetric(c.seconds*float64(b.N)/cpu.Seconds(), "video-s/cpu-s")
				b.ReportMetric(float64(rss)/(1<<20), "ffmpeg-peak-MiB")
			})
		}
	}
}

// BenchmarkIndexSearch looks up a one-minute video hashed at 1 fps (60
// frames) against 10,000 banked videos of 100 frames each (a million
// frames), through the Index and by brute force.
func BenchmarkIndexSearch(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	rule := DefaultRule
	x := NewIndex(rule)
	bank := make([][]Frame, 10000)
	for k := range bank {
		bank[k] = randomVideo(r, 100)
		for i := range bank[k] {
			bank[k][i].Quality = 100
		}
		if err := x.Add(uint64(k), bank[k]); err != nil {
			b.Fatal(err)
		}
	}
	query := perturb(r, bank[1234][20:80], 8)
	b.Run("index", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if m := x.Search(query); len(m) == 0 || m[0].Key != 1234 {
				b.Fatalf("banked video not found: %+v", m)
			}
		}
	})
	b.Run("brute", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n := 0
			for _, v := range bank {
				if rule.Matches(rule.Compare(query, v)) {
					n++
				}
			}
			if n == 0 {
				b.Fatal("banked video not found")
			}
		}
	})
}
