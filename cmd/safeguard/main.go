// Command safeguard finds, stops, reviews and reports child sexual exploitation
// on an online service. See the README for the subcommands.
package main

import (
	"os"

	"github.com/safeguard-oss/safeguard/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
