package bank

import (
	"bytes"
	"errors"
	"io"
	"iter"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func collect(seq iter.Seq2[Entry, error]) ([]Entry, error) {
	var out []Entry
	for e, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

func TestRead(t *testing.T) {
	at := time.Date(2026, 11, 25, 1, 2, 3, 456000000, time.UTC)
	for _, tc := range []struct {
		name   string
		format Format
		wide   Signal
		in     string
		want   []Entry
	}{
		{"text", Text, "", "# IWF list\n\n" + pdqHex + "\n" + strings.ToUpper(md5Hex) + ",class A\r\n  \n",
			[]Entry{{Signal: PDQ, Value: pdqHex}, {Signal: MD5, Value: md5Hex, Note: "class A"}}},
		{"text sha256", Text, SHA256, sha256Hex + "\npdq " + pdqHex + ",x,y\nMD5\t" + md5Hex + "\n",
			[]Entry{{Signal: SHA256, Value: sha256Hex}, {Signal: PDQ, Value: pdqHex, Note: "x,y"}, {Signal: MD5, Value: md5Hex}}},
		{"text bom no final newline", Text, "", "\xef\xbb\xbf" + md5Hex,
			[]Entry{{Signal: MD5, Value: md5Hex}}},
		{"csv", CSV, "", "note,Value,source,category,signal,external_id,added_by,added_at\r\n" +
			`"a, ""quoted"" note",` + pdqHex + ",IWF,A,pdq,iwf-1,alice," + at.Format(time.RFC3339Nano) + "\n" +
			",\"" + md5Hex + "\",,,,,,\n",
			[]Entry{
				{Signal: PDQ, Value: pdqHex, Source: "IWF", ExternalID: "iwf-1", Category: "A", AddedAt: at, AddedBy: "alice", Note: `a, "quoted" note`},
				{Signal: MD5, Value: md5Hex},
			}},
		{"csv value only", CSV, SHA256, "value\n" + sha256Hex + "\n",
			[]Entry{{Signal: SHA256, Value: sha256Hex}}},
		{"hma", HMA, "", "signal_type,signal_str,collab,category,tags\n" +
			"pdq," + pdqHex + ",Sample Signals,INVESTIGATION_SEED,media_type_photo\n" +
			"video_md5," + md5Hex + ",Sample Signals,POSITIVE_CLASS,\n",
			[]Entry{
				{Signal: PDQ, Value: pdqHex, Source: "Sample Signals", Category: "INVESTIGATION_SEED", Note: "media_type_photo"},
				{Signal: MD5, Value: md5Hex, Source: "Sample Signals", Category: "POSITIVE_CLASS"},
			}},
		{"hma signal_value", HMA, "", "signal_type,signal_value\npdq," + pdqHex + "\n",
			[]Entry{{Signal: PDQ, Value: pdqHex}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(ReadWith(strings.NewReader(tc.in), "list", tc.format, Options{Wide: tc.wide}))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format Format
		in     string
		line   int
		err    string
	}{
		{"bad hex", Text, pdqHex + "\n" + pdqHex + "\nzz" + pdqHex[2:] + "\n" + pdqHex + "\n", 3, "'z' at position 1 is not a hex digit"},
		{"wrong length", Text, "# x\n" + pdqHex[:40] + "\n", 2, "want 32 (md5) or 64 (pdq, sha256) hex digits, got 40"},
		{"named wrong length", Text, "md5 " + pdqHex + "\n", 1, "md5 value"},
		{"unknown signal", Text, "crc " + md5Hex + "\n", 1, `unknown signal "crc"`},
		{"bad utf-8 note", Text, md5Hex + ",\xff\n", 1, "not valid UTF-8"},
		{"text empty", Text, "", 1, "no entries"},
		{"text comments only", Text, "# nothing yet\n\n", 2, "no entries"},
		{"csv empty", CSV, "", 1, "no entries"},
		{"csv header only", CSV, "signal,value\r\n", 1, "no entries"},
		{"hma header only", HMA, "signal_type,signal_str\n\n", 2, "no entries"},
		{"csv unknown column", CSV, "value,colour\n", 1, `unknown column "colour"`},
		{"csv twice", CSV, "value,VALUE\n", 1, `column "value" appears twice`},
		{"csv no value", CSV, "signal,note\n", 1, "no value column"},
		{"csv bad row", CSV, "value,note\n" + md5Hex + ",a\n" + md5Hex + "\n", 3, "wrong number of fields"},
		{"csv bad quote", CSV, "value\n\"" + md5Hex + "\n", 2, "quote"},
		{"csv bad time", CSV, "value,added_at\n" + md5Hex + ",yesterday\n", 2, `added_at "yesterday"`},
		{"csv bad signal", CSV, "signal,value\nphash," + md5Hex + "\n", 2, `unknown signal "phash"`},
		{"csv signal mismatch", CSV, "signal,value\nsha256," + md5Hex + "\n", 2, "sha256 value"},
		{"hma csv header", HMA, "value\n", 1, `unknown column "value"`},
		{"long line", Text, md5Hex + "\n" + strings.Repeat("a", MaxLine+10) + "\n", 2, "line longer than"},
		{"csv long line", CSV, "value\n" + md5Hex + "\n" + strings.Repeat("a", MaxLine+10) + "\n", 3, "line longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := collect(Read(strings.NewReader(tc.in), "list.txt", tc.format))
			le, ok := errors.AsType[*LineError](err)
			if !ok {
				t.Fatalf("error %v is not a *LineError", err)
			}
			if le.File != "list.txt" || le.Line != tc.line || !strings.Contains(le.Err.Error(), tc.err) {
				t.Errorf("error %q: want list.txt:%d: ...%s...", err, tc.line, tc.err)
			}
		})
	}
}

// garbage is an endless stream of random bytes, counting what is read.
type garbage struct {
	rng     *rand.Rand
	newline bool // whether line breaks occur
	n       int
}

func (g *garbage) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(g.rng.UintN(256))
		if !g.newline && p[i] == '\n' {
			p[i] = 'x'
		}
	}
	g.n += len(p)
	return len(p), nil
}

// TestReadGarbage checks that a huge file of garbage fails at once, reading
// a bounded amount, rather than after reading (or buffering) all of it.
func TestReadGarbage(t *testing.T) {
	for _, f := range Formats {
		for _, newline := range []bool{true, false} {
			g := &garbage{rng: rand.New(rand.NewPCG(1, 2)), newline: newline}
			_, err := collect(Read(g, "garbage.bin", f))
			le, ok := errors.AsType[*LineError](err)
			if !ok {
				t.Fatalf("%s newline=%v: error %v is not a *LineError", f, newline, err)
			}
			if g.n > 4*MaxLine {
				t.Errorf("%s newline=%v: read %d bytes before failing with %v", f, newline, g.n, err)
			}
			if !newline && !errors.Is(err, ErrLineTooLong) {
				t.Errorf("%s: error %v, want ErrLineTooLong", f, err)
			}
			t.Logf("%s newline=%v: %v (after %d bytes)", f, newline, le, g.n)
		}
	}
}

func TestReadBadOptions(t *testing.T) {
	for _, tc := range []struct {
		f    Format
		o    Options
		want string
	}{
		{"xml", Options{}, `list: unknown format "xml"`},
		{Text, Options{Wide: MD5}, `list: 64-digit values must be pdq or sha256, not "md5"`},
	} {
		_, err := collect(ReadWith(strings.NewReader(md5Hex), "list", tc.f, tc.o))
		if err == nil || err.Error() != tc.want {
			t.Errorf("ReadWith(%s, %+v): %v, want %q", tc.f, tc.o, err, tc.want)
		}
	}
}

func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct {
		head string
		want Format
	}{
		{pdqHex + "\n", Text},
		{"# signal_type is not a header\n", Text},
		{"", Text},
		{"\xef\xbb\xbfValue,note\r\n", CSV},
		{`"signal","value"` + "\n", CSV},
		{"signal_type,signal_str,collab,category,tags\n", HMA},
	} {
		if got := DetectFormat([]byte(tc.head)); got != tc.want {
			t.Errorf("DetectFormat(%q) = %s, want %s", tc.head, got, tc.want)
		}
	}
}

