package bench

import (
	"bytes"
	"strings"
	"testing"
)

func TestIndexPrintsTable(t *testing.T) {
	var out bytes.Buffer
	cfg := IndexConfig{N: 5000, Queries: 300, Radius: 31, Sample: 100, Seed: 2, Data: []string{"random", "clustered200"}}
	if err := Index(&out, cfg); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"hamming.Index", "brute-force popcount", "snapshot:", "random: heap", "clustered200: heap"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	rows := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, " hamming.Index ") {
			rows++
			if !strings.Contains(line, "100.00%") {
				t.Errorf("recall below 100%%: %s", line)
			}
		}
	}
	if rows != 2 {
		t.Errorf("%d rows for hamming.Index, want one a data set:\n%s", rows, s)
	}
}

func TestIndexUnknownData(t *testing.T) {
	for _, data := range []string{"clustered", "clustered0", "uniform"} {
		err := Index(&bytes.Buffer{}, IndexConfig{N: 10, Queries: 1, Data: []string{data}})
		if err == nil || !strings.Contains(err.Error(), "unknown data set") {
			t.Errorf("data %q: %v, want unknown data set", data, err)
		}
	}
}
