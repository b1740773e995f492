package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/safeguard-oss/safeguard/internal/limits"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

func runText(e *env, args []string) int {
	usage := "usage: safeguard text score|eval|train [flags] [FILE]\n\nRun 'safeguard text score -h' (or eval, train) for a subcommand's flags."
	if len(args) == 0 || askedHelp(args) {
		return groupUsage(e, args, usage)
	}
	switch args[0] {
	case "score":
		return textScore(e, args[1:])
	case "eval":
		return textEval(e, args[1:])
	case "train":
		return textTrain(e, args[1:])
	}
	return fail(e, "text", "unknown subcommand %q: want score, eval or train", args[0])
}

// openInput opens a file argument, "-" or none meaning standard input.
func openInput(e *env, args []string) (io.Reader, func(), error) {
	switch {
	case len(args) > 1:
		return nil, nil, fmt.Errorf("want one file, got %d", len(args))
	case len(args) == 0 || args[0] == "-":
		return e.stdin, func() {}, nil
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// textScore prints one line a message, in input order.
func textScore(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard text score", flag.ContinueOnError)
	format := fs.String("format", "csv", "output `format`: csv (flagged,score,labels) or json (one object a line, with the reasons)")
	model := fs.String("model", textrisk.BuiltinModel, "`file` of a model from safeguard text train, to refine the rules; builtin: the model built in; none: the rules alone")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard text score [--format csv|json] [--model FILE] [FILE|-]\n\nScores one message a line: surface<TAB>text, or just text (a DM). The surface may\ncarry context: comment,child (under content showing a child), dm,age=13 (to an\naccount declaring 13). Reads standard input without FILE. A line whose surface is\nunknown is scored as a DM, saying so. Exits 1 when a line's text is invalid\nUTF-8 or holds a control character, each said on standard error and scored\nall the same.\n\nflags:")
		fs.PrintDefaults()
	}
	files, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if *format != "csv" && *format != "json" {
		return fail(e, "text score", "unknown --format %q: want csv or json", *format)
	}
	s, err := textrisk.Open(*model)
	if err != nil {
		return fail(e, "text score", "%v", err)
	}
	in, done, err := openInput(e, files)
	if err != nil {
		return fail(e, "text score", "%v", err)
	}
	defer done()
	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	if *format == "csv" {
		fmt.Fprintln(out, "flagged,score,labels")
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 4096), textrisk.MaxLine)
	n, bad := 0, 0 // lines read, and lines whose text POST /v1/text would refuse
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		m, err := textrisk.ReadMessage(line)
		if err != nil {
			// Keep one output line per input line: score the whole line
			// as text, and say why.
			fmt.Fprintf(e.stderr, "safeguard text score: line %d: %v; scoring the whole line as a DM\n", n, err)
			m = textrisk.Message{Text: line, Surface: textrisk.DM}
		} else if err := limits.Prose("text", m.Text, textrisk.MaxLine); err != nil {
			// What POST /v1/text refuses: scored all the same (bad bytes
			// as U+FFFD), and said.
			fmt.Fprintf(e.stderr, "safeguard text score: line %d: %v; scored as it is\n", n, err)
			bad++
		}
		r := s.Score(m)
		if *format == "csv" {
			fmt.Fprintf(out, "%t,%.3f,%s\n", r.Flagged, r.Score, strings.Join(r.Labels, ";"))
			continue
		}
		if err := enc.Encode(struct {
			Line    int    `json:"line"`
			Context string `json:"context"`
			textrisk.Result
		}{n, m.ContextString(), r}); err != nil {
			return fail(e, "text score", "%v", err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line %d is longer than %d KiB", n+1, textrisk.MaxLine>>10)
		}
		out.Flush()
		return fail(e, "text score", "%v", err)
	}
	if bad > 0 {
		out.Flush()
		fmt.Fprintf(e.stderr, "safeguard text score: %d of %d lines had text the API refuses (said above); each was scored\n", bad, n)
		return 1
	}
	return 0
}

