// Package networktest checks implementations of network.Store.
package networktest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/network"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

// Store is what the suite needs: events, and scans to take PDQ hashes from.
type Store interface {
	network.Store
	scan.Store
}

// Run checks that events are kept in order, once per key, with their
// fields, and that a post's content id finds its scan's PDQ hash. open
// returns a new, empty store.
func Run(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	hash := strings.Repeat("ab", 32)
	es := []network.Event{
		{Type: "account", ID: "kid", At: at, Bio: "Lily 9 y/o 🌸", DeclaredAge: 9},
		{Type: "post", ID: "p1", Account: "kid", At: at, PDQ: hash, Caption: "recital"},
		{Type: "follow", Account: "a", Target: "bc", At: at},
		{Type: "follow", Account: "ab", Target: "c", At: at}, // not the same pair as a→bc
		{Type: "comment", ID: "c1", Account: "a", Post: "p1", Text: "🥵", At: at},
	}
	n, err := s.AddEvents(ctx, es)
	if err != nil || n != len(es) {
		t.Fatalf("AddEvents: %d, %v; want %d", n, err, len(es))
	}
	again := []network.Event{es[4], {Type: "comment", ID: "c1", Account: "z", Post: "p1", Text: "other", At: at}, es[2],
		{Type: "post", ID: "p2", Account: "a", At: at, ContentID: "img-1"}}
	if n, err := s.AddEvents(ctx, again); err != nil || n != 1 {
		t.Fatalf("AddEvents of repeats and one new: %d, %v; want 1", n, err)
	}
	var got []network.Event
	if err := s.Events(ctx, func(e network.Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	want := append(es, again[3])
	if len(got) != len(want) {
		t.Fatalf("Events: %d, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Key() != want[i].Key() || !got[i].At.Equal(want[i].At) || got[i].Bio != want[i].Bio ||
			got[i].Text != want[i].Text || got[i].PDQ != want[i].PDQ || got[i].ContentID != want[i].ContentID || got[i].DeclaredAge != want[i].DeclaredAge {
			t.Errorf("event %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if h, err := s.ScannedPDQ(ctx, "img-1"); err != nil || h != "" {
		t.Fatalf("ScannedPDQ before any scan: %q, %v", h, err)
	}
	for i, rec := range []scan.Record{
		{ID: "scn_" + strings.Repeat("1", 32), Time: at, Kind: "scan", Actor: "k", ContentID: "img-1", PDQ: hash, Quality: 90, Matches: []match.Match{}},
		{ID: "scn_" + strings.Repeat("2", 32), Time: at.Add(time.Minute), Kind: "scan", Actor: "k", ContentID: "img-1", PDQ: strings.Repeat("cd", 32), Quality: 10, LowQuality: true, Matches: []match.Match{}},
	} {
		if err := s.RecordScan(ctx, rec); err != nil {
			t.Fatalf("scan %d: %v", i, err)
		}
	}
	if h, err := s.ScannedPDQ(ctx, "img-1"); err != nil || h != hash {
		t.Fatalf("ScannedPDQ: %q, %v; want the latest usable hash %s", h, err, hash)
	}
}