func sampleEntries() []Entry {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	return []Entry{
		{Signal: PDQ, Value: pdqHex, Source: "IWF", ExternalID: "iwf-17", Category: "A", AddedAt: at, AddedBy: "importer", Note: "first, with comma"},
		{Signal: MD5, Value: md5Hex, Source: "self-report", Category: "B"},
		{Signal: SHA256, Value: sha256Hex, Source: "Голос 被害者 🙈", Note: `"quoted"`},
		{Signal: PDQ, Value: strings.Repeat("0", 64)},
	}
}

// carried keeps the fields of e that format f carries.
func carried(f Format, e Entry) Entry {
	switch f {
	case Text:
		return Entry{Signal: e.Signal, Value: e.Value, Note: e.Note}
	case HMA:
		return Entry{Signal: e.Signal, Value: e.Value, Source: e.Source, Category: e.Category, Note: e.Note}
	}
	e.ID, e.BankID = 0, 0
	return e
}

func TestWriteRoundTrip(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			in := sampleEntries()
			in[0].ID, in[0].BankID = 7, 3
			var buf bytes.Buffer
			if err := Write(&buf, f, entrySeq(in)); err != nil {
				t.Fatal(err)
			}
			if got := DetectFormat(buf.Bytes()); got != f {
				t.Errorf("DetectFormat of our own %s = %s", f, got)
			}
			out, err := collect(Read(&buf, "export", f))
			if err != nil {
				t.Fatal(err)
			}
			var want []Entry
			for _, e := range in {
				want = append(want, carried(f, e))
			}
			if !reflect.DeepEqual(out, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", out, want)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, Text, entrySeq([]Entry{{Signal: MD5, Value: md5Hex, Note: "two\nlines"}}))
	if err == nil || !strings.Contains(err.Error(), "export as csv") {
		t.Errorf("text export of a two-line note: %v", err)
	}
	boom := errors.New("disk on fire")
	err = Write(io.Discard, CSV, func(yield func(Entry, error) bool) { yield(Entry{}, boom) })
	if !errors.Is(err, boom) {
		t.Errorf("Write passed on %v, want %v", err, boom)
	}
}

func entrySeq(es []Entry) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for _, e := range es {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// fuzzRead checks, for any input, that Read either fails with a *LineError
// or yields normalised entries that survive a write and a second read.
func fuzzRead(t *testing.T, f Format, data []byte) {
	entries, err := collect(Read(bytes.NewReader(data), "fuzz", f))
	if err != nil {
		if _, ok := errors.AsType[*LineError](err); !ok {
			t.Fatalf("error %v is not a *LineError", err)
		}
	}
	for _, e := range entries {
		if n, err := e.Normalize(); err != nil || n != e {
			t.Fatalf("entry %+v is not normalised: %v", e, err)
		}
	}
	if len(entries) == 0 {
		return
	}
	var buf bytes.Buffer
	if err := Write(&buf, f, entrySeq(entries)); err != nil {
		if f == Text && strings.Contains(err.Error(), "line break") {
			return
		}
		t.Fatalf("writing back: %v", err)
	}
	again, err := collect(Read(&buf, "rewritten", f))
	if err != nil {
		t.Fatalf("reading back %q: %v", buf.Bytes(), err)
	}
	if len(again) != len(entries) {
		t.Fatalf("read back %d entries, want %d", len(again), len(entries))
	}
	for i := range again {
		if !reflect.DeepEqual(again[i], carried(f, entries[i])) {
			t.Fatalf("entry %d read back as %+v, want %+v", i, again[i], entries[i])
		}
	}
}

func FuzzReadText(f *testing.F) {
	f.Add([]byte("# c\n" + pdqHex + "\n" + md5Hex + ",note\r\nsha256 " + sha256Hex + "\n"))
	f.Add([]byte(pdqHex + ", lead space,\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, Text, data) })
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("signal,value,note,added_at\npdq," + pdqHex + ",\"a\nb\",2026-01-02T03:04:05Z\n"))
	f.Add([]byte("value\n" + md5Hex + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, CSV, data) })
}

func FuzzReadHMA(f *testing.F) {
	f.Add([]byte("signal_type,signal_str,collab,category,tags\npdq," + pdqHex + ",c,POSITIVE_CLASS,a b\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, HMA, data) })
}
