package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/image/draw"

	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
)

// CurveConfig says what `bench scalecurve` measures.
type CurveConfig struct {
	Testdata string        // the reference's sample images, with expected-pdq.csv
	Widths   []int         // the small images' widths
	MinSides []int         // media.Options.MinSide values to try; 0 is full-size decoding
	Duration time.Duration // per point
}

// ScaleCurve prints, for small JPEGs, the speed of DCT-scaled decoding
// against its distance from the reference: each of the reference's sample
// JPEGs larger than a width is resized to it (Catmull-Rom, aspect kept)
// and written as a JPEG (quality 85, 4:2:0, Go's encoder), then hashed at
// each MinSide. Full-size libjpeg-turbo decoding gives the reference's
// hashes bit for bit (TestReferenceHashes), so distances are counted
// against it. Times are end to end, as the server hashes a scan: decode,
// PDQ with its 8 dihedral hashes, MD5 and SHA-256; CPU time on one core.
func ScaleCurve(w io.Writer, cfg CurveConfig) error {
	if !media.HaveLibjpeg {
		return fmt.Errorf("needs libjpeg-turbo (a cgo build)")
	}
	f, err := os.Open(filepath.Join(cfg.Testdata, "expected-pdq.csv"))
	if err != nil {
		return err
	}
	var sources []image.Image
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		if len(fields) != 3 || !strings.HasSuffix(strings.ToLower(fields[2]), ".jpg") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(cfg.Testdata, fields[2]))
		if err != nil {
			f.Close()
			return err
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			continue // progressive and others Go's decoder does not read
		}
		sources = append(sources, img)
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintf(w, "DCT-scaled decoding of small JPEGs: the reference's sample JPEGs resized to each width; %s\n", cpuName())
	fmt.Fprintf(w, "end to end per image as a scan (decode, PDQ + 8 dihedral, MD5, SHA-256), CPU ms on one core; bits from the exact hash\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "width\timages\tMinSide\tscaled\tCPU ms/image\tspeed-up\texact\tmean bits\tmax bits\t")
	for _, width := range cfg.Widths {
		var files [][]byte
		var sizes []image.Point
		for _, src := range sources {
			b := src.Bounds()
			if b.Dx() <= width {
				continue
			}
			h := b.Dy() * width / b.Dx()
			dst := image.NewRGBA(image.Rect(0, 0, width, h))
			draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85}); err != nil {
				return err
			}
			files = append(files, buf.Bytes())
			sizes = append(sizes, image.Pt(width, h))
		}
		if len(files) == 0 {
			continue
		}
		exactOpt := media.Options{JPEG: media.JPEGTurbo}
		want := make([]pdq.Hash, len(files))
		for i, data := range files {
			s, err := (&hasher.Hasher{Media: exactOpt}).Hash("curve.jpg", data)
			if err != nil {
				return err
			}
			want[i] = s.PDQ
		}
		var base float64
		for _, ms := range cfg.MinSides {
			opt := media.Options{JPEG: media.JPEGTurboScaled, MinSide: ms}
			label := fmt.Sprint(ms)
			if ms == 0 {
				opt, label = exactOpt, "full size"
			}
			h := &hasher.Hasher{Media: opt, Dihedral: true}
			exact, sum, worst := 0, 0, 0
			for i, data := range files {
				s, err := h.Hash("curve.jpg", data)
				if err != nil {
					return err
				}
				d := pdq.Distance(s.PDQ, want[i])
				sum += d
				worst = max(worst, d)
				if d == 0 {
					exact++
				}
			}
			next := 0
			work := func() func() error {
				return func() error {
					_, err := h.Hash("curve.jpg", files[next%len(files)])
					next++
					return err
				}
			}
			if base == 0 {
				timeGo(work, 1, cfg.Duration/4) // warm up: caches, heap, pools
			}
			cpu, _ := timeGo(work, 1, cfg.Duration)
			if base == 0 {
				base = cpu
			}
			scaled := 0
			for _, sz := range sizes {
				if ms > 0 && media.ScaleDenom(sz.X, sz.Y, ms) > 1 {
					scaled++
				}
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%.3f\t%.2fx\t%d/%d\t%.2f\t%d\t\n", width, len(files), label, scaled, cpu*1e3, base/cpu,
				exact, len(files), float64(sum)/float64(len(files)), worst)
		}
	}
	return tw.Flush()
}
