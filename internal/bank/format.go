package bank

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// Format is a file format hash lists are imported from and exported to.
type Format string

const (
	// Text is one hex hash a line, optionally followed by ",metadata" (kept
	// as the entry's note). A value of 32 digits is MD5; one of 64 digits is
	// PDQ unless Options.Wide says SHA-256. A line may name its signal first,
	// "sha256 <hex>", as python-threatexchange's local-file lists do. Blank
	// lines and lines starting with '#' are skipped; CRLF is fine.
	Text Format = "text"
	// CSV has a header naming its columns, in any order: signal, value,
	// source, external_id, category, added_at (RFC 3339), added_by, note.
	// Only value is required; without a signal column it is inferred as for
	// Text.
	CSV Format = "csv"
	// HMA is the CSV that Meta's python-threatexchange writes for
	// Hasher-Matcher-Actioner datasets (`threatexchange dataset -P --csv`):
	// a header of signal_type, signal_str, collab, category, tags. collab is
	// kept as the source and tags as the note. See docs/store.md.
	HMA Format = "hma"
)

// Formats lists every format, in a stable order.
var Formats = []Format{Text, CSV, HMA}

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case Text, CSV, HMA:
		return f, nil
	case "txt":
		return Text, nil
	}
	return "", fmt.Errorf("unknown format %q: want text, csv or hma", clip(s))
}

// DetectFormat guesses a file's format from its first bytes: a header with
// signal_type or signal_str is HMA, one with a value column is CSV, anything
// else is Text.
func DetectFormat(head []byte) Format {
	head = bytes.TrimPrefix(head, utf8BOM)
	line, _, _ := bytes.Cut(head, []byte("\n"))
	for _, col := range strings.Split(string(line), ",") {
		switch strings.ToLower(strings.Trim(col, " \t\r\"")) {
		case "signal_type", "signal_str", "signal_value":
			return HMA
		case "value":
			return CSV
		}
	}
	return Text
}

// MaxLine is the longest line Read accepts. A hash list line is under a
// hundred bytes, but a vPDQ entry's is one video's frames (up to
// MaxVPDQFrames of them); a longer one means the file is not a hash list,
// and reading it whole would let a file without line breaks exhaust memory.
const MaxLine = 1 << 20

// LineError is an error in one line of an imported file.
type LineError struct {
	File string // as the caller named it; may be empty
	Line int    // 1-based; 0 when the error is not about one line
	Err  error
}

func (e *LineError) Error() string {
	switch {
	case e.Line == 0 && e.File == "":
		return e.Err.Error()
	case e.Line == 0:
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	case e.File == "":
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Errors of whole files, inside a *LineError.
var (
	// ErrLineTooLong is the error of a line longer than MaxLine.
	ErrLineTooLong = fmt.Errorf("line longer than %d bytes: not a hash list", MaxLine)
	// ErrNoEntries is the error of a file without a single entry: an empty
	// list is almost always a failed download or the wrong file.
	ErrNoEntries = errors.New("no entries: the file is empty")
)

// Options adjust how Read interprets a file.
type Options struct {
	// Wide is the signal of 64-digit values whose signal the file does not
	// give: PDQ when empty, or SHA256.
	Wide Signal
	// SkipUnknown, when set, is called with the signal name of each CSV or
	// HMA row whose signal Safeguard does not hold, and the row is skipped;
	// when nil, such a row fails the file, naming its line.
	SkipUnknown func(signal string)
}

var utf8BOM = []byte("\xef\xbb\xbf")

// Read streams the entries of a file in format f, so imports of millions of
// lines use bounded memory. The file name is only for errors, each of which
// is a *LineError; reading stops at the first. A file without entries fails
// with ErrNoEntries, a line longer than MaxLine with ErrLineTooLong, so a
// file of garbage fails at once. Entries come back normalised
// (see Entry.Normalize); IDs, bank and AddedAt (unless the file has it) are
// left for the store to fill in.
func Read(r io.Reader, file string, f Format) iter.Seq2[Entry, error] {
	return ReadWith(r, file, f, Options{})
}

// ReadWith is Read with options.
func ReadWith(r io.Reader, file string, f Format, o Options) iter.Seq2[Entry, error] {
	wide := o.Wide
	if wide == "" {
		wide = PDQ
	}
	return func(yield func(Entry, error) bool) {
		fail := func(line int, err error) { yield(Entry{}, &LineError{File: file, Line: line, Err: err}) }
		if wide != PDQ && wide != SHA256 {
			fail(0, fmt.Errorf("64-digit values must be pdq or sha256, not %q", wide))
			return
		}
		switch f {
		case Text:
			readText(r, wide, yield, fail)
		case CSV:
			readCSV(r, wide, csvColumns, o.SkipUnknown, yield, fail)
		case HMA:
			readCSV(r, wide, hmaColumns, o.SkipUnknown, yield, fail)
		default:
			fail(0, fmt.Errorf("unknown format %q", f))
		}
	}
}

func readText(r io.Reader, wide Signal, yield func(Entry, error) bool, fail func(int, error)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine+2)
	n, entries := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if len(line) > MaxLine {
			fail(n, ErrLineTooLong)
			return
		}
		if n == 1 {
			line = strings.TrimPrefix(line, string(utf8BOM))
		}
		if s := strings.TrimLeft(line, " \t"); s == "" || s[0] == '#' {
			continue
		}
		e, err := parseTextLine(line, wide)
		if err != nil {
			fail(n, err)
			return
		}
		entries++
		if !yield(e, nil) {
			return
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = ErrLineTooLong
		}
		fail(n+1, err)
		return
	}
	if entries == 0 {
		fail(max(n, 1), ErrNoEntries)
	}
}

