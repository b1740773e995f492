package vpdq

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTextRoundTrip reads each reference hash file and writes it back byte
// for byte: our writer prints what vpdq-hash-video prints.
func TestTextRoundTrip(t *testing.T) {
	for _, name := range samples {
		data, err := os.ReadFile(filepath.Join(refDir, "vpdq/sample-hashes", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		frames, err := ReadText(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var out bytes.Buffer
		if err := WriteText(&out, frames); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Errorf("%s: written text differs from the reference file", name)
		}
	}
}

func TestReadTextErrors(t *testing.T) {
	good := "0,100,e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54,0.000"
	for _, c := range []struct{ in, want string }{
		{"", "no frames"},
		{"\n\n", "no frames"},
		{"0,100,e429,0.000", "line 1: hash"},
		{good + "\n1,101," + good[6:], "line 2: quality"},
		{"-1" + good[1:], "frame number"},
		{good + ",extra", "want 4"},
		{strings.Replace(good, "0.000", "-1", 1), "timestamp"},
		{strings.Replace(good, "0.000", "NaN", 1), "timestamp"},
		{strings.Repeat("9", 300), "longer than"},
	} {
		_, err := ReadText(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadText(%.40q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}

// TestPyFormat3 pins Python's format(x, ".3") (CPython 3.11, run on this
// machine) for the timestamps a signal string carries.
func TestPyFormat3(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{
		{0, "0.0"}, {0.033, "0.033"}, {0.5, "0.5"}, {12.333, "12.3"}, {20, "20.0"},
		{100, "1e+02"}, {150, "1.5e+02"}, {1234.5, "1.23e+03"}, {0.0001, "0.0001"},
		{0.00001, "1e-05"}, {99.96, "1e+02"}, {99.94, "99.9"}, {9.995, "9.99"},
		{0.0333333, "0.0333"}, {3, "3.0"}, {1e-7, "1e-07"}, {86400, "8.64e+04"},
		{0.1, "0.1"}, {59.967, "60.0"}, {999.5, "1e+03"},
	} {
		if got := pyFormat3(c.x); got != c.want {
			t.Errorf("pyFormat3(%v) = %q, Python gives %q", c.x, got, c.want)
		}
	}
}

// TestSignal checks python-threatexchange's signal string: the form its
// tests expect (json.dumps of "hex,quality,timestamp"), and a round trip
// that keeps hashes and qualities and the 3 significant digits.
func TestSignal(t *testing.T) {
	frames := readRef(t, "chair-20-sd-bar")
	s := FormatSignal(frames[:2])
	want := `["e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54,100,0.0", ` +
		`"e42926b9db58d261383b799f0ff2e1076fe6183dfb4986d8aca36da40034dc54,100,0.033"]`
	if s != want {
		t.Fatalf("FormatSignal = %s\nwant %s", s, want)
	}
	back, err := ParseSignal(FormatSignal(frames))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range back {
		if f.Hash != frames[i].Hash || f.Quality != frames[i].Quality || f.Number != i ||
			pyFormat3(f.Timestamp) != pyFormat3(frames[i].Timestamp) {
			t.Fatalf("frame %d: %+v after a round trip of %+v", i, f, frames[i])
		}
	}
	for _, bad := range []string{``, `[]`, `{}`, `["abc"]`, `["e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54,100"]`,
		`["e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54,100,-1"]`, `[1]`} {
		if _, err := ParseSignal(bad); err == nil {
			t.Errorf("ParseSignal(%q) accepted it", bad)
		}
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	frames := readRef(t, "chair-22-with-large-logo-bar")
	b := MarshalBinary(frames)
	if per := float64(len(b)) / float64(len(frames)); per > 38 {
		t.Errorf("%.1f bytes a frame, want at most 38", per)
	}
	back, err := UnmarshalBinary(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(frames) {
		t.Fatalf("%d frames back, want %d", len(back), len(frames))
	}
	// The text form is what both keep: 3 decimals of timestamp.
	if a, b := textLines(t, back), textLines(t, frames); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Error("frames differ after a binary round trip")
	}
	for n := 0; n < len(b); n++ {
		if _, err := UnmarshalBinary(b[:n]); err == nil {
			t.Fatalf("a %d-byte prefix of %d decoded without error", n, len(b))
		}
	}
	if _, err := UnmarshalBinary(append(b, 0)); err == nil {
		t.Error("trailing byte accepted")
	}
}
