package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

func runHash(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard hash", flag.ContinueOnError)
	format := fs.String("format", "csv", "output `format`: csv (images: pdq_hex,quality,path, as the reference pdq-photo-hasher prints), vpdq (videos: frame,quality,pdq_hex,seconds, as the reference vpdq-hash-video prints), tmk (videos: TMK+PDQF, the reference tmk-hash-video's binary .tmk; see --out-dir) or json (one object a line, images and videos)")
	secondsPerHash := fs.Float64("seconds-per-hash", 1, "videos: hash one frame every `S` seconds (0: every frame)")
	dihedral := fs.Bool("dihedral", false, "also print the 8 dihedral hashes (rotations and mirrors); csv then prints them all, as pdq-photo-hasher --pdqdih-across does")
	mode := fs.String("mode", "auto", "JPEG decoding `mode`: "+modeNames())
	maxPixels := fs.Int64("max-pixels", media.DefaultMaxPixels, "refuse images with more pixels than this")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "images hashed at once")
	outDir := fs.String("out-dir", "", "--format tmk: write each VIDEO's features to `DIR`/VIDEO.tmk (without it, one video's go to standard output)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard hash [flags] PATH...\n\nHashes image and video files (told apart by content), and every file under\ndirectories. A PATH of - reads paths from standard input, one a line. Bad\nfiles are reported on stderr and skipped; the exit status is then 1. Videos\nneed ffmpeg. With --format vpdq and several videos, each video's lines\nfollow a line \"# PATH\".\n\nflags:")
		fs.PrintDefaults()
	}
	paths, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if *format == "tmk" {
		return hashTMK(e, paths, *outDir)
	}
	write, ok := hashWriters[*format]
	if !ok {
		return fail(e, "hash", "unknown --format %q: want csv, vpdq, tmk or json", *format)
	}
	if *secondsPerHash < 0 {
		return fail(e, "hash", "--seconds-per-hash %g: want 0 (every frame) or more", *secondsPerHash)
	}
	opts, err := mediaOptions(*mode, *maxPixels)
	if err != nil {
		return fail(e, "hash", "%v", err)
	}
	if len(paths) == 0 {
		fs.Usage()
		return 2
	}
	files, failed := expandPaths(e, paths)
	h := &hasher.Hasher{Media: opts, Dihedral: *dihedral, Video: vpdq.HashOptions{SecondsPerHash: *secondsPerHash}}
	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	bar := newProgress(e.stderr, "hashed", len(files))
	errs := hashFiles(h, files, max(1, *workers), func(path string, r hashed) error {
		if r.video != nil && *format == "vpdq" && len(files) > 1 {
			fmt.Fprintf(out, "# %s\n", path)
		}
		err := write(out, path, r)
		bar.add()
		return err
	}, func(err error) {
		bar.clear()
		fmt.Fprintf(e.stderr, "safeguard hash: %v\n", err)
		bar.add()
	})
	bar.done()
	if failed || errs > 0 {
		return 1
	}
	return 0
}

// modes maps --mode names to media's JPEG modes.
var modes = map[string]media.JPEGMode{
	"auto":  media.JPEGAuto,
	"go":    media.JPEGGo,
	"turbo": media.JPEGTurbo,
	"fast":  media.JPEGTurboScaled,
	// The pure-Go counterpart of fast, with the same hashes for the
	// baseline JPEGs it reads; auto in builds without libjpeg-turbo.
	"go-fast": media.JPEGGoScaled,
}

func modeNames() string {
	var names []string
	for n := range modes {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func mediaOptions(mode string, maxPixels int64) (media.Options, error) {
	m, ok := modes[mode]
	if !ok {
		return media.Options{}, fmt.Errorf("unknown --mode %q: want one of %s", mode, modeNames())
	}
	if maxPixels <= 0 {
		return media.Options{}, fmt.Errorf("--max-pixels %d: want a positive number", maxPixels)
	}
	return media.Options{JPEG: m, MaxPixels: maxPixels}, nil
}

// expandPaths turns the arguments into the list of files to hash, in order:
// directories are walked in lexical order, "-" reads paths from stdin. A
// path that cannot be read is reported and sets failed.
func expandPaths(e *env, args []string) (files []string, failed bool) {
	add := func(p string) {
		st, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(e.stderr, "safeguard hash: %v\n", err)
			failed = true
			return
		}
		if !st.IsDir() {
			files = append(files, p)
			return
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintf(e.stderr, "safeguard hash: %v\n", err)
				failed = true
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(e.stderr, "safeguard hash: %v\n", err)
			failed = true
		}
	}
	for _, a := range args {
		if a != "-" {
			add(a)
			continue
		}
		sc := bufio.NewScanner(e.stdin)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			if line := strings.TrimRight(sc.Text(), "\r"); line != "" {
				add(line)
			}
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(e.stderr, "safeguard hash: reading paths from standard input: %v\n", err)
			failed = true
		}
	}
	return files, failed
}

// hashed is one file's signals: an image's or a video's.
type hashed struct {
	image *hasher.Signals
	video *hasher.VideoSignals
}

