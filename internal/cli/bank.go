package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"os/signal"
	"os/user"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

func runBank(e *env, args []string) int {
	subs := map[string]func(*env, []string) int{
		"create": bankCreate, "list": bankList, "import": bankImport, "export": bankExport, "rm": bankRm,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(e.stderr, "usage: safeguard bank create|list|import|export|rm [flags] ...\n\n  create NAME          make an empty bank\n  list                 every bank, with its entry count and threshold\n  import NAME FILE...  add the hashes of text, CSV or HMA files (- is standard input)\n  export NAME          print a bank's entries\n  rm NAME [HASH...]    delete a bank, or only the entries with these hashes")
		if len(args) == 0 {
			return 2
		}
		if askedHelp(args) {
			return 0
		}
		return fail(e, "bank", "unknown subcommand %q", args[0])
	}
	return subs[args[0]](e, args[1:])
}

// withStore opens the store named by the flags for one bank subcommand,
// with the bank changes' use case over it: changes made here are audited
// like the API's, with the operating-system user as actor ("cli:NAME"). A
// server on the same store sees them through its change feed.
// An interrupt cancels the context, so a long import or fetch stops
// between transactions rather than being killed inside one.
func withStore(e *env, cmd string, sf *storeFlags, f func(context.Context, store.Store, *usecase.Banks) error) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := sf.open(ctx)
	if err != nil {
		return fail(e, cmd, "%v", err)
	}
	defer st.Close()
	if err := f(ctx, st, cliBanks(st)); err != nil {
		return fail(e, cmd, "%v", err)
	}
	return 0
}

// cliBanks is the bank changes' use case over st, audited with the CLI's
// actor. Its Tx and Log serve the CLI's other use cases too.
func cliBanks(st store.Store) *usecase.Banks {
	stores, tx := usecase.Over(st)
	return &usecase.Banks{Stores: stores, Tx: tx, Log: audit.NewLog(st)}
}

// cliChanges is the use case of changes other than banks' (API keys),
// each written with its audit entry in one transaction of banks' Tx.
func cliChanges(banks *usecase.Banks) *usecase.Changes {
	return &usecase.Changes{Tx: banks.Tx, Log: banks.Log}
}

func bankCreate(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard bank create", flag.ContinueOnError)
	desc := fs.String("description", "", "what the bank holds and where it comes from")
	threshold := fs.Int("threshold", bank.DefaultThreshold, "PDQ match distance for this bank")
	vpdqThreshold := fs.Float64("vpdq-threshold", bank.DefaultVPDQThreshold, "least query_match_percent at which a video matches this bank's vPDQ entries")
	sf := addStoreFlags(fs)
	names, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(names) != 1 {
		return fail(e, "bank create", "want one bank NAME")
	}
	return withStore(e, "bank create", sf, func(ctx context.Context, _ store.Store, banks *usecase.Banks) error {
		b, err := banks.Create(ctx, cliActor(), bank.Bank{Name: names[0], Description: *desc, Threshold: *threshold, VPDQThreshold: *vpdqThreshold})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created bank %s (threshold %d, vPDQ %g%%)\n", b.Name, b.Threshold, b.VPDQPercent())
		return nil
	})
}

