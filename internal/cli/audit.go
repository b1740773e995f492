package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

func runAudit(e *env, args []string) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(e.stderr, "usage: safeguard audit verify [--anchor sgaudit:SEQ:HASH]... [store flags]\n\n  verify   check the hash chain; name every edited, deleted, inserted or reordered entry")
		if askedHelp(args) {
			return 0
		}
		return 2
	}
	return auditVerify(e, args[1:])
}

type anchorList []audit.Anchor

func (l *anchorList) String() string { return fmt.Sprint(*l) }
func (l *anchorList) Set(s string) error {
	a, err := audit.ParseAnchor(s)
	if err != nil {
		return err
	}
	*l = append(*l, a)
	return nil
}

// auditVerify exits 0 when the chain verifies, 1 when it is broken (each
// break printed), 2 when the log could not be read.
func auditVerify(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard audit verify", flag.ContinueOnError)
	var anchors anchorList
	fs.Var(&anchors, "anchor", "a head published earlier, `sgaudit:SEQ:HASH`, that the log must still match (repeatable)")
	sf := addStoreFlags(fs)
	if _, code, ok := parse(fs, e, args); !ok {
		return code
	}
	broken := false
	code := withStore(e, "audit verify", sf, func(ctx context.Context, st store.Store, _ *usecase.Banks) error {
		rep, err := audit.Verify(st.AuditEntries(ctx, 1), anchors...)
		if err != nil && !errors.Is(err, audit.ErrBroken) {
			return err
		}
		for _, p := range rep.Problems {
			fmt.Fprintln(e.stdout, p.Message)
		}
		if rep.Omitted > 0 {
			fmt.Fprintf(e.stdout, "... and %d more problems\n", rep.Omitted)
		}
		if !rep.OK() {
			broken = true
			fmt.Fprintf(e.stdout, "audit log BROKEN: %d entries read, %d problems\n", rep.Entries, len(rep.Problems)+rep.Omitted)
			return nil
		}
		fmt.Fprintf(e.stdout, "audit log ok: %d entries, %d anchors checked; head %s\n", rep.Entries, rep.Anchors, audit.Anchor{Seq: rep.Last, Hash: rep.Head})
		return nil
	})
	if code == 0 && broken {
		return 1
	}
	return code
}
