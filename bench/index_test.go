package bench

import (
	"bytes"
	"strings"
	"testing"
)

func TestIndexPrintsTable(t *testing.T) {
	var out bytes.Buffer
	cfg := IndexConfig{Sizes: []int{3000, 5000}, Widths: []int{16, 0}, Queries: 300, Radius: 31, Sample: 100, Seed: 2, Data: []string{"random", "clustered200"}}
	if err := Index(&out, cfg); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"hamming.Index", "brute-force popcount", "snapshot:", "5000 random: heap", "3000 clustered200: heap", "Memory against time", "tables of 16 bits"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	rows := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, " hamming.Index") && strings.Contains(line, "%") {
			rows++
			if !strings.Contains(line, "100.00%") {
				t.Errorf("recall below 100%%: %s", line)
			}
		}
	}
	// A default and a 16-bit row for each size and list.
	if rows != 8 {
		t.Errorf("%d rows for hamming.Index, want 8:\n%s", rows, s)
	}
}

func TestIndexUnknownData(t *testing.T) {
	for _, data := range []string{"clustered", "clustered0", "uniform"} {
		err := Index(&bytes.Buffer{}, IndexConfig{Sizes: []int{10}, Queries: 1, Data: []string{data}})
		if err == nil || !strings.Contains(err.Error(), "unknown data set") {
			t.Errorf("data %q: %v, want unknown data set", data, err)
		}
	}
}