// parseExamples parses a command's flags and reads the files of labelled
// examples it takes (at least one), in order, with the index of the file
// each example came from.
func parseExamples(fs *flag.FlagSet, e *env, args []string, cmd string) ([]textrisk.Example, []int, []string, int, bool) {
	files, code, ok := parse(fs, e, args)
	if !ok {
		return nil, nil, nil, code, false
	}
	if len(files) == 0 {
		fs.Usage()
		return nil, nil, nil, 2, false
	}
	var all []textrisk.Example
	var fileOf []int
	for i, f := range files {
		ex, err := readExamplesFile(f)
		if err != nil {
			return nil, nil, nil, fail(e, cmd, "%v", err), false
		}
		all = append(all, ex...)
		for range ex {
			fileOf = append(fileOf, i)
		}
	}
	return all, fileOf, files, 0, true
}

func readExamplesFile(path string) ([]textrisk.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ex, err := textrisk.ReadExamples(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ex, nil
}

// textEval prints precision, recall and F1 per surface and per label.
func textEval(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard text eval", flag.ContinueOnError)
	model := fs.String("model", textrisk.BuiltinModel, "`file` of a model from safeguard text train, to refine the rules; builtin: the model built in; none: the rules alone")
	misses := fs.Bool("misses", false, "also list the missed messages and the false alarms")
	thresholds := fs.String("thresholds", "", "flagging thresholds per surface, e.g. dm=0.45,comment=0.6 (default: the model's, else 0.5)")
	folds := fs.Int("folds", 0, "cross-validate over `K` folds of all the files: train a model on K-1, score the one left out, choose thresholds per surface on the others")
	seed := fs.Uint64("seed", 1, "seed of the folds and of training, with --folds")
	byFile := fs.Bool("by-file", false, "cross-validate with one fold per file (each file scored by a model trained on the others)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard text eval [--model FILE] [--thresholds T] [--misses] [--folds K] FILE.tsv...\n\nScores labelled messages (columns label, surface, text; label grooming, sextortion,\nsexual_comment or none) and prints precision, recall and F1 per surface and label.\nWith --folds K, prints k-fold cross-validated figures of rules + model instead.\n\nflags:")
		fs.PrintDefaults()
	}
	ex, fileOf, files, code, ok := parseExamples(fs, e, args, "text eval")
	if !ok {
		return code
	}
	s, err := textrisk.Open(*model)
	if err != nil {
		return fail(e, "text eval", "%v", err)
	}
	if *thresholds != "" {
		t, err := textrisk.ParseThresholds(*thresholds)
		if err != nil {
			return fail(e, "text eval", "--thresholds: %v", err)
		}
		s = s.WithThresholds(t)
	}
	if *folds != 0 || *byFile {
		var cv textrisk.CrossValidation
		if *byFile {
			cv, err = s.CrossValidateGroups(ex, fileOf, textrisk.TrainOptions{Seed: *seed})
		} else {
			cv, err = s.CrossValidate(ex, *folds, textrisk.TrainOptions{Seed: *seed})
		}
		if err != nil {
			return fail(e, "text eval", "%v", err)
		}
		fmt.Fprintf(e.stdout, "%d examples, %d folds\n\nrules alone (threshold %g, no training: in-sample for the files the rules were tuned on):\n", len(ex), cv.Folds, textrisk.Threshold)
		printEvaluation(e.stdout, cv.Rules)
		fmt.Fprintf(e.stdout, "\nrules + model, out of fold, threshold %g:\n", textrisk.Threshold)
		printEvaluation(e.stdout, cv.Model)
		fmt.Fprintf(e.stdout, "\nrules + model, out of fold, thresholds per surface chosen on the other folds:\n")
		printEvaluation(e.stdout, cv.Tuned)
		fmt.Fprintf(e.stdout, "\nthresholds chosen on all folds: %s\n", cv.Thresholds)
		fmt.Fprintf(e.stdout, "(the most recall at precision %.2f or more on each surface)\n\nthe out-of-fold curve, one threshold on every surface:\n", textrisk.TargetPrecision)
		printCurve(e.stdout, cv.Curve)
		if *byFile {
			fmt.Fprintln(e.stdout, "\neach file, scored by a model trained on the other files, at thresholds chosen on them:")
			for i, ev := range cv.ByFold {
				c := ev.All
				fmt.Fprintf(e.stdout, "%s: precision %.3f recall %.3f (TP %d FP %d FN %d TN %d)", files[i], c.Precision(), c.Recall(), c.TP, c.FP, c.FN, c.TN)
				for _, sf := range []textrisk.Surface{textrisk.DM, textrisk.Comment} {
					if c, ok := ev.BySurface[sf]; ok {
						fmt.Fprintf(e.stdout, "; %s %.3f/%.3f", sf, c.Precision(), c.Recall())
					}
				}
				fmt.Fprintln(e.stdout)
			}
		}
		return 0
	}
	ev := s.Evaluate(ex)
	printEvaluation(e.stdout, ev)
	if *misses {
		for _, x := range ev.Missed {
			fmt.Fprintf(e.stdout, "missed\tline %d\t%s\t%s\t%s\n", x.Line, x.Label, x.ContextString(), x.Text)
		}
		for _, x := range ev.FalseAlarms {
			fmt.Fprintf(e.stdout, "false alarm\tline %d\t%s\t%s\n", x.Line, x.ContextString(), x.Text)
		}
	}
	return 0
}

