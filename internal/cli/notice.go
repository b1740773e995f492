package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

const noticeUsage = `usage: safeguard notice check FILE | add [flags] | list | figures | withdraw ID [--reason R]

  check FILE  read a notice settings file (docs/notices.md) and print what it
              configures, naming host tokens' variables, never their values
  add         register a notice (--url, --category, --legal-basis, --contact,
              --host); the server's worker checks and sends it. Content to keep
              as evidence goes through POST /v1/notices, which has the keyring.
  list        every notice: state, host, sendings, last check
  figures     per host: notices, sent, removed, median time to removal, still up
  withdraw ID stop chasing a notice
Store flags (--data, --database-url, --config) as serve's.`

func runNotice(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, noticeUsage)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, noticeUsage)
		return 0
	case "check":
		if len(args) != 2 {
			fmt.Fprintln(e.stderr, noticeUsage)
			return 2
		}
		return noticeCheck(e, args[1])
	case "add", "list", "figures", "withdraw":
		return noticeStore(e, args[0], args[1:])
	}
	return fail(e, "notice", "unknown subcommand %q\n\n%s", args[0], noticeUsage)
}

func noticeCheck(e *env, path string) int {
	// Tokens are only named: any value will do to check the file.
	c, s, err := notice.LoadConfig(path, "", "", func(string) string { return "set" })
	if err != nil {
		return fail(e, "notice check", "%v", err)
	}
	mail := "no e-mail (smtp unset)"
	if c.SMTP != "" {
		mail = "e-mail through " + c.SMTP + " from " + c.From
	}
	fmt.Fprintf(e.stdout, "%s\ncheck every %s, resend every %s, ", mail, cmpDur(s.CheckEvery, notice.DefaultCheckEvery), cmpDur(s.Resend, notice.DefaultResend))
	if c.Authority != "" && s.EscalateAfter > 0 {
		fmt.Fprintf(e.stdout, "escalate to %s after %s\n", c.Authority, s.EscalateAfter)
	} else {
		fmt.Fprintln(e.stdout, "no escalation")
	}
	hosts := make([]string, 0, len(c.Hosts))
	for h := range c.Hosts {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		token := "no token"
		if v := c.Hosts[h].TokenEnv; v != "" {
			token = "token from $" + v
		}
		fmt.Fprintf(e.stdout, "host %-24s API %s (%s)\n", h, c.Hosts[h].URL, token)
	}
	return 0
}

func cmpDur(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func noticeStore(e *env, sub string, args []string) int {
	cmd := "notice " + sub
	fs := flag.NewFlagSet("safeguard "+cmd, flag.ContinueOnError)
	var n notice.Notice
	var reason string
	if sub == "add" {
		fs.StringVar(&n.URL, "url", "", "`URL` of the material")
		fs.StringVar(&n.Host, "host", "", "the host or platform (default the URL's host name)")
		fs.StringVar(&n.Contact, "contact", "", "the host's abuse e-mail `address`")
		fs.StringVar((*string)(&n.Category), "category", string(review.SuspectedCSAM), "category: "+strings.Join(categories(), ", "))
		fs.StringVar(&n.LegalBasis, "legal-basis", "", "the law or terms the notice relies on")
		fs.StringVar(&n.Note, "note", "", "a note for the register")
	}
	if sub == "withdraw" {
		fs.StringVar(&reason, "reason", "", "why")
	}
	sf := addStoreFlags(fs)
	rest, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if want := map[string]int{"withdraw": 1}[sub]; len(rest) != want {
		fmt.Fprintln(e.stderr, noticeUsage)
		return 2
	}
	return withStore(e, cmd, sf, func(ctx context.Context, st store.Store, b *usecase.Banks) error {
		u := &usecase.Notices{Tx: b.Tx, Log: b.Log, Store: st}
		switch sub {
		case "add":
			made, err := u.Create(ctx, cliActor(), n, nil, "")
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "notice %d: %s (%s), due now\n", made.ID, made.URL, made.Host)
		case "withdraw":
			var id int64
			if _, err := fmt.Sscan(rest[0], &id); err != nil {
				return fmt.Errorf("%q is not a notice id", rest[0])
			}
			if _, err := u.Withdraw(ctx, cliActor(), id, reason); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "notice %d withdrawn\n", id)
		case "list":
			ns, err := st.Notices(ctx)
			if err != nil {
				return err
			}
			for _, n := range ns {
				last := "never checked"
				if c := n.LastCheck; c != nil {
					last = fmt.Sprintf("last check %s: status %d, found %v", c.At.Format(time.RFC3339), c.Status, c.Found)
				}
				fmt.Fprintf(e.stdout, "%-6d %-9s %-24s sent %-3d %s  %s\n", n.ID, n.State, n.Host, n.Sends, last, n.URL)
			}
		case "figures":
			ns, err := st.Notices(ctx)
			if err != nil {
				return err
			}
			printFigures(e, notice.Figures(ns, time.Now()))
		}
		return nil
	})
}

func categories() []string {
	out := make([]string, len(review.Categories))
	for i, c := range review.Categories {
		out[i] = string(c)
	}
	return out
}

// printFigures prints the per-host table; every figure counts notices
// (docs/notices.md says what each counts).
func printFigures(e *env, rows []notice.HostRow) {
	fmt.Fprintf(e.stdout, "%-24s %8s %6s %8s %9s %9s %22s %14s\n", "host", "notices", "sent", "removed", "still up", "escalated", "median to removal", "oldest up")
	for _, r := range rows {
		median := "-"
		if r.Removed > 0 {
			median = api.Age(r.MedianToRemoval)
		}
		oldest := "-"
		if r.StillUp > 0 && r.Oldest > 0 {
			oldest = api.Age(r.Oldest)
		}
		fmt.Fprintf(e.stdout, "%-24s %8d %6d %8d %9d %9d %22s %14s\n", r.Host, r.Notices, r.Sent, r.Removed, r.StillUp, r.Escalated, median, oldest)
	}
	if len(rows) == 0 {
		fmt.Fprintln(e.stderr, "no notices")
	}
}
