package api

import (
	"sync"
	"testing"
	"time"
)

// Issue 12 (low): a key refused a thousand times writes one entry, then
// one with the count, per route and window; another route or key has
// entries of its own.
func TestDeniedCoalesced(t *testing.T) {
	d := deniedLog{window: 50 * time.Millisecond}
	var mu sync.Mutex
	var got []map[string]any
	record := func(_ string, detail map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, detail)
	}
	for range 1000 {
		d.note(deniedKey{"k1", "GET /v1/evidence/{id}"}, "GET /v1/evidence/x", map[string]any{"role": "reviewer"}, record)
	}
	d.note(deniedKey{"k1", "DELETE /v1/evidence/{id}"}, "DELETE /v1/evidence/x", map[string]any{}, record)
	d.note(deniedKey{"k2", "GET /v1/evidence/{id}"}, "GET /v1/evidence/x", map[string]any{}, record)
	mu.Lock()
	if len(got) != 3 {
		t.Errorf("%d entries at once, want 3 (one per key and route)", len(got))
	}
	mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 || got[3]["count"] != 999 || got[3]["role"] != "reviewer" {
		t.Errorf("entries %v, want a fourth counting the 999 folded refusals", got)
	}
}