// printCurve prints precision and recall at each threshold, overall and
// for DMs and comments.
func printCurve(w io.Writer, pts []textrisk.CurvePoint) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "threshold\tprecision\trecall\tdm P\tdm R\tcomment P\tcomment R\t")
	for _, pt := range pts {
		dm, cm := pt.BySurface[textrisk.DM], pt.BySurface[textrisk.Comment]
		fmt.Fprintf(tw, "%.2f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", pt.Threshold, pt.All.Precision(), pt.All.Recall(),
			dm.Precision(), dm.Recall(), cm.Precision(), cm.Recall())
	}
	tw.Flush()
}

func printEvaluation(w io.Writer, ev textrisk.Evaluation) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "by\tgroup\tprecision\trecall\tF1\tTP\tFP\tFN\tTN\t")
	row := func(by, group string, c textrisk.Counts) {
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%d\t\n", by, group, c.Precision(), c.Recall(), c.F1(), c.TP, c.FP, c.FN, c.TN)
	}
	row("all", "all", ev.All)
	for _, s := range textrisk.Surfaces {
		if c, ok := ev.BySurface[s]; ok {
			row("surface", string(s), c)
		}
	}
	for _, l := range textrisk.Labels {
		row("label", l, ev.ByLabel[l])
	}
	tw.Flush()
}

