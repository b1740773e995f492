package rules_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/rules/rulestest"
)

// The Cache keeps every promise of a Store.
func TestCacheConformance(t *testing.T) {
	rulestest.Run(t, func(*testing.T) rules.Store { return rules.NewCache(new(rulestest.Memory), time.Hour) })
}

// counting counts the listings that reach the store.
type counting struct {
	*rulestest.Memory
	mu    sync.Mutex
	lists int
}

func (c *counting) ListRules(ctx context.Context) ([]rules.Rule, error) {
	c.mu.Lock()
	c.lists++
	c.mu.Unlock()
	return c.Memory.ListRules(ctx)
}

func (c *counting) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lists
}

func names(t *testing.T, s rules.Store) string {
	t.Helper()
	rs, err := s.ListRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out string
	for _, r := range rs {
		out += r.Name + ";"
	}
	return out
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	under := &counting{Memory: new(rulestest.Memory)}
	c := rules.NewCache(under, time.Hour)
	a := rules.Rule{Name: "a", Enabled: true, Actions: []rules.Action{{Kind: rules.Block}}}
	if _, err := c.CreateRule(ctx, a); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if got := names(t, c); got != "a;" {
			t.Fatalf("ListRules = %q, want a;", got)
		}
	}
	if n := under.count(); n != 1 {
		t.Errorf("5 listings reached the store %d times, want 1", n)
	}

	// Changes made by another process are not seen within the TTL...
	b := a
	b.Name = "b"
	if _, err := under.CreateRule(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := names(t, c); got != "a;" {
		t.Errorf("within the TTL: %q, want the cached a;", got)
	}
	// ...but changes through the cache are, at once.
	r, err := c.Rule(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	r.Name = "a2"
	if _, err := c.UpdateRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := names(t, c); got != "a2;b;" {
		t.Errorf("after an update through the cache: %q, want a2;b;", got)
	}

	// What a caller does to its listing does not reach the cache.
	rs, _ := c.ListRules(ctx)
	rs[0] = rules.Rule{Name: "mangled"}
	if got := names(t, c); got != "a2;b;" {
		t.Errorf("after a caller changed its copy: %q", got)
	}
}

func TestCacheExpires(t *testing.T) {
	ctx := context.Background()
	under := new(rulestest.Memory)
	c := rules.NewCache(under, time.Millisecond)
	if got := names(t, c); got != "" {
		t.Fatalf("empty store lists %q", got)
	}
	if _, err := under.CreateRule(ctx, rules.Rule{Name: "x", Actions: []rules.Action{{Kind: rules.Block}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if got := names(t, c); got != "x;" {
		t.Errorf("after the TTL: %q, want x;", got)
	}
}

// TestCacheRace: listings racing updates through the cache always see
// every update that returned before they started.
func TestCacheRace(t *testing.T) {
	ctx := context.Background()
	c := rules.NewCache(new(rulestest.Memory), time.Hour)
	r, err := c.CreateRule(ctx, rules.Rule{Name: "v", Actions: []rules.Action{{Kind: rules.Block}}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if _, err := c.ListRules(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 50 {
		if r, err = c.UpdateRule(ctx, r); err != nil {
			t.Fatal(err)
		}
		rs, err := c.ListRules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Version != r.Version {
			t.Fatalf("listed version %d after update to %d returned", rs[0].Version, r.Version)
		}
	}
	wg.Wait()
}
