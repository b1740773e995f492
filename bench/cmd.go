package bench

// The safeguard-bench command: flags in, tables out.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/media"
)

// env is where a benchmark command writes.
type env struct{ stdout, stderr io.Writer }

// Main runs safeguard-bench with args (without the program name) and
// returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, "usage: safeguard-bench hash|scalecurve|index|scan|startup [flags]\n\nRun 'safeguard-bench <benchmark> -h' for its flags; docs/benchmarks.md records the results.")
		return 0
	}
	return runBench(e, args[0:])
}

// parse parses a benchmark's flags (before its arguments) and returns the
// arguments.
func parse(fs *flag.FlagSet, e *env, args []string) ([]string, int, bool) {
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0, false
		}
		return nil, 2, false
	}
	return fs.Args(), 0, true
}

func fail(e *env, cmd string, format string, a ...any) int {
	fmt.Fprintf(e.stderr, "safeguard-%s: %s\n", cmd, strings.TrimSuffix(fmt.Sprintf(format, a...), "\n"))
	return 2
}

func runBench(e *env, args []string) int {
	if len(args) == 0 {
		return fail(e, "bench", "want a benchmark: safeguard-bench hash")
	}
	switch args[0] {
	case "hash":
		return benchHash(e, args[1:])
	case "index":
		return benchIndex(e, args[1:])
	case "scan":
		return benchScan(e, args[1:])
	case "scalecurve":
		return benchScaleCurve(e, args[1:])
	case "startup":
		return benchStartup(e, args[1:])
	case "scan-client": // bench scan's load generator, run as a child process
		return benchScanClient(e, args[1:])
	}
	return fail(e, "bench", "unknown benchmark %q: want hash, scalecurve, index, scan or startup", args[0])
}

// benchModes are the JPEG decoding modes `bench hash` compares.
var benchModes = []Mode{
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
	fs := flag.NewFlagSet("safeguard-bench hash", flag.ContinueOnError)
	ref := fs.String("reference", "", "`path` of the reference pdq-photo-hasher to time side by side (built from facebook/ThreatExchange pdq/cpp)")
	dur := fs.Duration("duration", 2*time.Second, "how long to time each mode on each image")
	only := fs.String("modes", "", "comma-separated mode names to run (default all)")
	testdata := fs.String("testdata", "testdata/threatexchange", "`directory` of the reference's sample images and expected-pdq.csv, for the accuracy table")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard-bench hash [flags] [IMAGE...]\n\nTimes PDQ hashing (decode included) per mode on one core and on all cores,\nbeside the reference hasher when --reference is given, and compares each\nmode's hashes with the reference's. Without IMAGEs it makes a 1 MP and a\n12 MP synthetic photograph.\n\nflags:")
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
	cfg := HashConfig{Images: images, Reference: *ref, Modes: modes, Duration: *dur, Accuracy: *testdata}
	if err := Hash(e.stdout, cfg); err != nil {
		return fail(e, "bench hash", "%v", err)
	}
	return 0
}

