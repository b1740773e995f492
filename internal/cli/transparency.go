package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/transparency"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// runTransparency prints a period's transparency figures from the store,
// as GET /v1/transparency computes them.
func runTransparency(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard transparency", flag.ContinueOnError)
	from := fs.String("from", "", "start of the period, RFC 3339 or `YYYY-MM-DD` (default: 91 days before --to)")
	to := fs.String("to", "", "end of the period, exclusive, RFC 3339 or `YYYY-MM-DD` (default: now)")
	category := fs.String("category", "", "only this `category`")
	format := fs.String("format", "json", "`json`, csv, or dsa (the EU DSA transparency-report template's fields)")
	sf := addStoreFlags(fs)
	if _, code, ok := parse(fs, e, args); !ok {
		return code
	}
	now := time.Now()
	p, err := transparency.ParsePeriod(*from, *to, now)
	if err != nil {
		return fail(e, "transparency", "%v", err)
	}
	var cfg transparency.Config
	if c := review.Category(*category); c != "" {
		if !c.Valid() {
			return fail(e, "transparency", "unknown --category %q", c)
		}
		cfg.Category = c
	}
	if *format != "json" && *format != "csv" && *format != "dsa" {
		return fail(e, "transparency", "--format %q: want json, csv or dsa", *format)
	}
	return withStore(e, "transparency", sf, func(ctx context.Context, st store.Store, _ *usecase.Banks) error {
		in, err := transparency.Gather(ctx, st, p.From, now)
		if err != nil {
			return err
		}
		rep := transparency.Compute(in, p, cfg)
		switch *format {
		case "csv":
			return transparency.WriteCSV(e.stdout, rep)
		case "dsa":
			return transparency.WriteDSA(e.stdout, rep, in, cfg)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
		return nil
	})
}
