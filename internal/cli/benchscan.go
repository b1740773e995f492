package cli

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/bench"
)

func benchScan(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard bench scan", flag.ContinueOnError)
	pg := fs.String("database-url", os.Getenv("SAFEGUARD_TEST_POSTGRES"), "PostgreSQL `URL` to measure besides SQLite, in a schema of its own that is dropped afterwards (env SAFEGUARD_TEST_POSTGRES)")
	conc := fs.String("concurrency", "8,64", "comma-separated `list` of requests in flight")
	dur := fs.Duration("duration", 5*time.Second, "how long each run lasts at most")
	maxScans := fs.Int("max", 20000, "most scans per run")
	bankSize := fs.Int("bank", 10000, "random PDQ entries in the bank besides the listed images")
	width := fs.Int("width", 640, "width of the JPEGs in `pixels` (height is 3/4 of it; 1152 makes 1 MP)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard bench scan [flags]\n\nRuns the server in this process on a loopback port and scans 640-px JPEGs\nthrough POST /v1/scan at each concurrency, on SQLite (and PostgreSQL when\na URL is given); prints scans per second and latency percentiles.\n\nflags:")
		fs.PrintDefaults()
	}
	if rest, code, ok := parse(fs, e, args); !ok {
		return code
	} else if len(rest) > 0 {
		return fail(e, "bench scan", "unexpected argument %q", rest[0])
	}
	cfg := bench.ScanConfig{DatabaseURL: *pg, Duration: *dur, MaxScans: *maxScans, BankSize: *bankSize, Width: *width, Listed: -1}
	for _, s := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1024 {
			return fail(e, "bench scan", "--concurrency %q: want numbers 1..1024", s)
		}
		cfg.Concurrency = append(cfg.Concurrency, n)
	}
	if err := bench.Scan(e.stdout, cfg); err != nil {
		return fail(e, "bench scan", "%v", err)
	}
	return 0
}
