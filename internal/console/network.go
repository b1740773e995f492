package console

import (
	"slices"

	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// networkView is a network case as its page shows it: each member with
// its evidence and where it stands (acted on, spared, or still to decide),
// and the targets, who are never acted on.
type networkView struct {
	ID      string
	Score   float64
	Reasons []string
	Members []memberView
	Targets []network.Target
}

type memberView struct {
	network.Member
	Acted, Spared bool
	Excepted      bool // in the refused form's exceptions
}

// Open: the next decision acts on this member unless spared.
func (m memberView) Open() bool { return !m.Acted && !m.Spared }

func newNetworkView(n *review.NetworkCase, except []string) *networkView {
	if n == nil {
		return nil
	}
	v := &networkView{ID: n.ID, Score: n.Score, Reasons: n.Reasons, Targets: n.Targets}
	for _, m := range n.Members {
		v.Members = append(v.Members, memberView{Member: m, Acted: slices.Contains(n.Acted, m.Account),
			Spared: slices.Contains(n.Spared, m.Account), Excepted: slices.Contains(except, m.Account)})
	}
	return v
}