func bankList(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard bank list", flag.ContinueOnError)
	sf := addStoreFlags(fs)
	if _, code, ok := parse(fs, e, args); !ok {
		return code
	}
	return withStore(e, "bank list", sf, func(ctx context.Context, st store.Store, _ *usecase.Banks) error {
		banks, err := st.ListBanks(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tENTRIES\tTHRESHOLD\tCREATED\tDESCRIPTION")
		for _, b := range banks {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", b.Name, b.Entries, b.Threshold, b.CreatedAt.UTC().Format(time.DateOnly), b.Description)
		}
		return tw.Flush()
	})
}

func bankImport(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard bank import", flag.ContinueOnError)
	format := fs.String("format", "auto", "file `format`: auto, text, csv or hma")
	wide := fs.String("signal", "pdq", "signal of 64-digit hashes whose file does not name one: pdq or sha256")
	source := fs.String("source", "", "provenance: who supplied the list, for entries that do not say")
	category := fs.String("category", "", "category (e.g. a hotline class) for entries that do not say")
	note := fs.String("note", "", "note for entries that do not have one")
	addedBy := fs.String("added-by", currentUser(), "who is adding the entries")
	secondsPerHash := fs.Float64("seconds-per-hash", 1, "videos: hash one frame every `S` seconds (0: every frame)")
	skipUnsupported := fs.Bool("skip-unsupported", false, "skip (and count) CSV and HMA rows of signal types Safeguard does not hold, e.g. url; by default such a row fails the file, naming it")
	sf := addStoreFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard bank import [flags] NAME FILE...\n\nAdds every hash of each FILE (- reads standard input) to bank NAME, each\nfile in one transaction: a bad line fails that file's import, naming the\nline, and nothing of it is kept. Hashes already in the bank are counted\nand left alone, so importing a file twice changes nothing.\n\nA FILE may also be a video (told by its content; hashed here with ffmpeg:\nits vPDQ, MD5 and SHA-256 become three entries) or one video's vPDQ hash,\nas vpdq-hash-video writes it or as python-threatexchange's signal string\n(one entry).\n\nflags:")
		fs.PrintDefaults()
	}
	pos, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(pos) < 2 {
		fs.Usage()
		return 2
	}
	var f bank.Format
	if *format != "auto" {
		var err error
		if f, err = bank.ParseFormat(*format); err != nil {
			return fail(e, "bank import", "--format: %v", err)
		}
	}
	sig, err := bank.ParseSignal(*wide)
	if err != nil || sig == bank.MD5 {
		return fail(e, "bank import", "--signal %q: want pdq or sha256", *wide)
	}
	if *secondsPerHash < 0 {
		return fail(e, "bank import", "--seconds-per-hash %g: want 0 (every frame) or more", *secondsPerHash)
	}
	h := &hasher.Hasher{Video: vpdq.HashOptions{SecondsPerHash: *secondsPerHash}}
	name, files := pos[0], pos[1:]
	return withStore(e, "bank import", sf, func(ctx context.Context, st store.Store, banks *usecase.Banks) error {
		if _, err := st.Bank(ctx, name); err != nil {
			return err
		}
		for _, file := range files {
			var r io.Reader = e.stdin
			label := "standard input"
			if file != "-" {
				fh, err := os.Open(file)
				if err != nil {
					return err
				}
				defer fh.Close()
				r, label = fh, file
			}
			br := bufio.NewReaderSize(r, 64<<10)
			ff := f
			head, _ := br.Peek(4096)
			if ff == "" {
				ff = bank.DetectFormat(head)
			}
			defaults := bank.Entry{Source: *source, Category: *category, Note: *note, AddedBy: *addedBy}
			opts := bank.Options{Wide: sig}
			skipped := map[string]int{}
			if *skipUnsupported {
				opts.SkipUnknown = func(signal string) {
					if len(skipped) >= 20 && skipped[signal] == 0 {
						signal = "(others)" // a hostile file cannot grow the count without bound
					}
					skipped[signal]++
				}
			}
			entries := withDefaults(bank.ReadWith(br, label, ff, opts), defaults)
			if f == "" {
				es, kind, err := videoEntries(ctx, h, file, head, br)
				if err != nil {
					return fmt.Errorf("%s: %w (nothing of it was imported)", label, err)
				}
				if es != nil {
					ff, entries = kind, withDefaults(usecase.Slice(es), defaults)
				}
			}
			bar := newProgress(e.stderr, "imported", 0)
			res, err := banks.Add(ctx, cliActor(), name, entries, map[string]any{"imported": string(ff), "file": label}, bar.set)
			bar.done()
			if err != nil {
				var le *bank.LineError
				if errors.As(err, &le) && errors.Is(err, bank.ErrUnknownSignal) {
					return fmt.Errorf("%v (nothing of %s was imported; --skip-unsupported skips and counts such rows)", le, label)
				}
				if errors.As(err, &le) {
					return fmt.Errorf("%v (nothing of %s was imported)", le, label)
				}
				return fmt.Errorf("importing %s: %w", label, err)
			}
			fmt.Fprintf(e.stdout, "%s: %d added, %d already in bank %s\n", label, res.Added, res.Existing, name)
			if len(skipped) > 0 {
				var parts []string
				for _, signal := range slices.Sorted(maps.Keys(skipped)) {
					parts = append(parts, fmt.Sprintf("%s %d", signal, skipped[signal]))
				}
				fmt.Fprintf(e.stdout, "%s: skipped rows of unsupported signal types: %s\n", label, strings.Join(parts, ", "))
			}
		}
		return nil
	})
}

