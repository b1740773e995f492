package platformgen

import (
	"os"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/network"
)

func TestTry(t *testing.T) {
	for _, cfg := range []Config{Default(2), Default(3), {Seed: 4, Ordinary: 20000, CueLess: 0.3, Networks: []int{3, 4, 50, 80}, Memes: 20, MemeReposts: 1000, Fans: 400}} {
		evs, truth := Generate(cfg)
		var a network.Activity
		for _, e := range evs {
			if err := e.Check(); err != nil {
				t.Fatal(err)
			}
			a.Add(e)
		}
		t.Logf("%d events", len(evs))
		var d network.Detector
		nets := d.Detect(&a)
		Evaluate(truth, nets).Print(os.Stdout)
	}
}

func TestDebug(t *testing.T) {
	evs, truth := Generate(Default(1))
	var a network.Activity
	for _, e := range evs {
		a.Add(e)
	}
	planted := map[string]bool{}
	for _, n := range truth.Networks {
		for _, m := range n.Members {
			planted[m] = true
		}
	}
	var d network.Detector
	for _, n := range d.Detect(&a) {
		fp := 0
		for _, m := range n.Members {
			if !planted[m.Account] {
				fp++
				if fp < 4 {
					t.Logf("FP in %s: %v reposts=%d comments=%v follows=%v", n.ID, m.Reasons, len(m.Reposts), m.Comments, m.Follows)
				}
			}
		}
		t.Logf("net %s score %.2f members %d fp %d targets %d %v", n.ID, n.Score, len(n.Members), fp, len(n.Targets), n.Reasons)
	}
}
