package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/kinds"
	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

const exchangeUsage = `usage: safeguard exchange check CONFIG | status CONFIG | fetch CONFIG NAME | peer-key

  check CONFIG   read an exchange configuration (docs/exchanges.md), build every
                 exchange and print it, naming its credentials but never their values
  status CONFIG  each configured exchange's bank and stored checkpoint (--data or
                 --database-url); a running server's live status is GET /v1/exchanges
  fetch CONFIG NAME
                 fetch one exchange now into the store and wait (a backfill, a cron
                 job); refused while another node holds the exchange's lock
  peer-key       make an Ed25519 key for publishing banks to other Safeguard instances:
                 the private seed (keep it secret: SAFEGUARD_PEER_KEY or peer-key in serve's
                 config file) and the public key subscribers pin
  peer-key --public [--config FILE]
                 print the public key of the configured seed (SAFEGUARD_PEER_KEY, else
                 peer-key in the config file), for a new subscriber to pin`

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
	case "status", "fetch":
		return exchangeStore(e, args[0], args[1:])
	case "peer-key":
		if len(args) > 1 {
			return peerPublicKey(e, args[1:])
		}
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			return fail(e, "exchange peer-key", "%v", err)
		}
		fmt.Fprintf(e.stdout, "private seed: %s\npublic key:   %s\n", base64.StdEncoding.EncodeToString(priv.Seed()), peer.EncodeKey(pub))
		return 0
	}
	return fail(e, "exchange", "unknown subcommand %q\n\n%s", args[0], exchangeUsage)
}

// peerPublicKey prints the public key of the configured publishing key.
func peerPublicKey(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard exchange peer-key", flag.ContinueOnError)
	public := fs.Bool("public", false, "print the configured key's public key")
	config := addConfigFlag(fs)
	rest, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if !*public || len(rest) > 0 {
		fmt.Fprintln(e.stderr, exchangeUsage)
		return 2
	}
	file, err := settle(fs, *config, nil)
	if err != nil {
		return fail(e, "exchange peer-key", "%v", err)
	}
	seed, ok := os.LookupEnv(envName("peer-key"))
	if !ok {
		seed = file["peer-key"]
	}
	if seed == "" {
		return fail(e, "exchange peer-key", "no peer key: set SAFEGUARD_PEER_KEY or peer-key in --config")
	}
	priv, err := peer.ParsePrivateKey(seed)
	if err != nil {
		return fail(e, "exchange peer-key", "%v", err)
	}
	fmt.Fprintln(e.stdout, peer.EncodeKey(priv.Public().(ed25519.PublicKey)))
	return 0
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

// exchangeStore runs status and fetch, which read or write the store.
func exchangeStore(e *env, sub string, args []string) int {
	cmd := "exchange " + sub
	fs := flag.NewFlagSet("safeguard "+cmd, flag.ContinueOnError)
	sf := addStoreFlags(fs)
	rest, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if want := map[string]int{"status": 1, "fetch": 2}[sub]; len(rest) != want {
		fmt.Fprintln(e.stderr, exchangeUsage)
		return 2
	}
	cfgs, err := exchange.LoadConfigFile(rest[0])
	if err != nil {
		return fail(e, cmd, "%v", err)
	}
	return withStore(e, cmd, sf, func(ctx context.Context, st store.Store, banks *usecase.Banks) error {
		// No matcher: servers sharing the store pick the changes up from
		// the change feed.
		return exchangeReport(ctx, e, st, banks, sub, rest, cfgs)
	})
}

func exchangeReport(ctx context.Context, e *env, st store.Store, banks *usecase.Banks, sub string, rest []string, cfgs []exchange.Config) error {
	if sub == "fetch" {
		r, err := server.NewExchanges(ctx, cfgs, banks, slog.New(slog.NewTextHandler(e.stderr, nil)))
		if err != nil {
			return err
		}
		// The status is the store's, counted over every fetch: this
		// fetch's part is the difference.
		was, err := r.Status(rest[1])
		if err != nil {
			return err
		}
		ferr := r.Fetch(ctx, rest[1])
		s, err := r.Status(rest[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: %d pages, %d records, %d entries, %d tombstones, %d malformed\n",
			s.Name, s.Pages-was.Pages, s.Records-was.Records, s.Entries-was.Entries, s.Removed-was.Removed, s.Malformed-was.Malformed)
		if ferr != nil {
			return ferr
		}
	}
	for _, c := range cfgs {
		entries := "no bank yet"
		if b, err := st.Bank(ctx, c.Name); err == nil {
			entries = fmt.Sprintf("%d entries", b.Entries)
		}
		cp, err := st.ExchangeCheckpoint(ctx, c.Name)
		if err != nil {
			return err
		}
		at := "never fetched"
		if !cp.UpdatedAt.IsZero() {
			at = "checkpoint " + cp.UpdatedAt.UTC().Format(time.RFC3339) + " " + exchange.Clip(cp.Position)
		}
		last := ""
		if ss, ok, err := st.ExchangeStatus(ctx, c.Name); err != nil {
			return err
		} else if ok {
			last = "; last fetch " + ss.LastFetch.UTC().Format(time.RFC3339)
			if ss.Succeeded {
				last += " succeeded"
			} else {
				last += " failed: " + exchange.Clip(ss.LastError)
			}
		}
		fmt.Fprintf(e.stdout, "%-24s %-15s %-16s %s%s\n", c.Name, c.Kind, entries, at, last)
	}
	return nil
}
