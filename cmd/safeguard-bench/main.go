// Command safeguard-bench measures Safeguard: hashing against the reference
// hasher, the Hamming index, and scans through a running server. It is a
// command of its own so that the product binary carries no load generator.
package main

import (
	"os"

	"github.com/safeguard-oss/safeguard/bench"
)

func main() { os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr)) }
