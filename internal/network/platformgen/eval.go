package platformgen

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/safeguard-oss/safeguard/internal/network"
)

// Result compares detected networks with the truth.
type Result struct {
	Flagged, TruePositives, Planted int // member accounts
	Precision, Recall               float64
	// Targets planted (children some network steals from), and how many
	// of them a detected network names as a target.
	Targets, TargetsRecognised int
	// TargetsAsMembers counts children labelled members: must be 0.
	TargetsAsMembers int
	// Networks planted; found: one detected network holds more than half
	// of its members; whole: one detected network holds all of them.
	Networks, Found, Whole int
	// FalseByKind counts flagged members that are hard negatives, by kind.
	FalseByKind map[string]int
	PerNetwork  []NetworkResult
}

// NetworkResult is how one planted network was found.
type NetworkResult struct {
	Name    string
	Style   Style
	Members int
	// Best is how many of its members the detected network holding most of
	// them holds; Flagged how many were flagged in any network.
	Best, Flagged              int
	Targets, TargetsRecognised int
}

// Evaluate scores nets against t.
func Evaluate(t Truth, nets []network.Network) Result {
	planted := map[string]string{} // member -> network name
	for _, n := range t.Networks {
		for _, m := range n.Members {
			planted[m] = n.Name
		}
	}
	children := map[string]bool{}
	for _, c := range t.Children {
		children[c] = true
	}
	flagged := map[string]bool{}
	named := map[string]bool{} // accounts named as targets
	for _, n := range nets {
		for _, m := range n.Members {
			flagged[m.Account] = true
		}
		for _, tg := range n.Targets {
			named[tg.Account] = true
		}
	}
	r := Result{Flagged: len(flagged), Planted: len(planted), Networks: len(t.Networks), FalseByKind: map[string]int{}}
	kindOf := map[string]string{}
	for k, accs := range t.Negatives {
		for _, a := range accs {
			kindOf[a] = k
		}
	}
	for a := range flagged {
		switch {
		case planted[a] != "":
			r.TruePositives++
		case children[a]:
			r.TargetsAsMembers++
		default:
			r.FalseByKind[cmp.Or(kindOf[a], "ordinary")]++
		}
	}
	targets := map[string]bool{}
	for _, n := range t.Networks {
		nr := NetworkResult{Name: n.Name, Style: n.Style, Members: len(n.Members), Targets: len(n.Targets)}
		for _, d := range nets {
			in := 0
			for _, m := range d.Members {
				if planted[m.Account] == n.Name {
					in++
				}
			}
			nr.Best = max(nr.Best, in)
		}
		for _, m := range n.Members {
			if flagged[m] {
				nr.Flagged++
			}
		}
		for _, tg := range n.Targets {
			targets[tg] = true
			if named[tg] {
				nr.TargetsRecognised++
			}
		}
		if 2*nr.Best > nr.Members {
			r.Found++
		}
		if nr.Best == nr.Members {
			r.Whole++
		}
		r.PerNetwork = append(r.PerNetwork, nr)
	}
	r.Targets = len(targets)
	for tg := range targets {
		if named[tg] {
			r.TargetsRecognised++
		}
	}
	if r.Flagged > 0 {
		r.Precision = float64(r.TruePositives) / float64(r.Flagged)
	}
	if r.Planted > 0 {
		r.Recall = float64(r.TruePositives) / float64(r.Planted)
	}
	return r
}

// Print writes r as a short table.
func (r Result) Print(w io.Writer) {
	fmt.Fprintf(w, "members: %d flagged, %d planted, %d right: precision %.3f, recall %.3f; children labelled members: %d\n",
		r.Flagged, r.Planted, r.TruePositives, r.Precision, r.Recall, r.TargetsAsMembers)
	fmt.Fprintf(w, "targets recognised: %d of %d; networks: %d planted, %d found (most members in one), %d whole\n",
		r.TargetsRecognised, r.Targets, r.Networks, r.Found, r.Whole)
	if len(r.FalseByKind) > 0 {
		kinds := slices.Sorted(maps.Keys(r.FalseByKind))
		fmt.Fprint(w, "false members by kind:")
		for _, k := range kinds {
			fmt.Fprintf(w, " %s %d", k, r.FalseByKind[k])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%-12s %-9s %7s %7s %8s %8s\n", "network", "style", "members", "flagged", "in-one", "targets")
	for _, n := range r.PerNetwork {
		fmt.Fprintf(w, "%-12s %-9s %7d %7d %8d %5d/%d\n", n.Name, n.Style, n.Members, n.Flagged, n.Best, n.TargetsRecognised, n.Targets)
	}
}
