// Package bench measures Safeguard against its targets and prints tables:
// `safeguard-bench hash` and `safeguard-bench index` call it, and
// docs/benchmarks.md records what it printed.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// HashConfig says what `bench hash` measures.
type HashConfig struct {
	// Images to time; empty means two synthetic photographs, 1 MP and 12 MP,
	// written to a temporary directory.
	Images []string
	// Reference is the path of the reference pdq-photo-hasher, built from
	// facebook/ThreatExchange; empty leaves it out.
	Reference string
	// Modes are the JPEG decoding modes to compare, by name.
	Modes []Mode
	// Duration is how long to time each mode on each image (at least 5 runs).
	Duration time.Duration
	// Accuracy is the directory of the reference's sample images, with
	// expected-pdq.csv; empty or missing leaves the accuracy table out.
	Accuracy string
}

// Mode is a named way of decoding.
type Mode struct {
	Name    string
	Options media.Options
}

// Hash prints the speed table and, where it can, the accuracy table.
func Hash(w io.Writer, cfg HashConfig) error {
	if len(cfg.Images) == 0 {
		dir, err := os.MkdirTemp("", "safeguard-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		for _, s := range []struct {
			name string
			w, h int
		}{{"1mp.jpg", 1280, 800}, {"12mp.jpg", 4000, 3000}} {
			p := filepath.Join(dir, s.name)
			if err := WriteSyntheticJPEG(p, s.w, s.h, 1); err != nil {
				return err
			}
			cfg.Images = append(cfg.Images, p)
		}
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 2 * time.Second
	}
	ncpu := runtime.NumCPU()
	fmt.Fprintf(w, "PDQ hashing, decode included (as the reference: no byte digests; the last row per image is what\n")
	fmt.Fprintf(w, "safeguard hash adds for MD5 and SHA-256): %s, %d cores\n", cpuName(), ncpu)
	fmt.Fprintf(w, "1 core: CPU time (user+system) per image, which other work on the machine barely changes;\n")
	fmt.Fprintf(w, "all cores: images a second by the wall clock, which it does.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "image\tpixels\tmode\tCPU ms/image (1 core)\timages/s (1 core)\timages/s (%d cores, wall)\tdistance to reference\t\n", ncpu)
	for _, path := range cfg.Images {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		cfgw, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("bench: %s: %v", path, err)
		}
		mp := fmt.Sprintf("%.1f MP", float64(cfgw.Width*cfgw.Height)/1e6)
		var refHash *pdq.Hash
		if cfg.Reference != "" {
			one, per1, perAll, err := timeReference(cfg.Reference, path, cfg.Duration, ncpu)
			if err != nil {
				return err
			}
			refHash = &one
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%.1f\t%.1f\t%s\t\n", filepath.Base(path), mp, "reference C++", per1*1e3, 1/per1, perAll, "0")
		}
		for _, m := range cfg.Modes {
			var h hasher.Hasher
			h.Media = m.Options
			s, err := h.Hash(path, data)
			if err != nil {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t\t\t\n", filepath.Base(path), mp, m.Name, "unavailable: "+err.Error())
				continue
			}
			dist := "-"
			if refHash != nil {
				dist = strconv.Itoa(pdq.Distance(s.PDQ, *refHash))
			}
			work := pdqWork(path, data, m.Options)
			per1, _ := timeGo(work, 1, cfg.Duration)
			_, perAll := timeGo(work, ncpu, cfg.Duration)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%.1f\t%.1f\t%s\t\n", filepath.Base(path), mp, m.Name, per1*1e3, 1/per1, perAll, dist)
		}
		per1, _ := timeGo(digestWork(data), 1, cfg.Duration)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t\t\t\t\n", filepath.Base(path), mp, "+ MD5, SHA-256", per1*1e3)
	}
	tw.Flush()
	if cfg.Accuracy != "" {
		if _, err := os.Stat(filepath.Join(cfg.Accuracy, "expected-pdq.csv")); err == nil {
			fmt.Fprintln(w)
			return accuracy(w, cfg)
		}
	}
	return nil
}

// pdqWork is what the reference does: decode and PDQ-hash, as
// internal/hasher does it (ForPDQ), without the byte digests it adds. It
// makes one hasher per goroutine.
func pdqWork(name string, data []byte, opt media.Options) func() func() error {
	opt.ForPDQ = true
	return func() func() error {
		var h pdq.Hasher
		return func() error {
			img, _, err := media.Decode(name, data, opt)
			if err == nil {
				h.HashImage(img, false)
			}
			return err
		}
	}
}

// digestWork is the rest of what `safeguard hash` computes for a file.
func digestWork(data []byte) func() func() error {
	return func() func() error {
		return func() error {
			md5.Sum(data)
			sha256.Sum256(data)
			return nil
		}
	}
}

// timeGo runs work over and over on n goroutines (GOMAXPROCS n) for about
// d, each goroutine with its own instance. It returns the CPU time the
// process spent per run (on one core, a run's cost however busy the
// machine is with other work) and runs a second by the wall clock.
func timeGo(work func() func() error, n int, d time.Duration) (cpu, rate float64) {
	prev := runtime.GOMAXPROCS(n)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	var count int64
	var mu sync.Mutex
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := work()
			local := int64(0)
			for time.Since(start) < d || local < 5 {
				if err := run(); err != nil {
					panic(err) // it hashed a moment ago
				}
				local++
			}
			mu.Lock()
			count += local
			mu.Unlock()
		}()
	}
	wg.Wait()
	wall := time.Since(start).Seconds()
	return (cpuTime() - cpu0).Seconds() / float64(count), float64(count) / wall
}

