package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

func runAPIKey(e *env, args []string) int {
	subs := map[string]func(*env, []string) int{"create": apikeyCreate, "list": apikeyList, "revoke": apikeyRevoke, "limit": apikeyLimit}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(e.stderr, "usage: safeguard apikey create|list|revoke|limit [flags] ...\n\n  create --role R --name N   make a key and print it (once: only its hash is kept);\n         [--burst B --rate R]  with a rate limit of its own (else serve's --key-burst/--key-rate)\n  list                       every key, revoked ones included, never their secrets\n  revoke ID                  refuse the key from now on\n  limit ID --burst B --rate R  give the key a rate limit of its own, or with --default the\n                             server's again (running servers apply it within 5 s)")
		if askedHelp(args) {
			return 0
		}
		if len(args) > 0 {
			return fail(e, "apikey", "unknown subcommand %q", args[0])
		}
		return 2
	}
	return subs[args[0]](e, args[1:])
}

// cliActor names who ran a command in the audit log: there is no API key,
// so the local user.
func cliActor() string { return "cli:" + currentUser() }

func apikeyCreate(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard apikey create", flag.ContinueOnError)
	role := fs.String("role", "", "the key's `role`: admin, integrator, reviewer, flagger, le_liaison, auditor or partner")
	name := fs.String("name", "", "what the key is for, e.g. \"upload service\" (shown in listings and the audit log)")
	burst := fs.Int("burst", 0, "the key's own rate limit: `requests` at once (with --rate; default: the server's --key-burst)")
	rate := fs.Float64("rate", 0, "the key's own rate limit: `requests` a second, sustained (with --burst; default: the server's --key-rate)")
	sf := addStoreFlags(fs)
	if rest, code, ok := parse(fs, e, args); !ok {
		return code
	} else if len(rest) > 0 {
		return fail(e, "apikey create", "unexpected argument %q", rest[0])
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fail(e, "apikey create", "--role: %v", err)
	}
	var limit *auth.RateLimit
	if *burst != 0 || *rate != 0 {
		limit = &auth.RateLimit{Burst: *burst, PerSecond: *rate}
		if err := limit.Validate(); err != nil {
			return fail(e, "apikey create", "--burst %d --rate %v (give both): %v", *burst, *rate, err)
		}
	}
	return withStore(e, "apikey create", sf, func(ctx context.Context, _ store.Store, banks *usecase.Banks) error {
		plain, k, err := createKey(ctx, cliChanges(banks), r, *name, limit)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "created %s key %s (%q); it is shown this once, store it now:\n", k.Role, k.ID, k.Name)
		fmt.Fprintln(e.stdout, plain)
		return nil
	})
}

func apikeyList(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard apikey list", flag.ContinueOnError)
	sf := addStoreFlags(fs)
	if _, code, ok := parse(fs, e, args); !ok {
		return code
	}
	return withStore(e, "apikey list", sf, func(ctx context.Context, st store.Store, _ *usecase.Banks) error {
		ks, err := st.ListKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tNAME\tRATE LIMIT\tCREATED\tLAST USED\tREVOKED")
		stamp := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.UTC().Format(time.RFC3339)
		}
		for _, k := range ks {
			limit := "default"
			if k.Limit != nil {
				limit = fmt.Sprintf("%d at once, %g/s", k.Limit.Burst, k.Limit.PerSecond)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, k.Name, limit, stamp(&k.CreatedAt), stamp(k.LastUsedAt), stamp(k.RevokedAt))
		}
		return tw.Flush()
	})
}

func apikeyRevoke(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard apikey revoke", flag.ContinueOnError)
	sf := addStoreFlags(fs)
	ids, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(ids) != 1 {
		return fail(e, "apikey revoke", "want one key ID (see safeguard apikey list)")
	}
	return withStore(e, "apikey revoke", sf, func(ctx context.Context, _ store.Store, banks *usecase.Banks) error {
		if err := revokeKey(ctx, cliChanges(banks), ids[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked key %s\n", ids[0])
		return nil
	})
}

// revokeKey revokes key id and records it in the audit log, both in one
// transaction.
func revokeKey(ctx context.Context, changes *usecase.Changes, id string) error {
	return changes.Do(ctx, cliActor(), audit.KeyRevoke, func(tx usecase.Stores) (string, any, error) {
		return id, nil, tx.Keys.RevokeKey(ctx, id, time.Now().UTC().Truncate(time.Microsecond))
	})
}

func apikeyLimit(e *env, args []string) int {
	const cmd = "apikey limit"
	fs := flag.NewFlagSet("safeguard apikey limit", flag.ContinueOnError)
	burst := fs.Int("burst", 0, "the key's own rate limit: `requests` at once (with --rate)")
	rate := fs.Float64("rate", 0, "the key's own rate limit: `requests` a second, sustained (with --burst)")
	def := fs.Bool("default", false, "drop the key's own limit: the server's default (serve's --key-burst/--key-rate) again")
	sf := addStoreFlags(fs)
	ids, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(ids) != 1 {
		return fail(e, cmd, "want one key ID (see safeguard apikey list), then --burst B --rate R or --default")
	}
	id := ids[0]
	given := *burst != 0 || *rate != 0
	var limit *auth.RateLimit
	switch {
	case *def && given:
		return fail(e, cmd, "key %s: --default drops the key's own limit; give it or --burst and --rate, not both", id)
	case !*def && !given:
		return fail(e, cmd, "key %s: give --burst B --rate R (the key's own limit) or --default (the server's)", id)
	case given:
		limit = &auth.RateLimit{Burst: *burst, PerSecond: *rate}
		if err := limit.Validate(); err != nil {
			return fail(e, cmd, "key %s: --burst %d --rate %v (give both): %v", id, *burst, *rate, err)
		}
	}
	return withStore(e, cmd, sf, func(ctx context.Context, st store.Store, banks *usecase.Banks) error {
		k, _, err := st.KeyByID(ctx, id)
		if errors.Is(err, auth.ErrUnknown) {
			return fmt.Errorf("no key %s (see safeguard apikey list)", id)
		} else if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return fmt.Errorf("key %s (%q) was revoked at %s: it makes no requests to limit", id, k.Name, k.RevokedAt.UTC().Format(time.RFC3339))
		}
		err = cliChanges(banks).Do(ctx, cliActor(), audit.KeyLimit, func(tx usecase.Stores) (string, any, error) {
			return id, auth.LimitChanged(k.Limit, limit), auth.SetLimit(ctx, tx.Keys, id, limit)
		})
		if err != nil {
			return err
		}
		now := "the server's default (--key-burst, --key-rate)"
		if limit != nil {
			now = fmt.Sprintf("%d at once, %g/s", limit.Burst, limit.PerSecond)
		}
		fmt.Fprintf(e.stdout, "key %s (%q): rate limit %s; running servers apply it within 5 s (at once on PostgreSQL)\n", id, k.Name, now)
		return nil
	})
}
