// Package cli is the safeguard command: one binary whose subcommands hash,
// match, serve and measure.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// env is what a subcommand may touch of the outside world, so that tests
// can run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	name, summary string
	run           func(e *env, args []string) int
}

func commands() []command {
	return []command{
		{"hash", "print the PDQ (images), vPDQ (videos), MD5 and SHA-256 of files", runHash},
		{"bank", "create, list, import, export and remove hash banks", runBank},
		{"match", "look images or PDQ hashes up in the banks", runMatch},
		{"serve", "serve the HTTP API: scan, lookup, banks, rules, webhooks, keys, audit", runServe},
		{"apikey", "create, list and revoke API keys", runAPIKey},
		{"audit", "verify the audit log's hash chain", runAudit},
		{"evidence", "verify and open hotline evidence packages, make and rotate the master key (evidence verify, open, keygen, rotate-key)", runEvidence},
		{"hotline", "make a hotline's key pair for evidence packages (hotline keygen)", runHotline},
		{"network", "find networks re-sharing children's images in activity events (network detect, generate, eval)", runNetwork},
		{"text", "score text for grooming, sextortion, sexual comments (text score, eval, train)", runText},
		{"transparency", "print a period's transparency figures (--format json|csv|dsa)", runTransparency},
		{"notice", "notices to outside hosts, chased until removal: check settings, add, list, figures per host, withdraw", runNotice},
		{"exchange", "check exchanges, show their status, fetch one now; make a peer publishing key", runExchange},
		{"bench", "the benchmarks are a command of their own: safeguard-bench (go run ./cmd/safeguard-bench -h)", runBench},
		{"version", "print the version", func(e *env, _ []string) int { fmt.Fprintln(e.stdout, "safeguard", Version); return 0 }},
	}
}

// Version is set at build time with -ldflags "-X .../internal/cli.Version=…".
var Version = "dev"

// Main runs the command line args (without the program name) and returns
// the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || askedHelp(args) {
		usage(e.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "safeguard: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: safeguard <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'safeguard <command> -h' for a command's flags.")
}

// groupUsage prints a command group's usage: on standard output, exiting 0,
// when help was asked for (args[0] is -h, --help or help); else on standard
// error, exiting 2.
// askedHelp says whether args ask for a command's usage.
func askedHelp(args []string) bool {
	return len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help")
}

func groupUsage(e *env, args []string, usage string) int {
	if askedHelp(args) {
		fmt.Fprintln(e.stdout, usage)
		return 0
	}
	fmt.Fprintln(e.stderr, usage)
	return 2
}

// parse parses flags that may come before, between or after the
// positional arguments ("safeguard hash dir --format json"), and returns the
// positional ones. A lone "-" is positional; "--" ends the flags.
func parse(fs *flag.FlagSet, e *env, args []string) ([]string, int, bool) {
	fs.SetOutput(e.stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// fail prints a command's error in the one format every command uses.
func fail(e *env, cmd string, format string, a ...any) int {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(e.stderr, "safeguard %s: %s\n", cmd, strings.TrimSuffix(msg, "\n"))
	return 2
}
