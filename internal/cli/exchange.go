package cli

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/kinds"
	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
)

const exchangeUsage = `usage: safeguard exchange check CONFIG | peer-key

  check CONFIG   read an exchange configuration (docs/exchanges.md), build every
                 exchange and print it, naming its credentials but never their values
  peer-key       make an Ed25519 key for publishing banks to other Safeguard instances:
                 the private seed (keep it secret) and the public key subscribers pin`

func runExchange(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, exchangeUsage)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, exchangeUsage)
		return 0
	case "check":
		if len(args) != 2 {
			fmt.Fprintln(e.stderr, exchangeUsage)
			return 2
		}
		return exchangeCheck(e, args[1])
	case "peer-key":
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			return fail(e, "exchange peer-key", "%v", err)
		}
		fmt.Fprintf(e.stdout, "private seed: %s\npublic key:   %s\n", base64.StdEncoding.EncodeToString(priv.Seed()), peer.EncodeKey(pub))
		return 0
	}
	return fail(e, "exchange", "unknown subcommand %q\n\n%s", args[0], exchangeUsage)
}

func exchangeCheck(e *env, path string) int {
	cfgs, err := exchange.LoadConfigFile(path)
	if err != nil {
		return fail(e, "exchange check", "%v", err)
	}
	r := &exchange.Runner{}
	if err := kinds.AddAll(r, cfgs, nil); err != nil {
		return fail(e, "exchange check", "%s: %v", path, err)
	}
	for _, c := range cfgs {
		interval := c.Interval
		if interval == 0 {
			interval = exchange.DefaultInterval
		}
		var creds []string
		for k := range c.Credentials {
			creds = append(creds, k)
		}
		slices.Sort(creds)
		fmt.Fprintf(e.stdout, "%-24s %-15s every %-8s credentials: %s\n", c.Name, c.Kind, interval, strings.Join(creds, ", "))
	}
	fmt.Fprintf(e.stdout, "%d exchanges ok\n", len(cfgs))
	return 0
}
