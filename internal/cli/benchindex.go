package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/safeguard-oss/safeguard/bench"
)

func benchIndex(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard bench index", flag.ContinueOnError)
	n := fs.Int("n", 1_000_000, "codes in the index")
	queries := fs.Int("queries", 10_000, "queries to time")
	radius := fs.Int("radius", 31, "search radius in bits")
	sample := fs.Int("sample", 200, "queries checked against brute force for recall")
	seed := fs.Uint64("seed", 1, "seed of the synthetic codes")
	data := fs.String("data", "mixed", "comma-separated `lists` of synthetic codes to measure in turn: random, mixed, clusteredK")
	faiss := fs.String("faiss", "auto", "`python` interpreter that imports faiss, to time faiss side by side; auto tries python3 and /usr/bin/python3; none leaves faiss out")
	script := fs.String("faiss-script", "bench/faiss_index.py", "`path` of faiss_index.py")
	ref := fs.String("reference", "", "`path` of the reference benchmark-query (facebook/ThreatExchange pdq/cpp) to time side by side")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: safeguard bench index [flags]\n\nFor each list of synthetic codes, builds an index and prints build time,\nmemory, single-thread query latency, queries a second on all cores,\nrecall against brute force and snapshot times, beside brute force and,\nwhen installed, faiss. The lists:\n\n%s\n\nflags:\n", bench.DataSets)
		fs.PrintDefaults()
	}
	if _, code, ok := parse(fs, e, args); !ok {
		return code
	}
	python := findFaiss(*faiss)
	if python != "" {
		if _, err := os.Stat(*script); err != nil {
			fmt.Fprintf(e.stderr, "safeguard bench index: faiss left out: %v\n", err)
			python = ""
		}
	}
	if *ref != "" {
		if _, err := os.Stat(*ref); err != nil {
			return fail(e, "bench index", "reference: %v", err)
		}
	}
	cfg := bench.IndexConfig{N: *n, Queries: *queries, Radius: *radius, Sample: *sample, Seed: *seed, Data: strings.Split(*data, ","),
		Python: python, FaissScript: *script, Reference: *ref}
	if err := bench.Index(e.stdout, cfg); err != nil {
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
