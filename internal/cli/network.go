package cli

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/network/platformgen"
)

func runNetwork(e *env, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "detect":
			return runNetworkDetect(e, args[1:])
		case "generate":
			return runNetworkGenerate(e, args[1:])
		case "eval":
			return runNetworkEval(e, args[1:])
		}
	}
	return groupUsage(e, args, `usage: safeguard network detect [--format csv|json] EVENTS.jsonl|-
       safeguard network generate [--seed N] [--accounts N] [--networks SIZES] [--truth FILE]
       safeguard network eval --truth FILE EVENTS.jsonl|-

detect finds networks that re-share and sexualise children's images in
activity events (JSON lines; docs/network.md). generate writes a synthetic
platform's events, and its ground truth to --truth; eval runs detect on
events and scores it against that truth.`)
}

// detector is the detector the commands use, with the text-signal scorer.
func detector() (*network.Detector, error) { return network.NewDetector() }

func runNetworkDetect(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard network detect", flag.ContinueOnError)
	format := fs.String("format", "csv", "output `format`: csv (account,network,score,role) or json (one network a line, with reasons and evidence)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard network detect [--format csv|json] EVENTS.jsonl|-\n\nBad lines are named on stderr and skipped; the exit status is then 1.\n\nflags:")
		fs.PrintDefaults()
	}
	pos, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if *format != "csv" && *format != "json" {
		return fail(e, "network detect", "unknown --format %q: want csv or json", *format)
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	d, err := detector()
	if err != nil {
		return fail(e, "network detect", "%v", err)
	}
	a, bad, err := readEvents(e, "network detect", pos[0])
	if err != nil {
		return fail(e, "network detect", "%v", err)
	}
	nets := d.Detect(a)
	out := bufio.NewWriter(e.stdout)
	if *format == "json" {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		for _, n := range nets {
			if err := enc.Encode(n); err != nil {
				return fail(e, "network detect", "%v", err)
			}
		}
	} else {
		w := csv.NewWriter(out)
		w.Write([]string{"account", "network", "score", "role"})
		for _, n := range nets {
			s := strconv.FormatFloat(n.Score, 'f', 2, 64)
			for _, m := range n.Members {
				w.Write([]string{m.Account, n.ID, s, "member"})
			}
			for _, t := range n.Targets {
				w.Write([]string{t.Account, n.ID, s, "target"})
			}
		}
		w.Flush()
	}
	if err := out.Flush(); err != nil {
		return fail(e, "network detect", "%v", err)
	}
	if bad {
		return 1
	}
	return 0
}

// readEvents reads a file of events (or stdin for "-"), naming bad lines
// on stderr; bad is true when there were some.
func readEvents(e *env, cmd, path string) (a *network.Activity, bad bool, err error) {
	var r io.Reader = e.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, false, err
		}
		defer f.Close()
		r = f
	}
	a = &network.Activity{}
	st, err := network.Read(r, a)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	for _, le := range st.BadLines {
		fmt.Fprintf(e.stderr, "safeguard %s: %s: skipped %v\n", cmd, path, le)
	}
	if st.Bad > len(st.BadLines) {
		fmt.Fprintf(e.stderr, "safeguard %s: %s: and %d more bad lines\n", cmd, path, st.Bad-len(st.BadLines))
	}
	fmt.Fprintf(e.stderr, "safeguard %s: %s: %d lines, %d events accepted, %d repeated, %d bad\n", cmd, path, st.Lines, st.Accepted, st.Repeated, st.Bad)
	return a, st.Bad > 0, nil
}

func runNetworkGenerate(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard network generate", flag.ContinueOnError)
	d := platformgen.Default(1)
	seed := fs.Uint64("seed", d.Seed, "random `seed`")
	accounts := fs.Int("accounts", d.Ordinary, "ordinary accounts (the platform's size)")
	children := fs.Int("children", d.Children, "parent-run child accounts")
	sizes := fs.String("networks", joinInts(d.Networks), "planted networks' `sizes`, comma-separated; styles take turns (emoji, reposter, mixed)")
	memeReposts := fs.Int("meme-reposts", d.MemeReposts, "accounts re-posting each meme")
	cueLess := fs.Float64("cue-less", d.CueLess, "share (0-1) of child accounts whose bio and declared age say nothing of a child")
	truthPath := fs.String("truth", "", "write the ground truth (JSON) to this `file`")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard network generate [flags] > EVENTS.jsonl\n\nWrites a synthetic platform's events (docs/network.md).\n\nflags:")
		fs.PrintDefaults()
	}
	pos, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		fs.Usage()
		return 2
	}
	cfg := platformgen.Default(*seed)
	cfg.Ordinary, cfg.Children, cfg.MemeReposts, cfg.CueLess = *accounts, *children, *memeReposts, *cueLess
	if cfg.CueLess < 0 || cfg.CueLess > 1 {
		return fail(e, "network generate", "--cue-less: want a share from 0 to 1, got %v", cfg.CueLess)
	}
	var err error
	if cfg.Networks, err = splitInts(*sizes); err != nil {
		return fail(e, "network generate", "--networks: %v", err)
	}
	if cfg.Ordinary < 10 || cfg.Children < 1 {
		return fail(e, "network generate", "want at least 10 accounts and 1 child, got %d and %d", cfg.Ordinary, cfg.Children)
	}
	events, truth := platformgen.Generate(cfg)
	out := bufio.NewWriter(e.stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for _, ev := range events {
		if err := enc.Encode(ev); err != nil {
			return fail(e, "network generate", "%v", err)
		}
	}
	if err := out.Flush(); err != nil {
		return fail(e, "network generate", "%v", err)
	}
	if *truthPath != "" {
		b, err := json.MarshalIndent(truth, "", "  ")
		if err == nil {
			err = os.WriteFile(*truthPath, append(b, '\n'), 0o644)
		}
		if err != nil {
			return fail(e, "network generate", "%v", err)
		}
	}
	return 0
}

func runNetworkEval(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard network eval", flag.ContinueOnError)
	truthPath := fs.String("truth", "", "the generator's ground truth `file`")
	scorer := fs.String("scorer", "textrisk", "comment `scorer`: textrisk, or lexicon (network.Lexicon, the minimal stand-in the package's tests use)")
	pos, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(pos) != 1 || *truthPath == "" {
		fmt.Fprintln(e.stderr, "usage: safeguard network eval --truth FILE EVENTS.jsonl|-")
		return 2
	}
	b, err := os.ReadFile(*truthPath)
	if err != nil {
		return fail(e, "network eval", "%v", err)
	}
	var truth platformgen.Truth
	if err := json.Unmarshal(b, &truth); err != nil {
		return fail(e, "network eval", "%s: %v", *truthPath, err)
	}
	d, err := detector()
	if err != nil {
		return fail(e, "network eval", "%v", err)
	}
	switch *scorer {
	case "textrisk":
	case "lexicon":
		d = &network.Detector{Scorer: network.Lexicon{}}
	default:
		return fail(e, "network eval", "unknown --scorer %q: want textrisk or lexicon", *scorer)
	}
	a, _, err := readEvents(e, "network eval", pos[0])
	if err != nil {
		return fail(e, "network eval", "%v", err)
	}
	platformgen.Evaluate(truth, d.Detect(a)).Print(e.stdout)
	return 0
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func splitInts(s string) ([]int, error) {
	var xs []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 100000 {
			return nil, fmt.Errorf("%q is not a size (1 to 100000)", f)
		}
		xs = append(xs, n)
	}
	return xs, nil
}