// videoEntries reads a file that is a video (hashed here) or one video's
// vPDQ hash, and says which; nil entries for any other file.
func videoEntries(ctx context.Context, h *hasher.Hasher, file string, head []byte, r io.Reader) ([]bank.Entry, bank.Format, error) {
	if bank.IsVPDQFile(head) {
		en, err := bank.ReadVPDQFile(r)
		return []bank.Entry{en}, "vpdq", err
	}
	if file == "-" || !video.Sniff(head) {
		return nil, "", nil
	}
	v, err := h.HashVideo(ctx, file)
	if err != nil {
		return nil, "", err
	}
	es, err := bank.VideoEntries(v.Frames, v.MD5, v.SHA256)
	return es, "video", err
}

// withDefaults fills the provenance an entry's file left blank.
func withDefaults(entries iter.Seq2[bank.Entry, error], d bank.Entry) iter.Seq2[bank.Entry, error] {
	return func(yield func(bank.Entry, error) bool) {
		for en, err := range entries {
			if err == nil {
				for _, f := range []struct {
					dst *string
					def string
				}{
					{&en.Source, d.Source}, {&en.Category, d.Category}, {&en.Note, d.Note}, {&en.AddedBy, d.AddedBy},
				} {
					if *f.dst == "" {
						*f.dst = f.def
					}
				}
			}
			if !yield(en, err) {
				return
			}
		}
	}
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

func bankExport(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard bank export", flag.ContinueOnError)
	format := fs.String("format", "csv", "output `format`: text, csv or hma")
	sf := addStoreFlags(fs)
	names, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(names) != 1 {
		return fail(e, "bank export", "want one bank NAME")
	}
	f, err := bank.ParseFormat(*format)
	if err != nil {
		return fail(e, "bank export", "--format: %v", err)
	}
	return withStore(e, "bank export", sf, func(ctx context.Context, _ store.Store, banks *usecase.Banks) error {
		out := bufio.NewWriter(e.stdout)
		return banks.Export(ctx, cliActor(), names[0], f, func(entries iter.Seq2[bank.Entry, error]) error {
			if err := bank.Write(out, f, entries); err != nil {
				return err
			}
			return out.Flush()
		})
	})
}

func bankRm(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard bank rm", flag.ContinueOnError)
	wide := fs.String("signal", "pdq", "signal of 64-digit HASHes: pdq or sha256")
	sf := addStoreFlags(fs)
	pos, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return fail(e, "bank rm", "want a bank NAME, and optionally HASHes to remove from it")
	}
	sig, err := bank.ParseSignal(*wide)
	if err != nil || sig == bank.MD5 {
		return fail(e, "bank rm", "--signal %q: want pdq or sha256", *wide)
	}
	name, hashes := pos[0], pos[1:]
	return withStore(e, "bank rm", sf, func(ctx context.Context, _ store.Store, banks *usecase.Banks) error {
		if len(hashes) == 0 {
			if err := banks.Delete(ctx, cliActor(), name); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "deleted bank %s\n", name)
			return nil
		}
		for _, h := range hashes {
			s, err := bank.InferSignal(h, sig)
			if err != nil {
				return err
			}
			v, err := bank.ParseValue(s, h)
			if err != nil {
				return err
			}
			if err := banks.Remove(ctx, cliActor(), name, s, v); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "removed %s %s from bank %s\n", s, v, name)
		}
		return nil
	})
}
