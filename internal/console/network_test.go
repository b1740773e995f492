package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/network"
)

// A network case's page shows the targets, each member with the evidence,
// and a spare box per member inside the decision form; a confirmation with
// one member spared acts on the others.
func TestNetworkCasePage(t *testing.T) {
	w := newWorld(t)
	nt := network.Network{ID: "net-abc", Score: 0.9, Reasons: []string{"3 members go after 2 children"}, Origins: []string{"p-kid"},
		Targets: []network.Target{{Account: "kid-7", Cue: `bio says "9 y/o"`, Images: []string{"p-kid"}}}}
	for _, m := range []string{"m-a", "m-b", "m-c"} {
		nt.Members = append(nt.Members, network.Member{Account: m, Reasons: []string{"1 sexualised comment(s) on children's images"},
			Reposts:  []network.Repost{{Post: "copy-" + m, Origin: "p-kid", Target: "kid-7", Distance: 4}},
			Comments: []network.Comment{{ID: "c-" + m, Post: "p-kid", Target: "kid-7", Text: "so mature", Score: 0.9}},
			Follows:  []string{"m-a"}})
	}
	c, _, _, err := w.desk.FileNetwork(context.Background(), nt)
	if err != nil {
		t.Fatal(err)
	}
	b := w.browser()
	b.signIn(auth.Reviewer)
	page := b.get(fmt.Sprintf("/console/cases/%d", c.ID))
	for _, want := range []string{`id="targets"`, "kid-7", `bio says &#34;9 y/o&#34;`, `id="members"`, "copy of p-kid", "so mature",
		`form="decision" name="except" value="m-b"`} {
		if !strings.Contains(page.body, want) {
			t.Fatalf("network case page lacks %q:\n%s", want, page.body)
		}
	}
	if strings.Contains(page.body, `name="except" value="kid-7"`) {
		t.Fatal("a target is offered as a member")
	}
	a := b.post(fmt.Sprintf("/console/cases/%d/decision", c.ID), url.Values{"csrf": {csrf(t, page.body)}, "verdict": {"confirm"},
		"takedown": {"restrict"}, "except": {"m-b"}, "version": {fmt.Sprint(c.Version)}})
	if a.status != http.StatusOK {
		t.Fatalf("decision: %d\n%s", a.status, a.body)
	}
	got, _, _, err := w.desk.Case(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Decided() || !slices.Equal(got.Network.Spared, []string{"m-b"}) || !slices.Equal(got.Network.Acted, []string{"m-a", "m-c"}) {
		t.Fatalf("after the decision: state %s, acted %v, spared %v", got.State, got.Network.Acted, got.Network.Spared)
	}
	if page := b.get(fmt.Sprintf("/console/cases/%d", c.ID)); !strings.Contains(page.body, "spared") || !strings.Contains(page.body, "acted on") {
		t.Fatalf("decided network case page:\n%s", page.body)
	}
}