func parseTextLine(line string, wide Signal) (Entry, error) {
	head, note, _ := strings.Cut(line, ",")
	head = strings.TrimSpace(head)
	var e Entry
	if i := strings.IndexAny(head, " \t"); i >= 0 {
		sig, err := ParseSignal(head[:i])
		if err != nil {
			return e, err
		}
		e.Signal, e.Value = sig, strings.TrimSpace(head[i+1:])
	} else {
		sig, err := InferSignal(head, wide)
		if err != nil {
			return e, err
		}
		e.Signal, e.Value = sig, head
	}
	e.Note = note
	return e.Normalize()
}

// A column of a CSV format: its header names and where its text goes.
type column struct {
	names []string // the first is the one written
	set   func(e *Entry, v string) error
	get   func(e *Entry) string
}

var (
	colSignal = column{
		set: func(e *Entry, v string) (err error) {
			if v == "" {
				return nil // inferred from the value
			}
			e.Signal, err = ParseSignal(v)
			return err
		},
		get: func(e *Entry) string { return string(e.Signal) },
	}
	colValue = column{
		set: func(e *Entry, v string) error { e.Value = strings.TrimSpace(v); return nil },
		get: func(e *Entry) string { return e.Value },
	}
	colSource     = textColumn(func(e *Entry) *string { return &e.Source })
	colExternalID = textColumn(func(e *Entry) *string { return &e.ExternalID })
	colCategory   = textColumn(func(e *Entry) *string { return &e.Category })
	colAddedBy    = textColumn(func(e *Entry) *string { return &e.AddedBy })
	colNote       = textColumn(func(e *Entry) *string { return &e.Note })
	colAddedAt    = column{
		set: func(e *Entry, v string) error {
			if v == "" {
				return nil
			}
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return fmt.Errorf("added_at %q: want RFC 3339 time, e.g. 2026-11-25T01:02:03Z", clip(v))
			}
			e.AddedAt = t.UTC()
			return nil
		},
		get: func(e *Entry) string {
			if e.AddedAt.IsZero() {
				return ""
			}
			return e.AddedAt.UTC().Format(time.RFC3339Nano)
		},
	}
)

func textColumn(field func(e *Entry) *string) column {
	return column{
		set: func(e *Entry, v string) error { *field(e) = v; return nil },
		get: func(e *Entry) string { return *field(e) },
	}
}

func named(c column, names ...string) column { c.names = names; return c }

// The columns of each CSV format, in the order they are written.
var (
	csvColumns = []column{
		named(colSignal, "signal"), named(colValue, "value"), named(colSource, "source"),
		named(colExternalID, "external_id"), named(colCategory, "category"),
		named(colAddedAt, "added_at"), named(colAddedBy, "added_by"), named(colNote, "note"),
	}
	hmaColumns = []column{
		named(column{
			set: colSignal.set,
			get: func(e *Entry) string { return hmaSignalName(e.Signal) },
		}, "signal_type"),
		named(column{set: colValue.set, get: hmaSignalStr}, "signal_str", "signal_value"),
		named(colSource, "collab"), named(colCategory, "category"), named(colNote, "tags"),
	}
)

// hmaSignalName is python-threatexchange's name for a signal.
func hmaSignalName(s Signal) string {
	if s == MD5 {
		return "video_md5"
	}
	return string(s)
}

// hmaSignalStr is python-threatexchange's string of a value: the value,
// except that a vPDQ hash is its JSON array of frames.
func hmaSignalStr(e *Entry) string {
	if e.Signal == VPDQ {
		if frames, err := VPDQFrames(e.Value); err == nil {
			return vpdq.FormatSignal(frames)
		}
	}
	return e.Value
}

