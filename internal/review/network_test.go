package review_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/review"
)

func testNetwork(members ...string) network.Network {
	nt := network.Network{ID: "net-1", Score: 0.8, Reasons: []string{"3 members go after 2 children"}, Origins: []string{"p-kid"},
		Targets: []network.Target{{Account: "kid", Cue: "declared age 11", Images: []string{"p-kid"}}}}
	for _, m := range members {
		nt.Members = append(nt.Members, network.Member{Account: m,
			Reposts:  []network.Repost{{Post: "post-" + m, Origin: "p-kid", Target: "kid"}},
			Comments: []network.Comment{{ID: "comment-" + m, Post: "p-kid", Target: "kid", Text: "🥵🥵", Score: 0.8}}})
	}
	return nt
}

func eventsOf(fx review.Effects, k review.EventKind) []review.Event {
	var out []review.Event
	for _, e := range fx.Events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func TestNetworkCase(t *testing.T) {
	ctx := context.Background()
	d, _, _ := newDesk(t)
	c, fx, changed, err := d.FileNetwork(ctx, testNetwork("a", "b", "c"))
	if err != nil || !changed {
		t.Fatalf("FileNetwork: %v, changed %v", err, changed)
	}
	if !slices.Equal(c.AccountIDs, []string{"a", "b", "c"}) || slices.Contains(c.AccountIDs, "kid") {
		t.Fatalf("case accounts %v: want the members, never the target", c.AccountIDs)
	}
	if ts := eventsOf(fx, review.NetworkTargets); len(ts) != 1 || !slices.Equal(ts[0].AccountIDs, []string{"kid"}) {
		t.Fatalf("targets events %+v", ts)
	}
	// The same detection again changes nothing.
	if _, _, changed, err := d.FileNetwork(ctx, testNetwork("a", "b", "c")); err != nil || changed {
		t.Fatalf("refiled: changed %v, %v", changed, err)
	}
	// An exception must name a member.
	_, _, err = d.Decide(ctx, c.ID, review.Decision{Reviewer: "r1", Verdict: review.Confirm, Actions: []review.Action{review.Remove}, Except: []string{"kid"}})
	if !errors.Is(err, review.ErrInvalid) {
		t.Fatalf("except of a non-member: %v", err)
	}
	dc, fx, err := d.Decide(ctx, c.ID, review.Decision{Reviewer: "r1", Verdict: review.Confirm, Actions: []review.Action{review.Remove}, Except: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	rm := eventsOf(fx, review.ContentRemove)
	if len(rm) != 1 || !slices.Equal(rm[0].AccountIDs, []string{"a", "c"}) || slices.Contains(rm[0].ContentIDs, "post-b") || !slices.Contains(rm[0].ContentIDs, "comment-c") {
		t.Fatalf("remove %+v: want a and c's content, b spared", rm)
	}
	if !slices.Equal(dc.Network.Spared, []string{"b"}) || !slices.Equal(dc.Network.Acted, []string{"a", "c"}) {
		t.Fatalf("acted %v spared %v", dc.Network.Acted, dc.Network.Spared)
	}
	// The network grows: the same case opens again, and the next decision
	// acts on the new member only.
	nt := testNetwork("a", "b", "c", "d")
	nt.Targets = append(nt.Targets, network.Target{Account: "kid2", Cue: "bio says \"9 y/o\""})
	gc, fx, changed, err := d.FileNetwork(ctx, nt)
	if err != nil || !changed || gc.ID != c.ID || gc.State != review.Open {
		t.Fatalf("grown: case %d state %s changed %v err %v; want case %d open", gc.ID, gc.State, changed, err, c.ID)
	}
	if ts := eventsOf(fx, review.NetworkTargets); len(ts) != 1 || !slices.Equal(ts[0].AccountIDs, []string{"kid2"}) {
		t.Fatalf("new targets events %+v", ts)
	}
	_, fx, err = d.Decide(ctx, c.ID, review.Decision{Reviewer: "r1", Verdict: review.Confirm, Actions: []review.Action{review.Restrict}})
	if err != nil {
		t.Fatal(err)
	}
	if rs := eventsOf(fx, review.ContentRestrict); len(rs) != 1 || !slices.Equal(rs[0].AccountIDs, []string{"d"}) {
		t.Fatalf("restrict %+v: want the new member only (a, c acted on, b spared before)", rs)
	}
}
