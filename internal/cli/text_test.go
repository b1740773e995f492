package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The csv output is a header then one line per input line, in order,
// whatever the line holds.
func TestTextScoreCSV(t *testing.T) {
	in := "dm,age=13\thow old r u? dont tell ur mom\n" +
		"comment,child\tso hot 🥵 send more of her\n" +
		"so proud of her first recital\n" +
		"\n" +
		"nosuch\tsend nudes\n" +
		"caption\thot chocolate weather 🥵\n"
	code, out, errs := run(t, in, "text", "score", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := []string{"flagged,score,labels", "true,", "true,", "false,", "false,", "true,", "false,"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines for 6 inputs:\n%s", len(lines), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d %q: want it to start %q", i, lines[i], w)
		}
	}
	if !strings.HasSuffix(lines[1], ",grooming") || !strings.HasSuffix(lines[2], ",sexual_comment") {
		t.Errorf("labels: %q %q", lines[1], lines[2])
	}
	if !strings.Contains(errs, "line 5") {
		t.Errorf("stderr %q: want the bad surface on line 5 named", errs)
	}
}

func TestTextScoreJSON(t *testing.T) {
	text := "so hot 🥵 send more of her"
	code, out, errs := run(t, "comment,child\t"+text+"\n", "text", "score", "--format", "json", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Line    int
		Context string
		Flagged bool
		Score   float64
		Reasons []struct {
			Family  string
			Phrases []string
			Spans   []struct{ Start, End int }
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Line != 1 || r.Context != "comment,child" || !r.Flagged || len(r.Reasons) == 0 {
		t.Fatalf("%+v", r)
	}
	for _, re := range r.Reasons {
		for i, sp := range re.Spans {
			if text[sp.Start:sp.End] != re.Phrases[i] {
				t.Errorf("%s: span %+v is %q, phrase %q", re.Family, sp, text[sp.Start:sp.End], re.Phrases[i])
			}
		}
	}
}

func TestTextScoreErrors(t *testing.T) {
	if code, _, errs := run(t, "", "text", "score", "--format", "xml"); code != 2 || !strings.Contains(errs, "--format") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if code, _, errs := run(t, "", "text", "score", "--model", "/nonexistent"); code != 2 || !strings.Contains(errs, "nonexistent") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if code, _, errs := run(t, "hi\n"+strings.Repeat("a", 70<<10)+"\n", "text", "score"); code != 2 || !strings.Contains(errs, "line 2 is longer than") {
		t.Errorf("exit %d: %s", code, errs)
	}
	// Hostile lines are each named, still scored (one answer a line), and
	// the exit status says some were: the API refuses the same text 400.
	// An unknown surface is said but not counted: the line is a DM.
	code, out, errs := run(t, "fine\nbad \xff\xfe utf-8\nbell\x07 and escape\x1b[31m\nzzz\thi\nfine\n", "text", "score")
	if code != 1 || strings.Count(out, "\n") != 6 {
		t.Errorf("exit %d, %d lines out, want 1 and a header and 5 answers: %s", code, strings.Count(out, "\n"), out)
	}
	for _, want := range []string{"line 2: text is not valid UTF-8", "line 3: text holds a control character (U+0007)", `line 4: surface "zzz"`, "2 of 5 lines"} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors %q do not say %q", errs, want)
		}
	}
	if code, _, _ := run(t, "", "text", "frob"); code != 2 {
		t.Errorf("unknown subcommand: exit %d", code)
	}
}

func TestTextEval(t *testing.T) {
	code, out, errs := run(t, "", "text", "eval", "../../testdata/text/tune.tsv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"precision", "surface", "dm", "comment", "label", "grooming", "sextortion", "sexual_comment"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.tsv")
	os.WriteFile(bad, []byte("grooming\tdm\tok\nnope\tdm\tx\n"), 0o600)
	if code, _, errs := run(t, "", "text", "eval", bad); code != 2 || !strings.Contains(errs, "line 2") {
		t.Errorf("bad file: exit %d: %s", code, errs)
	}
}

// train writes a model that score --model reads, and that changes scores.
func TestTextTrainThenScore(t *testing.T) {
	dir := t.TempDir()
	decisions := filepath.Join(dir, "decisions.tsv")
	var b strings.Builder
	for i := 0; i < 4; i++ {
		b.WriteString("confirmed\tdm,age=13\tjoin my vip room, only special girls\n")
		b.WriteString("confirmed\tdm,age=13\tmy vip room is for my fav girls only\n")
		b.WriteString("dismissed\tdm,age=13\tvip tickets for the game!!\n")
		b.WriteString("dismissed\tdm,age=13\tclean ur room before dinner\n")
	}
	os.WriteFile(decisions, []byte(b.String()), 0o600)
	model := filepath.Join(dir, "model.json")
	code, out, errs := run(t, "", "text", "train", "--out", model, decisions)
	if code != 0 || !strings.Contains(out, "16 decisions (8 confirmed)") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	// The rules alone leave this one under the threshold (0.43); the
	// built-in model's later rounds already flag "come to my vip room,
	// its for special girls", so the comparison is with the rules alone.
	msg := "dm,age=12\tthe vip room tonight, fav girls only\n"
	_, without, _ := run(t, msg, "text", "score", "--model", "none")
	if !strings.HasPrefix(strings.Split(without, "\n")[1], "false,") {
		t.Fatalf("the rules alone: %q: want not flagged", without)
	}
	_, with, errs := run(t, msg, "text", "score", "--model", model)
	if without == with {
		t.Fatalf("same output with and without the model: %q %s", with, errs)
	}
	if !strings.HasPrefix(strings.Split(with, "\n")[1], "true,") {
		t.Errorf("with the model: %q: want flagged", with)
	}
}