func readCSV(r io.Reader, wide Signal, cols []column, skip func(string), yield func(Entry, error) bool, fail func(int, error)) {
	lr := &lineLimit{r: r}
	cr := csv.NewReader(lr)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		fail(1, ErrNoEntries)
		return
	}
	if err != nil {
		fail(csvErrLine(err, lr), csvErr(err, lr))
		return
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], string(utf8BOM))
	}
	order := make([]*column, len(header))
	hasValue := false
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		c := findColumn(cols, name)
		if c == nil {
			fail(1, fmt.Errorf("unknown column %q: want %s", clip(name), columnNames(cols)))
			return
		}
		for j := range i {
			if order[j] == c {
				fail(1, fmt.Errorf("column %q appears twice", name))
				return
			}
		}
		order[i] = c
		hasValue = hasValue || c.names[0] == cols[1].names[0]
	}
	if !hasValue {
		fail(1, fmt.Errorf("no %s column in the header", cols[1].names[0]))
		return
	}
	for entries := 0; ; entries++ {
		rec, err := cr.Read()
		if err == io.EOF {
			if entries == 0 {
				fail(max(lr.lines, 1), ErrNoEntries)
			}
			return
		}
		if err != nil {
			fail(csvErrLine(err, lr), csvErr(err, lr))
			return
		}
		line, _ := cr.FieldPos(0)
		var e Entry
		skipped := false
		for i, c := range order {
			if err := c.set(&e, rec[i]); err != nil {
				if skip != nil && c.names[0] == cols[0].names[0] && errors.Is(err, ErrUnknownSignal) {
					skip(clip(strings.ToLower(strings.TrimSpace(rec[i]))))
					skipped = true
					break
				}
				fail(line, err)
				return
			}
		}
		if skipped {
			continue // counted among the rows, so a file of only such rows is not "empty"
		}
		if e.Signal == "" {
			if e.Signal, err = InferSignal(e.Value, wide); err != nil {
				fail(line, err)
				return
			}
		}
		if e, err = e.Normalize(); err != nil {
			fail(line, err)
			return
		}
		if !yield(e, nil) {
			return
		}
	}
}

func findColumn(cols []column, name string) *column {
	for i := range cols {
		for _, n := range cols[i].names {
			if n == name {
				return &cols[i]
			}
		}
	}
	return nil
}

func columnNames(cols []column) string {
	var names []string
	for _, c := range cols {
		names = append(names, c.names[0])
	}
	return strings.Join(names, ", ")
}

// csvErrLine is the line of a CSV reading error: ours for a line too long
// (which the parser may have reported as a syntax error in its first part),
// the parser's otherwise.
func csvErrLine(err error, lr *lineLimit) int {
	if lr.tooLong {
		return lr.lines + 1
	}
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		return pe.Line
	}
	return lr.lines + 1
}

// csvErr drops the position from a *csv.ParseError, which LineError gives.
func csvErr(err error, lr *lineLimit) error {
	if lr.tooLong {
		return ErrLineTooLong
	}
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		return pe.Err
	}
	return err
}

// lineLimit passes a reader through, failing with ErrLineTooLong on a line
// longer than MaxLine: encoding/csv would otherwise buffer a whole line of
// any length.
type lineLimit struct {
	r       io.Reader
	run     int // bytes since the last line break
	lines   int // line breaks seen
	tooLong bool
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			l.lines++
			l.run = 0
		} else if l.run++; l.run > MaxLine {
			l.tooLong = true
			return 0, ErrLineTooLong
		}
	}
	return n, err
}

// Write writes entries in format f so that reading the file back gives the
// same entries, as far as the format carries them: Text keeps signal, value
// and note; HMA adds source and category; CSV keeps everything but the IDs.
// It stops at the iterator's first error and returns it.
func Write(w io.Writer, f Format, entries iter.Seq2[Entry, error]) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch f {
	case Text:
		err = writeText(bw, entries)
	case CSV:
		err = writeCSV(bw, csvColumns, entries)
	case HMA:
		err = writeCSV(bw, hmaColumns, entries)
	default:
		err = fmt.Errorf("unknown format %q", f)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

func writeText(w *bufio.Writer, entries iter.Seq2[Entry, error]) error {
	for e, err := range entries {
		if err != nil {
			return err
		}
		if strings.ContainsAny(e.Note, "\r\n") {
			return fmt.Errorf("entry %d (%s %s): the note has a line break, which text cannot carry: export as csv", e.ID, e.Signal, e.Value)
		}
		// Only SHA-256 and vPDQ need their names: a bare 64-digit value
		// reads as PDQ.
		if e.Signal == SHA256 || e.Signal == VPDQ {
			w.WriteString(string(e.Signal) + " ")
		}
		w.WriteString(e.Value)
		if e.Note != "" {
			w.WriteByte(',')
			w.WriteString(e.Note)
		}
		w.WriteByte('\n')
	}
	return nil
}

func writeCSV(w io.Writer, cols []column, entries iter.Seq2[Entry, error]) error {
	cw := csv.NewWriter(w)
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c.names[0]
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for e, err := range entries {
		if err != nil {
			return err
		}
		for i, c := range cols {
			rec[i] = c.get(&e)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// validText reports what is wrong with a provenance string, if anything:
// PostgreSQL refuses invalid UTF-8 and NUL bytes, so both stores refuse them.
func validText(field, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", field, clip(s))
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s %q contains a NUL byte", field, clip(s))
	}
	return nil
}