// intList parses a flag's comma-separated list of numbers from lo to hi,
// or prints why not.
func intList(e *env, cmd, flagName, list string, lo, hi int) ([]int, bool) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < lo || n > hi {
			fail(e, cmd, "--%s %q: want numbers %d..%d", flagName, s, lo, hi)
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func benchIndex(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard-bench index", flag.ContinueOnError)
	n := fs.String("n", "1000000", "comma-separated `list` of index sizes (codes), measured in turn")
	widths := fs.String("widths", "0", "comma-separated `list` of substring widths in bits (12-29; 0 is the default) to measure in turn, for the curve of memory against time; the last is built in place, the others from a copy of the codes")
	snapshot := fs.Bool("snapshot", true, "time writing and loading a snapshot of each index")
	queries := fs.Int("queries", 10_000, "queries to time")
	radius := fs.Int("radius", 31, "search radius in bits")
	sample := fs.Int("sample", 200, "queries checked against brute force for recall")
	seed := fs.Uint64("seed", 1, "seed of the synthetic codes")
	data := fs.String("data", "mixed", "comma-separated `lists` of synthetic codes to measure in turn: random, mixed, clusteredK")
	faiss := fs.String("faiss", "auto", "`python` interpreter that imports faiss, to time faiss side by side; auto tries python3 and /usr/bin/python3; none leaves faiss out")
	script := fs.String("faiss-script", "bench/faiss_index.py", "`path` of faiss_index.py")
	ref := fs.String("reference", "", "`path` of the reference benchmark-query (facebook/ThreatExchange pdq/cpp) to time side by side")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: safeguard-bench index [flags]\n\nFor each list of synthetic codes, builds an index and prints build time,\nmemory, single-thread query latency, queries a second on all cores,\nrecall against brute force and snapshot times, beside brute force and,\nwhen installed, faiss. The lists:\n\n%s\n\nflags:\n", DataSets)
		fs.PrintDefaults()
	}
	if _, code, ok := parse(fs, e, args); !ok {
		return code
	}
	python := findFaiss(*faiss)
	if python != "" {
		if _, err := os.Stat(*script); err != nil {
			fmt.Fprintf(e.stderr, "safeguard-bench index: faiss left out: %v\n", err)
			python = ""
		}
	}
	if *ref != "" {
		if _, err := os.Stat(*ref); err != nil {
			return fail(e, "bench index", "reference: %v", err)
		}
	}
	sizes, ok := intList(e, "bench index", "n", *n, 1, 1<<31-1)
	if !ok {
		return 2
	}
	ws, ok := intList(e, "bench index", "widths", *widths, 0, 29)
	if !ok {
		return 2
	}
	cfg := IndexConfig{Sizes: sizes, Widths: ws, NoSnapshot: !*snapshot, Queries: *queries, Radius: *radius, Sample: *sample, Seed: *seed, Data: strings.Split(*data, ","),
		Python: python, FaissScript: *script, Reference: *ref}
	if err := Index(e.stdout, cfg); err != nil {
		return fail(e, "bench index", "%v", err)
	}
	return 0
}

// findFaiss returns a python interpreter that can import faiss, or "".
// Debian's python3-faiss installs for /usr/bin/python3, which may not be
// the python3 first on PATH.
func findFaiss(choice string) string {
	candidates := []string{choice}
	switch choice {
	case "none", "":
		return ""
	case "auto":
		candidates = []string{"python3", "/usr/bin/python3"}
	}
	for _, py := range candidates {
		if exec.CommandContext(context.Background(), py, "-c", "import faiss, numpy").Run() == nil {
			return py
		}
	}
	return ""
}

func benchScan(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard-bench scan", flag.ContinueOnError)
	pg := fs.String("database-url", os.Getenv("SAFEGUARD_TEST_POSTGRES"), "PostgreSQL `URL` to measure besides SQLite, in a schema of its own that is dropped afterwards (env SAFEGUARD_TEST_POSTGRES)")
	conc := fs.String("concurrency", "8,64", "comma-separated `list` of requests in flight")
	dur := fs.Duration("duration", 5*time.Second, "how long each run lasts at most")
	maxScans := fs.Int("max", 20000, "most scans per run")
	bankSize := fs.Int("bank", 10000, "random PDQ entries in the bank besides the listed images")
	width := fs.Int("width", 640, "width of the JPEGs in `pixels` (height is 3/4 of it; 1152 makes 1 MP)")
	profile := fs.String("cpuprofile", "", "write a pprof CPU profile of the server during the first run to `file`")
	noSQLite := fs.Bool("no-sqlite", false, "measure PostgreSQL alone (so that --cpuprofile profiles its first run)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard-bench scan [flags]\n\nRuns the server in this process on a loopback port and scans 640-px JPEGs\nthrough POST /v1/scan at each concurrency, on SQLite (and PostgreSQL when\na URL is given); prints scans per second and latency percentiles.\n\nflags:")
		fs.PrintDefaults()
	}
	if rest, code, ok := parse(fs, e, args); !ok {
		return code
	} else if len(rest) > 0 {
		return fail(e, "bench scan", "unexpected argument %q", rest[0])
	}
	cfg := ScanConfig{DatabaseURL: *pg, NoSQLite: *noSQLite, Duration: *dur, MaxScans: *maxScans, BankSize: *bankSize, Width: *width, Listed: -1}
	if *noSQLite && *pg == "" {
		return fail(e, "bench scan", "--no-sqlite needs --database-url (or SAFEGUARD_TEST_POSTGRES)")
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return fail(e, "bench scan", "%v", err)
		}
		defer f.Close()
		cfg.CPUProfile = f
	}
	for _, s := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1024 {
			return fail(e, "bench scan", "--concurrency %q: want numbers 1..1024", s)
		}
		cfg.Concurrency = append(cfg.Concurrency, n)
	}
	if err := Scan(e.stdout, cfg); err != nil {
		return fail(e, "bench scan", "%v", err)
	}
	return 0
}

