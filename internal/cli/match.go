package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/signal"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
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
	format := fs.String("format", "csv", "output `format`: csv or json (one object a line per match)")
	secondsPerHash := fs.Float64("seconds-per-hash", 1, "videos: hash one frame every `S` seconds (0: every frame)")
	sf := addStoreFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard match [flags] QUERY...\n\nLooks queries up in the banks. A QUERY is an image file (matched by PDQ\nthrough its 8 rotations and mirrors, and by MD5 and SHA-256), a video file\n(matched by vPDQ under each bank's vPDQ threshold, and by MD5 and SHA-256;\nneeds ffmpeg) or a 64-hex PDQ hash; - reads hex hashes from standard\ninput, one a line. Prints CSV lines query,match,distance,bank,entry,file\nfor each match, where query is the hex hash that was searched and file\nthe QUERY as given (for a vPDQ\nmatch: the file, \"vpdq\", and the query and compared match percentages\nas QUERY%/COMPARED%), or with --format json one object a line with query,\nbank, entry, signal, distance and, for vPDQ, query_match_percent and\ncompared_match_percent. The exit status is 1 when a query was bad.\n\nflags:")
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
	if *format != "csv" && *format != "json" {
		return fail(e, "match", "--format %q: want csv or json", *format)
	}
	if *secondsPerHash < 0 {
		return fail(e, "match", "--seconds-per-hash %g: want 0 (every frame) or more", *secondsPerHash)
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
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	out := csv.NewWriter(w)
	defer out.Flush() // before w's
	h := &hasher.Hasher{Dihedral: true, Video: vpdq.HashOptions{SecondsPerHash: *secondsPerHash}}
	enc := json.NewEncoder(w)
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
			searched, value := "", r.Entry.Value
			switch r.Entry.Signal {
			case bank.PDQ:
				searched = mq.PDQ.String()
			case bank.MD5:
				searched = hex.EncodeToString(mq.MD5[:])
			case bank.SHA256:
				searched = hex.EncodeToString(mq.SHA256[:])
			case bank.VPDQ:
				searched, value = q, fmt.Sprintf("vpdq:%.2f%%/%.2f%%", r.QueryPercent, r.ComparedPercent)
			}
			if *format == "json" {
				enc.Encode(jsonMatch{Query: q, Bank: r.Bank, Entry: r.Entry.ID, Signal: r.Signal, Distance: r.Distance,
					QueryPercent: percent(r, r.QueryPercent), ComparedPercent: percent(r, r.ComparedPercent), Category: r.Category})
				continue
			}
			// The query as given last, so that of several files the one
			// that matched is named (quoted if its name needs it).
			out.Write([]string{searched, value, strconv.Itoa(r.Distance), r.Bank, strconv.FormatInt(r.Entry.ID, 10), q})
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

// jsonMatch is a match as --format json prints it: python-threatexchange's
// names for the vPDQ percentages.
type jsonMatch struct {
	Query           string      `json:"query"`
	Bank            string      `json:"bank"`
	Entry           int64       `json:"entry"`
	Signal          bank.Signal `json:"signal"`
	Distance        int         `json:"distance"`
	QueryPercent    *float64    `json:"query_match_percent,omitempty"`
	ComparedPercent *float64    `json:"compared_match_percent,omitempty"`
	Category        string      `json:"category,omitempty"`
}

// percent is a vPDQ match's percentage to two decimals, as
// python-threatexchange prints it; nil for other signals.
func percent(m match.Match, p float64) *float64 {
	if m.Signal != bank.VPDQ {
		return nil
	}
	r := math.Round(p*100) / 100
	return &r
}

// matchQuery turns a query argument into a match.Query: a 64-hex PDQ hash as
// it is (quality unknown), a video file's vPDQ and digests, or an image file
// hashed with its dihedral variants and digests.
func matchQuery(h *hasher.Hasher, q string) (match.Query, error) {
	if len(q) == 64 && isHex(q) {
		p, err := pdq.ParseHex(q)
		if err != nil {
			return match.Query{}, err
		}
		return match.Query{Set: signal.Set{PDQ: &p, Quality: -1}}, nil
	}
	if isVideo, err := hasher.IsVideo(q); err != nil {
		return match.Query{}, err
	} else if isVideo {
		v, err := h.HashVideo(context.Background(), q)
		if err != nil {
			return match.Query{}, err
		}
		return match.Query{Set: v.Set()}, nil
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
