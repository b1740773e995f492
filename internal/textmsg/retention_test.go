package textmsg

import (
	"context"
	"errors"
	"testing"
	"time"
)

// windows is a Store that records the windows it is asked to prune.
type windows struct {
	Store
	asked [][2]time.Time
	fail  bool
}

func (w *windows) Prune(_ context.Context, since, before time.Time) (Pruned, error) {
	w.asked = append(w.asked, [2]time.Time{since, before})
	if w.fail {
		return Pruned{}, errors.New("store down")
	}
	return Pruned{}, nil
}

// A Pruner asks for what came since its last successful prune, up to
// Retention ago; a failed prune is asked again; negative keeps all.
func TestPrunerWindows(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	w := &windows{}
	p := &Pruner{Store: w, Now: func() time.Time { return now }}
	step := func(fail bool) {
		w.fail = fail
		if _, err := p.Prune(context.Background()); (err != nil) != fail {
			t.Fatalf("Prune: %v", err)
		}
		now = now.Add(PruneEvery)
	}
	step(false)
	step(true)
	step(false)
	cut := now.Add(-DefaultRetention)
	want := [][2]time.Time{
		{{}, cut.Add(-3 * PruneEvery)},
		{cut.Add(-3 * PruneEvery), cut.Add(-2 * PruneEvery)},
		{cut.Add(-3 * PruneEvery), cut.Add(-PruneEvery)},
	}
	if len(w.asked) != len(want) {
		t.Fatalf("asked %v, want %v", w.asked, want)
	}
	for i := range want {
		if !w.asked[i][0].Equal(want[i][0]) || !w.asked[i][1].Equal(want[i][1]) {
			t.Errorf("prune %d asked [%v, %v), want [%v, %v)", i, w.asked[i][0], w.asked[i][1], want[i][0], want[i][1])
		}
	}
	p.Retention = -1
	step(false)
	if len(w.asked) != len(want) {
		t.Errorf("a negative retention pruned: %v", w.asked[len(want):])
	}
}