// benchScanClient is the load generator `bench scan` starts as a process of
// its own, so that the server's CPU time is measured without it.
func benchScanClient(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard-bench scan-client", flag.ContinueOnError)
	base := fs.String("base", "", "server `URL`")
	key := fs.String("key", "", "integrator key")
	width := fs.Int("width", 640, "JPEG width")
	images := fs.Int("images", 32, "distinct JPEGs")
	conc := fs.Int("concurrency", 8, "requests in flight")
	dur := fs.Duration("duration", 5*time.Second, "how long at most")
	maxScans := fs.Int("max", 20000, "most scans")
	if _, code, ok := parse(fs, e, args); !ok {
		return code
	}
	if *base == "" || *key == "" || *conc < 1 || *conc > 1024 {
		return fail(e, "bench scan-client", "want --base, --key and --concurrency 1..1024")
	}
	cfg := ScanConfig{Width: *width, Images: *images, Duration: *dur, MaxScans: *maxScans}
	if err := scanClient(e.stdout, *base, *key, cfg, *conc); err != nil {
		return fail(e, "bench scan-client", "%v", err)
	}
	return 0
}

func benchScaleCurve(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard-bench scalecurve", flag.ContinueOnError)
	testdata := fs.String("testdata", "testdata/threatexchange", "`directory` of the reference's sample images and expected-pdq.csv")
	widths := fs.String("widths", "480,640,800,1024", "comma-separated `widths` of the small images")
	sides := fs.String("min-sides", "0,512,256,192,128,96,64", "comma-separated MinSide `values` (0: full-size decoding, exact)")
	dur := fs.Duration("duration", 2*time.Second, "how long to time each point")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard-bench scalecurve [flags]\n\nSpeed against distance from the reference of DCT-scaled decoding of small\nJPEGs (the reference's samples resized), end to end as a scan hashes.\n\nflags:")
		fs.PrintDefaults()
	}
	if rest, code, ok := parse(fs, e, args); !ok {
		return code
	} else if len(rest) > 0 {
		return fail(e, "bench scalecurve", "unexpected argument %q", rest[0])
	}
	ints := func(flagName, list string, lo, hi int) ([]int, bool) {
		return intList(e, "bench scalecurve", flagName, list, lo, hi)
	}
	cfg := CurveConfig{Testdata: *testdata, Duration: *dur}
	var ok bool
	if cfg.Widths, ok = ints("widths", *widths, 16, 8192); !ok {
		return 2
	}
	if cfg.MinSides, ok = ints("min-sides", *sides, 0, 8192); !ok {
		return 2
	}
	if err := ScaleCurve(e.stdout, cfg); err != nil {
		return fail(e, "bench scalecurve", "%v", err)
	}
	return 0
}

func benchStartup(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard-bench startup", flag.ContinueOnError)
	n := fs.Int("n", 1_000_000, "PDQ entries in the store")
	data := fs.String("data", "", "`directory` of the SQLite store, kept between runs (a store holding the entries is not imported again)")
	pg := fs.String("database-url", "", "PostgreSQL `URL` to measure instead of SQLite")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard-bench startup --data DIR [flags]\n\nImports N random PDQ entries (timing each million), then times loading\nthe matcher from the change feed, writing its snapshot, loading from the\nsnapshot, and a server's start after a clean stop until /readyz is 200.\n\nflags:")
		fs.PrintDefaults()
	}
	if rest, code, ok := parse(fs, e, args); !ok {
		return code
	} else if len(rest) > 0 || *data == "" || *n < 1 {
		return fail(e, "bench startup", "want --data DIR and --n >= 1, no arguments")
	}
	if err := Startup(e.stdout, StartupConfig{N: *n, Data: *data, DatabaseURL: *pg}); err != nil {
		return fail(e, "bench startup", "%v", err)
	}
	return 0
}
