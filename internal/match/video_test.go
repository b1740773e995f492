package match_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/signal"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

func sampleFrames(t *testing.T, name string) []vpdq.Frame {
	t.Helper()
	f, err := os.Open(filepath.Join("../../testdata/threatexchange/vpdq/sample-hashes", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames, err := vpdq.ReadText(f)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

func vpdqEntry(t *testing.T, frames []vpdq.Frame, note string) bank.Entry {
	t.Helper()
	v, err := bank.VPDQValue(frames)
	if err != nil {
		t.Fatal(err)
	}
	return bank.Entry{Signal: bank.VPDQ, Value: v, Note: note}
}

// TestVideo matches sample videos' reference hashes against banked ones
// through the matcher: the percentages are the rule's, each bank applies
// its own query percentage, and removal and later additions reach the
// index through the change feed.
func TestVideo(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	for _, b := range []bank.Bank{{Name: "loose"}, {Name: "strict", VPDQThreshold: 99.5}} {
		if _, err := st.CreateBank(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	chair20, orig22, logo := sampleFrames(t, "chair-20-sd-bar"), sampleFrames(t, "chair-orig-22-sd-bar"), sampleFrames(t, "chair-22-with-large-logo-bar")
	add(t, st, "loose", vpdqEntry(t, chair20, "chair20"), vpdqEntry(t, logo, "logo"))
	add(t, st, "strict", vpdqEntry(t, chair20, "chair20"))
	m := match.New(st)
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.Videos != 3 || s.Frames == 0 {
		t.Fatalf("stats %+v: want 3 videos and their frames", s)
	}
	res, err := m.Match(ctx, match.Query{Set: signal.Set{VPDQ: orig22, Quality: -1}, Radius: -1})
	if err != nil {
		t.Fatal(err)
	}
	want := vpdq.DefaultRule.Compare(orig22, chair20)
	if len(res.Matches) != 1 {
		t.Fatalf("%d matches: want only loose's chair-20 (logo is ~10%%, strict wants 99.5%%)", len(res.Matches))
	}
	got := res.Matches[0]
	if got.Bank != "loose" || got.Entry.Note != "chair20" || got.Signal != bank.VPDQ ||
		got.QueryPercent != want.QueryPercent || got.ComparedPercent != want.ComparedPercent {
		t.Fatalf("match %s/%s %s %.2f/%.2f: want loose/chair20 at %+v", got.Bank, got.Entry.Note, got.Signal, got.QueryPercent, got.ComparedPercent, want)
	}
	// python-threatexchange's figures for chair-orig-22 against chair-20.
	if int(got.QueryPercent*100+0.5) != 9864 || got.ComparedPercent != 100 {
		t.Errorf("percentages %.2f/%.2f, want 98.64/100.00", got.QueryPercent, got.ComparedPercent)
	}

	// chair-20 against itself reaches the strict bank too.
	res, err = m.Match(ctx, match.Query{Set: signal.Set{VPDQ: chair20, Quality: -1}, Radius: -1, Banks: []string{"strict"}})
	if err != nil || len(res.Matches) != 1 || res.Matches[0].QueryPercent != 100 {
		t.Fatalf("chair20 in strict: %d matches, %v", len(res.Matches), err)
	}

	// Removed entries stop matching after a sync.
	if err := st.RemoveEntry(ctx, "loose", bank.VPDQ, res.Matches[0].Entry.Value); err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = m.Match(ctx, match.Query{Set: signal.Set{VPDQ: orig22, Quality: -1}, Radius: -1})
	if err != nil || len(res.Matches) != 0 {
		t.Fatalf("after removal: %d matches, %v", len(res.Matches), err)
	}
	if s := m.Stats(); s.Videos != 2 {
		t.Errorf("after removal, %d videos indexed, want 2", s.Videos)
	}
}
