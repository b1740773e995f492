package plot

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
)

type rect struct {
	Height string `xml:"height,attr"`
	Y      string `xml:"y,attr"`
	Title  string `xml:"title"`
}

// bars decodes s as XML (failing on any error) and returns its bars.
func bars(t *testing.T, s string) []rect {
	t.Helper()
	var out []rect
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, s)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			var r rect
			if err := d.DecodeElement(&r, &se); err != nil {
				t.Fatal(err)
			}
			if r.Title != "" {
				out = append(out, r)
			}
		}
	}
}

func TestBarsProportional(t *testing.T) {
	c := Chart{Title: "Weekly <volumes> & more", Labels: []string{"a", "b", `"c"`},
		Series: []Series{{Name: "users", Values: []float64{10, 20, 0}}, {Name: "rules", Values: []float64{30, 0, 5}}}, Cumulative: true}
	s := c.SVG()
	bs := bars(t, s)
	if len(bs) != 4 { // zero values draw nothing
		t.Fatalf("%d bars, want 4", len(bs))
	}
	h := func(r rect) float64 { f, _ := strconv.ParseFloat(r.Height, 64); return f }
	// 10 and 20 of the same axis: one twice the other; 30 three times 10.
	if r := h(bs[2]) / h(bs[0]); r < 1.99 || r > 2.01 {
		t.Errorf("20/10 drawn %.3f times as high", r)
	}
	if r := h(bs[1]) / h(bs[0]); r < 2.99 || r > 3.01 {
		t.Errorf("30/10 drawn %.3f times as high", r)
	}
	if bs[0].Title != "a, users: 10" {
		t.Errorf("tooltip %q", bs[0].Title)
	}
	if !strings.Contains(s, "Weekly &lt;volumes&gt; &amp; more") || !strings.Contains(s, "&#34;c&#34;") || strings.Contains(s, "style=") {
		t.Errorf("title or labels not escaped, or a style attribute:\n%s", s)
	}
	if !strings.Contains(s, `class="cdf"`) {
		t.Error("no cumulative line")
	}
}

func TestEmpty(t *testing.T) {
	s := Chart{Title: "Backlog"}.SVG()
	bars(t, s)
	if !strings.Contains(s, "nothing in this period") {
		t.Errorf("empty chart:\n%s", s)
	}
}

func TestNice(t *testing.T) {
	for v, want := range map[float64]float64{0: 1, 1: 1, 3: 5, 7: 10, 11: 20, 240: 250, 251: 500, 1000: 1000} {
		if got := nice(v); got != want {
			t.Errorf("nice(%v) = %v, want %v", v, got, want)
		}
	}
}