// cpuTime is the user and system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err) // cannot fail for RUSAGE_SELF
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timeReference runs the reference hasher over the image repeated, on one
// core (taskset) and then as one process per core. It returns the hash it
// printed, its CPU time per image, and images a second on all cores by
// the wall clock.
func timeReference(bin, path string, d time.Duration, ncpu int) (pdq.Hash, float64, float64, error) {
	run := func(reps int, cpu int) (string, time.Duration, time.Duration, error) {
		list := strings.Repeat(path+"\n", reps)
		args := []string{bin, "-i"}
		if cpu >= 0 {
			if tset, err := exec.LookPath("taskset"); err == nil {
				args = append([]string{tset, "-c", strconv.Itoa(cpu)}, args...)
			}
		}
		cmd := exec.CommandContext(context.Background(), args[0], args[1:]...)
		cmd.Stdin = strings.NewReader(list)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		el := time.Since(start)
		if err != nil {
			return "", 0, 0, fmt.Errorf("bench: reference %s: %v: %s", bin, err, errb.String())
		}
		return out.String(), el, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
	}
	// One run to learn the rough cost and the hash, then enough repeats to
	// fill d; process start-up is taken off by differencing with one image.
	out1, t1, cpu1, err := run(1, 0)
	if err != nil {
		return pdq.Hash{}, 0, 0, err
	}
	h, err := pdq.ParseHex(strings.Split(out1, ",")[0])
	if err != nil {
		return pdq.Hash{}, 0, 0, fmt.Errorf("bench: reference printed %q: %v", out1, err)
	}
	reps := max(5, int(d/max(t1, time.Millisecond)))
	_, _, cpuN, err := run(reps+1, 0)
	if err != nil {
		return h, 0, 0, err
	}
	per1 := (cpuN - cpu1).Seconds() / float64(reps)
	// All cores: one process per core, each with the same list.
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, ncpu)
	for c := 0; c < ncpu; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			_, _, _, errs[c] = run(reps, c)
		}(c)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return h, 0, 0, err
		}
	}
	perAll := float64(reps*ncpu) / time.Since(start).Seconds()
	return h, per1, perAll, nil
}

// accuracy compares each mode's hashes of the reference's sample JPEGs
// with the hashes the reference printed for them.
func accuracy(w io.Writer, cfg HashConfig) error {
	f, err := os.Open(filepath.Join(cfg.Accuracy, "expected-pdq.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	type sample struct {
		path string
		want pdq.Hash
	}
	var samples []sample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		if len(fields) != 3 || !strings.HasSuffix(strings.ToLower(fields[2]), ".jpg") && !strings.HasSuffix(strings.ToLower(fields[2]), ".jpeg") {
			continue
		}
		h, err := pdq.ParseHex(fields[0])
		if err != nil {
			return err
		}
		samples = append(samples, sample{filepath.Join(cfg.Accuracy, fields[2]), h})
	}
	fmt.Fprintf(w, "Distance to the reference's hashes of its %d sample JPEGs (expected-pdq.csv)\n\n", len(samples))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\texact\tmean\tmax\t")
	for _, m := range cfg.Modes {
		h := &hasher.Hasher{Media: m.Options}
		exact, sum, worst, n := 0, 0, 0, 0
		var failed error
		for _, s := range samples {
			data, err := os.ReadFile(s.path)
			if err != nil {
				return err
			}
			got, err := h.Hash(s.path, data)
			if err != nil {
				failed = err
				break
			}
			d := pdq.Distance(got.PDQ, s.want)
			n++
			sum += d
			worst = max(worst, d)
			if d == 0 {
				exact++
			}
		}
		if failed != nil {
			fmt.Fprintf(tw, "%s\tunavailable: %v\t\t\t\n", m.Name, failed)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%.2f\t%d\t\n", m.Name, exact, n, float64(sum)/float64(max(n, 1)), worst)
	}
	return tw.Flush()
}

// WriteSyntheticJPEG writes a w x h JPEG (quality 90, 4:2:0) of a
// photograph-like scene: smooth light, overlapping shapes with soft edges,
// texture and sensor noise, so that decoders and hashers do realistic work.
func WriteSyntheticJPEG(path string, w, h int, seed uint64) error {
	img := Synthetic(w, h, seed)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// Synthetic draws the scene WriteSyntheticJPEG encodes.
func Synthetic(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 0x5afe))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	type disc struct {
		x, y, r float64
		c       [3]float64
	}
	discs := make([]disc, 40)
	for i := range discs {
		discs[i] = disc{rng.Float64() * float64(w), rng.Float64() * float64(h),
			(0.03 + 0.2*rng.Float64()) * float64(min(w, h)),
			[3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			tex := 12 * math.Sin(fx*97+3*math.Sin(fy*41)) * math.Sin(fy*83)
			img.SetRGBA(x, y, color.RGBA{clamp(90 + 120*fy + tex), clamp(110 + 80*fx + tex), clamp(150 - 60*fy + tex), 255})
		}
	}
	for _, d := range discs {
		x0, x1 := max(0, int(d.x-d.r)), min(w, int(d.x+d.r)+1)
		y0, y1 := max(0, int(d.y-d.r)), min(h, int(d.y+d.r)+1)
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				a := 0.8 * math.Min(1, math.Max(0, (d.r-math.Hypot(float64(x)-d.x, float64(y)-d.y))/3))
				if a == 0 {
					continue
				}
				p := img.Pix[img.PixOffset(x, y):]
				for k := 0; k < 3; k++ {
					p[k] = clamp(float64(p[k])*(1-a) + d.c[k]*a)
				}
			}
		}
	}
	for i := range img.Pix {
		if i%4 != 3 {
			img.Pix[i] = clamp(float64(img.Pix[i]) + rng.NormFloat64()*4)
		}
	}
	return img
}

func clamp(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }

func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			if _, v, ok := strings.Cut(line, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