// textTrain fits a model to reviewed decisions and writes it.
func textTrain(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard text train", flag.ContinueOnError)
	outPath := fs.String("out", "textrisk-model.json", "`file` to write the model to")
	holdout := fs.String("holdout", "", "`file` of held-out decisions (same columns) to measure the model's lift over the rules on")
	epochs := fs.Int("epochs", 0, "passes over the decisions (0: the default, 12)")
	seed := fs.Uint64("seed", 1, "seed of the shuffle, so training is reproducible")
	folds := fs.Int("folds", 0, "choose the model's thresholds per surface by `K`-fold cross-validation over the decisions, and save them with it")
	byFile := fs.Bool("by-file", false, "with several files: cross-validate one fold per file to choose the thresholds")
	fromStore := fs.Bool("from-store", false, "train on the store's reviewed text cases (confirmed and dismissed), with DECISIONS.tsv if given too")
	sf := addStoreFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard text train [--out FILE] [--holdout FILE] [--from-store [--data DIR | --database-url URL]] [DECISIONS.tsv]\n\nTrains the linear model on reviewers' decisions (columns label, surface, text; label\nconfirmed or a category for harmful, dismissed or none for harmless), or on the decided\ntext cases of the store with --from-store, and writes its versioned weights. A file of\nlabelled conversations (testdata/text/conversations*.txt) gives its marked messages as\ngrooming and a harmless conversation's messages, but the minor's, as none.\nsafeguard text score --model FILE and safeguard serve --text-model FILE then use it beside the rules.\n\nflags:")
		fs.PrintDefaults()
	}
	files, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(files) == 0 && !*fromStore {
		fs.Usage()
		return 2
	}
	var ex []textrisk.Example
	var fileOf []int
	for i, f := range files {
		x, err := readExamplesFile(f)
		if err != nil {
			return fail(e, "text train", "%v", err)
		}
		ex = append(ex, x...)
		for range x {
			fileOf = append(fileOf, i)
		}
	}
	if *fromStore {
		reviewed, err := reviewedTexts(sf)
		if err != nil {
			return fail(e, "text train", "%v", err)
		}
		fmt.Fprintf(e.stdout, "%d reviewed text decisions in the store\n", len(reviewed))
		ex = append(ex, reviewed...)
	}
	rules, err := textrisk.New(nil)
	if err != nil {
		return fail(e, "text train", "%v", err)
	}
	if len(ex) == 0 {
		return fail(e, "text train", "no decisions to train on")
	}
	o := textrisk.TrainOptions{Epochs: *epochs, Seed: *seed}
	md, err := rules.Train(ex, o)
	if err != nil {
		return fail(e, "text train", "%v", err)
	}
	if *folds != 0 || *byFile {
		var cv textrisk.CrossValidation
		if *byFile {
			for len(fileOf) < len(ex) { // decisions from the store: a fold of their own
				fileOf = append(fileOf, len(files))
			}
			cv, err = rules.CrossValidateGroups(ex, fileOf, o)
		} else {
			cv, err = rules.CrossValidate(ex, *folds, o)
		}
		if err != nil {
			return fail(e, "text train", "%v", err)
		}
		md.Thresholds = cv.Thresholds
		c := cv.Tuned.All
		fmt.Fprintf(e.stdout, "%d-fold cross-validation: precision %.3f recall %.3f; thresholds %s\n", cv.Folds, c.Precision(), c.Recall(), cv.Thresholds)
	}
	f, err := os.Create(*outPath)
	if err != nil {
		return fail(e, "text train", "%v", err)
	}
	if err := md.Save(f); err != nil {
		f.Close()
		return fail(e, "text train", "%s: %v", *outPath, err)
	}
	if err := f.Close(); err != nil {
		return fail(e, "text train", "%s: %v", *outPath, err)
	}
	fmt.Fprintf(e.stdout, "model %s: %d decisions (%d confirmed), format %s version %d, written to %s\n",
		md.ID, md.Examples, md.Positives, textrisk.ModelFormat, textrisk.ModelVersion, *outPath)
	if *holdout == "" {
		return 0
	}
	hold, err := readExamplesFile(*holdout)
	if err != nil {
		return fail(e, "text train", "%v", err)
	}
	learned, err := textrisk.New(md)
	if err != nil {
		return fail(e, "text train", "%v", err)
	}
	fmt.Fprintf(e.stdout, "\nrules alone on %s:\n", *holdout)
	printEvaluation(e.stdout, rules.Evaluate(hold))
	fmt.Fprintf(e.stdout, "\nrules + model on %s:\n", *holdout)
	printEvaluation(e.stdout, learned.Evaluate(hold))
	return 0
}

// reviewedTexts reads the store's decided text reports as examples.
func reviewedTexts(sf *storeFlags) ([]textrisk.Example, error) {
	ctx := context.Background()
	st, err := sf.open(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return textmsg.Reviewed(ctx, st, time.Time{})
}
