package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/signal"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runMatch(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard match", flag.ContinueOnError)
	var banks stringList
	fs.Var(&banks, "bank", "search only this bank `NAME` (repeatable; default every bank)")
	radius := fs.Int("radius", -1, "PDQ match distance `N` for every bank (default: each bank's own threshold)")
	floor := fs.Int("quality-floor", match.DefaultQualityFloor, "images whose PDQ quality is below this are not PDQ-matched")
	sf := addStoreFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard match [flags] QUERY...\n\nLooks queries up in the banks. A QUERY is an image file (matched by PDQ\nthrough its 8 rotations and mirrors, and by MD5 and SHA-256) or a 64-hex\nPDQ hash; - reads hex hashes from standard input, one a line. Prints CSV\nlines query,match,distance,bank,entry,file for each match, where query is\nthe hex hash that was searched and file the QUERY as given (the image\nfile, or the hash). The exit status is 1 when a query was bad.\n\nflags:")
		fs.PrintDefaults()
	}
	queries, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(queries) == 0 {
		fs.Usage()
		return 2
	}
	if *radius > match.MaxRadius {
		return fail(e, "match", "--radius %d: at most %d", *radius, match.MaxRadius)
	}
	ctx := context.Background()
	st, err := sf.open(ctx)
	if err != nil {
		return fail(e, "match", "%v", err)
	}
	defer st.Close()
	m := match.New(st)
	m.QualityFloor = *floor
	if err := m.Sync(ctx); err != nil {
		return fail(e, "match", "%v", err)
	}
	out := csv.NewWriter(e.stdout)
	defer out.Flush()
	h := &hasher.Hasher{Dihedral: true}
	bad := false
	one := func(q string) bool {
		mq, err := matchQuery(h, q)
		if err != nil {
			fmt.Fprintf(e.stderr, "safeguard match: %v\n", err)
			bad = true
			return true
		}
		mq.Banks, mq.Radius = banks, *radius
		res, err := m.Match(ctx, mq)
		if errors.Is(err, match.ErrUnknownBank) {
			fmt.Fprintf(e.stderr, "safeguard %v\n", err) // "safeguard match: bank ..."
			return false
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "safeguard match: %s: %v\n", q, err)
			bad = true
			return true
		}
		if res.LowQuality {
			fmt.Fprintf(e.stderr, "safeguard match: %s: PDQ quality %d is below %d: not PDQ-matched\n", q, mq.Quality, *floor)
		}
		for _, r := range res.Matches {
			searched := ""
			switch r.Entry.Signal {
			case bank.PDQ:
				searched = mq.PDQ.String()
			case bank.MD5:
				searched = hex.EncodeToString(mq.MD5[:])
			case bank.SHA256:
				searched = hex.EncodeToString(mq.SHA256[:])
			}
			// The query as given last, so that of several files the one
			// that matched is named (quoted if its name needs it).
			out.Write([]string{searched, r.Entry.Value, strconv.Itoa(r.Distance), r.Bank, strconv.FormatInt(r.Entry.ID, 10), q})
		}
		return true
	}
	for _, q := range queries {
		if q != "-" {
			if !one(q) {
				return 2
			}
			continue
		}
		sc := bufio.NewScanner(e.stdin)
		sc.Buffer(make([]byte, 4096), 4096)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if _, err := pdq.ParseHex(line); err != nil {
				fmt.Fprintf(e.stderr, "safeguard match: standard input line %d: %v\n", n, err)
				bad = true
				continue
			}
			if !one(line) {
				return 2
			}
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(e.stderr, "safeguard match: reading standard input: %v\n", err)
			bad = true
		}
	}
	if bad {
		return 1
	}
	return 0
}

// matchQuery turns a query argument into a match.Query: a 64-hex PDQ hash as
// it is (quality unknown), or an image file hashed with its dihedral variants
// and digests.
func matchQuery(h *hasher.Hasher, q string) (match.Query, error) {
	if len(q) == 64 && isHex(q) {
		p, err := pdq.ParseHex(q)
		if err != nil {
			return match.Query{}, err
		}
		return match.Query{Set: signal.Set{PDQ: &p, Quality: -1}}, nil
	}
	data, err := readLimited(q)
	if err != nil {
		return match.Query{}, err
	}
	s, err := h.Hash(q, data)
	if err != nil {
		return match.Query{}, err
	}
	return match.Query{Set: s.Set()}, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// maxQueryFile bounds an image read for a query; decoders bound pixels.
const maxQueryFile = 256 << 20

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxQueryFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(data) > maxQueryFile {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, maxQueryFile>>20)
	}
	return data, nil
}
