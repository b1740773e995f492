package bench

import (
	"bytes"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/hamming"
)

func TestIndexPrintsTable(t *testing.T) {
	var out bytes.Buffer
	if err := Index(&out, IndexConfig{N: 5000, Queries: 300, Radius: 31, Sample: 100, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"hamming.Index", "brute-force popcount", "snapshot:", "heap in use:"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "hamming.Index ") && !strings.Contains(line, "100.00%") {
			t.Errorf("recall below 100%%: %s", line)
		}
	}
}

func TestSyntheticCodes(t *testing.T) {
	codes, queries := SyntheticCodes(10000, 1000, 3)
	if len(codes) != 10000 || len(queries) != 1000 {
		t.Fatalf("got %d codes and %d queries", len(codes), len(queries))
	}
	// About a tenth of the codes are in clusters, so about a tenth have a
	// neighbour within 80 bits (two members of a cluster, each within 40
	// of its centre); random codes are about 128 bits apart.
	near := 0
	for i, c := range codes[:2000] {
		for j, d := range codes {
			if i != j && hamming.Distance(c, d) <= 80 {
				near++
				break
			}
		}
	}
	if near < 100 || near > 400 {
		t.Errorf("%d of 2000 codes have a neighbour within 80 bits, want about 200", near)
	}
	// Half the queries are planted within 40 bits of a code.
	planted := 0
	for _, q := range queries[:200] {
		for _, c := range codes {
			if hamming.Distance(q, c) <= 40 {
				planted++
				break
			}
		}
	}
	if planted < 70 || planted > 130 {
		t.Errorf("%d of 200 queries are within 40 bits of a code, want about 100", planted)
	}
}
