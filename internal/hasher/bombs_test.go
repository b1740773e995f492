package hasher_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/media/mediatest"
)

// The bombs of issue 12, each refused or hashed within a bounded memory
// estimate. Before, each was hashed as an ordinary image at the cost of
// hundreds of megabytes (the TIFF also of seconds of CPU).
func TestBombs(t *testing.T) {
	h := &hasher.Hasher{Budget: media.NewBudget(256 << 20)}
	kind := func(err error) media.Kind {
		var e *media.Error
		if !errors.As(err, &e) {
			return -1
		}
		return e.Kind
	}

	jpeg := mediatest.ProgressiveJPEG(10000, 10000, 86)
	if len(jpeg) != 214 {
		t.Fatalf("the JPEG header is %d bytes, want 214", len(jpeg))
	}
	if _, err := h.Hash("bomb.jpg", jpeg); kind(err) != media.Truncated || !strings.Contains(err.Error(), "cannot encode the 10000x10000 pixels") {
		t.Errorf("214-byte progressive JPEG of 10000x10000: %v, want it refused as truncated", err)
	}

	// A valid progressive JPEG: every coefficient is held, 128 bytes a
	// block in libjpeg, so the estimate counts them.
	valid := mediatest.ProgressiveJPEG(3000, 3000, 3000*3000*3/64/8+1)
	cfg, err := media.DecodeConfig("p.jpg", valid, media.Options{ForPDQ: true})
	if blocks := int64(3000 * 3000 * 3 / 64); err != nil || cfg.Memory < blocks*128 {
		t.Errorf("progressive 3000x3000 estimate %d bytes (%v), want at least its %d bytes of coefficients", cfg.Memory, err, blocks*128)
	}
	if _, err := h.Hash("p.jpg", valid); err != nil {
		t.Errorf("valid progressive JPEG within the budget: %v", err)
	}

	tiff := mediatest.TIFF16(4000, 4000)
	start := time.Now()
	if _, err := h.Hash("bomb.tiff", tiff); kind(err) != media.OverBudget {
		t.Errorf("16-bit deflate TIFF of 4000x4000 (%d KB) with a 256 MiB budget: %v, want OverBudget", len(tiff)>>10, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusing the TIFF took %v: it was decoded before being refused", d)
	}

	png := mediatest.PNG16(4000, 4000)
	if cfg, err := media.DecodeConfig("bomb.png", png, media.Options{ForPDQ: true}); err != nil || cfg.Memory > 8<<20 {
		t.Errorf("16-bit PNG estimate %d (%v), want a few MB: it is decoded as its 512x512 sample", cfg.Memory, err)
	}
	if _, err := h.Hash("bomb.png", png); err != nil {
		t.Errorf("16-bit PNG: %v", err)
	}
}

// bombKinds are what BenchmarkBombRSS decodes, each built once into a file
// the child processes read.
var bombKinds = []struct {
	name  string
	build func() []byte
}{
	{"jpeg-progressive-214B", func() []byte { return mediatest.ProgressiveJPEG(10000, 10000, 86) }},
	{"jpeg-progressive-valid", func() []byte { return mediatest.ProgressiveJPEG(10000, 10000, 10000*10000*3/64/8+1) }},
	{"png-16bit", func() []byte { return mediatest.PNG16(10000, 10000) }},
	{"tiff-16bit-deflate", func() []byte { return mediatest.TIFF16(10000, 10000) }},
}

// BenchmarkBombRSS decodes each bomb through the Hasher with a 1 GiB budget
// and the soft memory limit, once and 8 at once, each run in a child
// process so that its peak RSS (VmHWM) is its own; it prints a table of
// peak RSS, RSS a second after the decodes ended, the outcomes and the
// wall time. The target: peak under 1 GiB at 8 at once, and the memory
// returned afterwards.
//
//	go test -run '^$' -bench BombRSS -benchtime 1x ./internal/hasher
func BenchmarkBombRSS(b *testing.B) {
	dir := b.TempDir()
	var table strings.Builder
	fmt.Fprintf(&table, "%-24s %8s %4s %12s %12s %10s  %s\n", "bomb", "size", "at", "peak RSS", "RSS after", "wall", "outcomes")
	for _, k := range bombKinds {
		data := k.build()
		path := filepath.Join(dir, k.name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/%d", k.name, n), func(b *testing.B) {
				for range b.N {
					cmd := exec.Command(os.Args[0], "-test.run=^TestBombChild$", "-test.v")
					cmd.Env = append(os.Environ(), fmt.Sprintf("SAFEGUARD_BOMB_CHILD=%s:%d", path, n))
					out, err := cmd.CombinedOutput()
					if err != nil {
						b.Fatalf("child: %v\n%s", err, out)
					}
					res := map[string]string{}
					sc := bufio.NewScanner(strings.NewReader(string(out)))
					for sc.Scan() {
						if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && strings.HasPrefix(k, "bomb.") {
							res[strings.TrimPrefix(k, "bomb.")] = v
						}
					}
					peak, _ := strconv.ParseFloat(res["peak_kb"], 64)
					after, _ := strconv.ParseFloat(res["after_kb"], 64)
					b.ReportMetric(peak/1024, "peak-MiB")
					b.ReportMetric(after/1024, "after-MiB")
					fmt.Fprintf(&table, "%-24s %7dK %4d %10.0f M %10.0f M %10s  %s\n", k.name, len(data)>>10, n, peak/1024, after/1024, res["wall"], res["outcomes"])
				}
			})
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\n%s(GOMAXPROCS %d, load average %s)\n", table.String(), runtime.GOMAXPROCS(0), strings.TrimSpace(string(load)))
}

// TestBombChild is BenchmarkBombRSS's child: it hashes one bomb n times at
// once, as a server with the default budget and memory limit would, and
// prints its peak and later RSS. Without SAFEGUARD_BOMB_CHILD it is skipped.
func TestBombChild(t *testing.T) {
	spec := os.Getenv("SAFEGUARD_BOMB_CHILD")
	if spec == "" {
		t.Skip("run by BenchmarkBombRSS")
	}
	path, ns, _ := strings.Cut(spec, ":")
	n, _ := strconv.Atoi(ns)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	budget := media.NewBudget(media.DefaultBudget)
	media.SetMemoryLimit(budget)
	h := &hasher.Hasher{Budget: budget}
	var mu sync.Mutex
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			_, err := h.HashContext(context.Background(), fmt.Sprintf("bomb-%d", i), data)
			o := "hashed"
			var e *media.Error
			if errors.As(err, &e) {
				o = map[media.Kind]string{media.OverBudget: "over-budget", media.Truncated: "truncated", media.TooLarge: "too-large"}[e.Kind]
				if o == "" {
					o = "error"
				}
			} else if err != nil {
				o = "error"
			}
			mu.Lock()
			outcomes[o]++
			mu.Unlock()
		})
	}
	wg.Wait()
	wall := time.Since(start)
	time.Sleep(time.Second)
	var parts []string
	for _, o := range []string{"hashed", "truncated", "over-budget", "too-large", "error"} {
		if outcomes[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", outcomes[o], o))
		}
	}
	fmt.Printf("bomb.peak_kb=%d\nbomb.after_kb=%d\nbomb.wall=%s\nbomb.outcomes=%s\n",
		procStatus(t, "VmHWM"), procStatus(t, "VmRSS"), wall.Round(time.Millisecond), strings.Join(parts, ", "))
}

// procStatus reads a figure in kB from /proc/self/status.
func procStatus(t *testing.T, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
