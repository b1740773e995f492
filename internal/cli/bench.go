package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/bench"
	"github.com/safeguard-oss/safeguard/internal/media"
)

func runBench(e *env, args []string) int {
	if len(args) == 0 {
		return fail(e, "bench", "want a benchmark: safeguard bench hash")
	}
	switch args[0] {
	case "hash":
		return benchHash(e, args[1:])
	case "index":
		return benchIndex(e, args[1:])
	case "scan":
		return benchScan(e, args[1:])
	}
	return fail(e, "bench", "unknown benchmark %q: want hash, index or scan", args[0])
}

// benchModes are the JPEG decoding modes `bench hash` compares.
var benchModes = []bench.Mode{
	{Name: "go", Options: media.Options{JPEG: media.JPEGGo}},
	{Name: "go-fast-512", Options: media.Options{JPEG: media.JPEGGoScaled, MinSide: 512}},
	{Name: "turbo", Options: media.Options{JPEG: media.JPEGTurbo}},
	{Name: "turbo-grey", Options: media.Options{JPEG: media.JPEGTurbo, Grey: true}},
	{Name: "fast-512", Options: media.Options{JPEG: media.JPEGTurboScaled, MinSide: 512}},
	{Name: "fast-512-grey", Options: media.Options{JPEG: media.JPEGTurboScaled, MinSide: 512, Grey: true}},
	{Name: "fast-256", Options: media.Options{JPEG: media.JPEGTurboScaled, MinSide: 256}},
	{Name: "fast-256-grey", Options: media.Options{JPEG: media.JPEGTurboScaled, MinSide: 256, Grey: true}},
	{Name: "auto (default)", Options: media.Options{JPEG: media.JPEGAuto}},
}

func benchHash(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard bench hash", flag.ContinueOnError)
	ref := fs.String("reference", "", "`path` of the reference pdq-photo-hasher to time side by side (built from facebook/ThreatExchange pdq/cpp)")
	dur := fs.Duration("duration", 2*time.Second, "how long to time each mode on each image")
	only := fs.String("modes", "", "comma-separated mode names to run (default all)")
	testdata := fs.String("testdata", "testdata/threatexchange", "`directory` of the reference's sample images and expected-pdq.csv, for the accuracy table")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard bench hash [flags] [IMAGE...]\n\nTimes PDQ hashing (decode included) per mode on one core and on all cores,\nbeside the reference hasher when --reference is given, and compares each\nmode's hashes with the reference's. Without IMAGEs it makes a 1 MP and a\n12 MP synthetic photograph.\n\nflags:")
		fs.PrintDefaults()
	}
	images, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	modes := benchModes
	if *only != "" {
		modes = nil
		for _, name := range strings.Split(*only, ",") {
			found := false
			for _, m := range benchModes {
				if m.Name == name {
					modes, found = append(modes, m), true
				}
			}
			if !found {
				return fail(e, "bench hash", "unknown mode %q", name)
			}
		}
	}
	if *ref != "" {
		if _, err := os.Stat(*ref); err != nil {
			return fail(e, "bench hash", "reference hasher: %v", err)
		}
	}
	cfg := bench.HashConfig{Images: images, Reference: *ref, Modes: modes, Duration: *dur, Accuracy: *testdata}
	if err := bench.Hash(e.stdout, cfg); err != nil {
		return fail(e, "bench hash", "%v", err)
	}
	return 0
}
