package usecase_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// Events ingested before a restart are what detection sees after it:
// a new Networks over the same store, loaded, finds the network and files
// its case; a second detection with nothing new does nothing.
func TestNetworksSurviveRestart(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, tx := usecase.Over(st)
	log := audit.NewLog(st)
	newNetworks := func() *usecase.Networks {
		rv := &usecase.Review{Tx: tx, Log: log, Desk: review.NewDesk(st, st, review.Config{})}
		return &usecase.Networks{Tx: tx, Log: log, Review: rv, Detector: &network.Detector{Scorer: network.Lexicon{}}}
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var es []network.Event
	add := func(e network.Event) { at = at.Add(time.Minute); e.At = at; es = append(es, e) }
	for i := range 3 {
		kid := fmt.Sprintf("kid%d", i)
		add(network.Event{Type: "account", ID: kid, DeclaredAge: 10})
		add(network.Event{Type: "post", ID: kid + "-p", Account: kid, PDQ: fmt.Sprintf("%064x", i*7919+1)})
	}
	members := []string{"m1", "m2", "m3", "m4"}
	for i, m := range members {
		for _, n := range members[:i] {
			add(network.Event{Type: "follow", Account: m, Target: n})
		}
		for k := range 3 {
			add(network.Event{Type: "comment", ID: fmt.Sprintf("%s-c%d", m, k), Account: m, Post: fmt.Sprintf("kid%d-p", k), Text: "🥵🥵 sexy"})
		}
	}
	for i := range es {
		if err := es[i].Check(); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := newNetworks().Ingest(ctx, "platform", es); err != nil || res.Accepted != len(es) {
		t.Fatalf("Ingest: %+v, %v", res, err)
	}
	u := newNetworks() // the restart
	if n, err := u.Load(ctx, st); err != nil || n != len(es) {
		t.Fatalf("Load: %d, %v; want %d", n, err, len(es))
	}
	res, err := u.Detect(ctx)
	if err != nil || res.Networks != 1 || res.Changed != 1 {
		t.Fatalf("Detect after the restart: %+v, %v", res, err)
	}
	if res, err := u.Detect(ctx); err != nil || res != (usecase.Detected{}) {
		t.Fatalf("Detect with nothing new: %+v, %v", res, err)
	}
	cs, err := st.OpenCases(ctx)
	if err != nil || len(cs) != 1 || cs[0].Network == nil || len(cs[0].AccountIDs) != len(members) {
		t.Fatalf("open cases: %+v, %v", cs, err)
	}
}
