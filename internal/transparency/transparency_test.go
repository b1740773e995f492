package transparency

import (
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
)

// TestDefinitionsDocumented: docs/transparency.md's table names every
// figure, in order, with its denominator.
func TestDefinitionsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/transparency.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_.0-9]+)` \\| [^|]+ \\| ([^|]+) \\|").FindAllStringSubmatch(string(b), -1) {
		names = append(names, m[1])
	}
	var want []string
	for _, d := range Definitions {
		want = append(want, d.Name)
		if d.Denominator == "" {
			t.Errorf("%s has no denominator in words", d.Name)
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("docs/transparency.md lists\n%v\nwant\n%v", names, want)
	}
	// Every figure a report prints is defined, and every definition is printed.
	rep := Compute(Input{AsOf: time.Now()}, Period{From: time.Now().Add(-time.Hour), To: time.Now()}, Config{})
	var printed []string
	for _, f := range append(rep.Groups[0].Figures, rep.Service...) {
		printed = append(printed, f.Name)
	}
	if !slices.Equal(printed, want) {
		t.Errorf("a report prints\n%v\nwant\n%v", printed, want)
	}
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	p, err := ParsePeriod("2026-07-01", "2026-10-01T00:00:00+02:00", now)
	if err != nil || !p.From.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) || !p.To.Equal(time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("ParsePeriod = %+v, %v", p, err)
	}
	if p, err := ParsePeriod("", "", now); err != nil || p.To != now || p.To.Sub(p.From) != DefaultPeriod {
		t.Errorf("default period %+v, %v", p, err)
	}
	for _, bad := range [][2]string{{"soon", ""}, {"2026-07-02", "2026-07-01"}, {"2026-07-01", "2026-07-01"}, {"2020-01-01", "2026-01-01"}, {"", "later"}} {
		if _, err := ParsePeriod(bad[0], bad[1], now); err == nil {
			t.Errorf("ParsePeriod(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

// TestReporter: one flagger's own figures, by the same definitions; the
// other reporters' reports and the appeals are left out.
func TestReporter(t *testing.T) {
	t0 := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	asOf := t0.Add(20 * 24 * time.Hour)
	var in Input
	in.AsOf, in.Cases = asOf, map[int64]review.Case{}
	add := func(reporter string, st review.Status, decided time.Duration) {
		id := int64(len(in.Reports) + 1)
		r := review.Report{ID: id, CaseID: id, Source: review.Flagger, Reporter: reporter, Category: review.Grooming,
			ReceivedAt: t0.Add(time.Duration(id) * time.Hour), Status: st}
		if decided > 0 {
			r.DecidedAt = r.ReceivedAt.Add(decided)
		}
		in.Reports = append(in.Reports, r)
		in.Cases[id] = review.Case{ID: id, State: review.Decided, Category: review.Grooming,
			Appeal: &review.Appeal{At: t0.Add(2 * time.Hour)}}
	}
	for range 6 {
		add("hotline", review.Actioned, time.Hour)
	}
	for range 3 {
		add("hotline", review.NoAction, 2*time.Hour)
	}
	add("hotline", review.Received, 0)
	add("other", review.Actioned, time.Hour)
	rep := Compute(in, Period{From: t0, To: t0.Add(10 * 24 * time.Hour)}, Config{Reporter: "hotline"})
	g, _ := rep.Group("all")
	for name, want := range map[string]float64{"received": 10, "actioned": 6, "dismissed": 3, "undecided": 1,
		"undecided.oldest_age": (asOf.Sub(t0.Add(10 * time.Hour))).Seconds(), "appeals": 0} {
		if f, _ := g.Get(name); f.Value != want {
			t.Errorf("%s = %v, want %v", name, f.Value, want)
		}
	}
}

// FuzzParsePeriod: any from and to are refused or give a checked period.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range [][2]string{{"2026-07-01", "2026-10-01"}, {"", ""}, {"2026-07-01T00:00:00Z", "x"}, {"9999-12-31", "0001-01-01"}} {
		f.Add(s[0], s[1])
	}
	now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, from, to string) {
		p, err := ParsePeriod(from, to, now)
		if err == nil && (!p.From.Before(p.To) || p.To.Sub(p.From) > MaxPeriod) {
			t.Errorf("ParsePeriod(%q, %q) = %+v, accepted", from, to, p)
		}
	})
}