// hashFile hashes one file as a video or an image, as its content says.
func hashFile(h *hasher.Hasher, path string) (hashed, error) {
	isVideo, err := hasher.IsVideo(path)
	if err != nil {
		return hashed{}, err
	}
	if isVideo {
		v, err := h.HashVideo(context.Background(), path)
		return hashed{video: &v}, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return hashed{}, err
	}
	s, err := h.Hash(path, data)
	return hashed{image: &s}, err
}

// hashFiles hashes files on n goroutines and reports each result, in the
// order of files, to ok or bad; an error from ok (a file of the wrong kind
// for the output format) goes to bad too. It returns the number of
// failures.
func hashFiles(h *hasher.Hasher, files []string, n int, ok func(string, hashed) error, bad func(error)) int {
	type result struct {
		h   hashed
		err error
	}
	results := make([]chan result, len(files))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := hashFile(h, files[i])
				results[i] <- result{r, err}
			}
		}()
	}
	go func() {
		for i := range files {
			next <- i
		}
		close(next)
	}()
	failures := 0
	for i := range files {
		r := <-results[i]
		results[i] = nil
		if r.err == nil {
			r.err = ok(files[i], r.h)
		}
		if r.err != nil {
			failures++
			bad(r.err)
		}
	}
	wg.Wait()
	return failures
}

// hashWriters print one file's signals in each --format; a file of a kind
// the format cannot show is an error naming it.
var hashWriters = map[string]func(io.Writer, string, hashed) error{
	"csv": func(w io.Writer, path string, r hashed) error {
		if r.image == nil {
			return fmt.Errorf("%s is a video: use --format vpdq or json", path)
		}
		csvLine(w, path, *r.image)
		return nil
	},
	"vpdq": func(w io.Writer, path string, r hashed) error {
		if r.video == nil {
			return fmt.Errorf("%s is not a video: use --format csv or json", path)
		}
		return vpdq.WriteText(w, r.video.Frames)
	},
	"json": func(w io.Writer, path string, r hashed) error {
		if r.video != nil {
			videoJSONLine(w, path, *r.video)
		} else {
			jsonLine(w, path, *r.image)
		}
		return nil
	},
}

func csvLine(w io.Writer, path string, s hasher.Signals) {
	if s.Dihedral != nil {
		for _, h := range s.Dihedral {
			fmt.Fprintf(w, "%s,", h)
		}
	} else {
		fmt.Fprintf(w, "%s,", s.PDQ)
	}
	fmt.Fprintf(w, "%d,%s\n", s.Quality, path)
}

// hashJSON is one line of `safeguard hash --format json`.
type hashJSON struct {
	Path     string        `json:"path"`
	Format   media.Format  `json:"format"`
	PDQ      pdq.Hash      `json:"pdq"`
	Quality  int           `json:"quality"`
	MD5      string        `json:"md5"`
	SHA256   string        `json:"sha256"`
	Dihedral *dihedralJSON `json:"dihedral,omitempty"`
}

type dihedralJSON struct {
	Original   pdq.Hash `json:"original"`
	Rotate90   pdq.Hash `json:"rotate90"`
	Rotate180  pdq.Hash `json:"rotate180"`
	Rotate270  pdq.Hash `json:"rotate270"`
	FlipX      pdq.Hash `json:"flipx"`
	FlipY      pdq.Hash `json:"flipy"`
	FlipPlus1  pdq.Hash `json:"flipplus1"`
	FlipMinus1 pdq.Hash `json:"flipminus1"`
}

func jsonLine(w io.Writer, path string, s hasher.Signals) {
	j := hashJSON{
		Path: path, Format: s.Format, PDQ: s.PDQ, Quality: s.Quality,
		MD5: hex.EncodeToString(s.MD5[:]), SHA256: hex.EncodeToString(s.SHA256[:]),
	}
	if d := s.Dihedral; d != nil {
		j.Dihedral = &dihedralJSON{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]}
	}
	b, _ := json.Marshal(j) // plain strings and numbers: cannot fail
	w.Write(append(b, '\n'))
}

// videoJSON is one video's line of `safeguard hash --format json`.
type videoJSON struct {
	Path      string      `json:"path"`
	Format    string      `json:"format"` // "video"
	Width     int         `json:"width"`
	Height    int         `json:"height"`
	FrameRate float64     `json:"frame_rate"`
	MD5       string      `json:"md5"`
	SHA256    string      `json:"sha256"`
	VPDQ      []frameJSON `json:"vpdq"`
}

type frameJSON struct {
	Frame     int      `json:"frame"`
	Quality   int      `json:"quality"`
	PDQ       pdq.Hash `json:"pdq"`
	Timestamp float64  `json:"timestamp"`
}

func videoJSONLine(w io.Writer, path string, v hasher.VideoSignals) {
	j := videoJSON{
		Path: path, Format: "video", Width: v.Info.Width, Height: v.Info.Height, FrameRate: v.Info.FrameRate,
		MD5: hex.EncodeToString(v.MD5[:]), SHA256: hex.EncodeToString(v.SHA256[:]),
		VPDQ: make([]frameJSON, len(v.Frames)),
	}
	for i, f := range v.Frames {
		// Three decimals, as every vPDQ format carries timestamps.
		j.VPDQ[i] = frameJSON{f.Number, f.Quality, f.Hash, math.Round(f.Timestamp*1000) / 1000}
	}
	b, _ := json.Marshal(j) // plain strings and numbers: cannot fail
	w.Write(append(b, '\n'))
}
