package rulestest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// Run checks that the stores open makes (a fresh, empty one per call) keep
// the promises of rules.Store. Times it stores are whole microseconds in
// UTC, which every backend keeps exactly; an empty list may come back nil.
func Run(t *testing.T, open func(t *testing.T) rules.Store) {
	t.Run("CreateAndRead", func(t *testing.T) { testCreate(t, open(t)) })
	t.Run("UpdateKeepsHistory", func(t *testing.T) { testUpdate(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("TextRule", func(t *testing.T) { testTextRule(t, open(t)) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrentUpdates(t, open(t)) })
}

var t0 = time.Date(2026, 11, 25, 2, 30, 0, 654321000, time.UTC)

// full is a rule with every field set, unicode included.
func full() rules.Rule {
	d := 12
	return rules.Rule{
		Name:        "Known CSAM — block & report",
		Enabled:     true,
		Banks:       []string{"iwf", "ncmec.hashes"},
		Signals:     []bank.Signal{bank.PDQ, bank.MD5},
		MaxDistance: &d,
		Surfaces:    []rules.Surface{rules.Post, rules.DirectMessage},
		Visibility:  []rules.Visibility{rules.Public, rules.Unlisted},
		Categories:  []string{"A", "B"},
		Actions: []rules.Action{
			{Kind: rules.Block}, {Kind: rules.Quarantine}, {Kind: rules.Enqueue, Priority: 90},
			{Kind: rules.Notify, Webhook: "trust-safety"}, {Kind: rules.Report},
		},
		UpdatedAt: t0,
		UpdatedBy: "admin-key-1",
	}
}

// same compares rules, taking nil and empty lists as equal and times by
// instant.
func same(a, b rules.Rule) error {
	norm := func(r rules.Rule) rules.Rule {
		for _, p := range []any{&r.Banks, &r.Signals, &r.Surfaces, &r.Visibility, &r.Categories, &r.Actions, &r.TextLabels} {
			v := reflect.ValueOf(p).Elem()
			if v.Len() == 0 {
				v.Set(reflect.Zero(v.Type()))
			}
		}
		r.UpdatedAt = r.UpdatedAt.UTC()
		return r
	}
	if a, b := norm(a), norm(b); !reflect.DeepEqual(a, b) {
		return fmt.Errorf("got\n\t%+v\nwant\n\t%+v", a, b)
	}
	return nil
}

func testCreate(t *testing.T, s rules.Store) {
	ctx := context.Background()
	if got, err := s.ListRules(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ListRules on an empty store = %v, %v", got, err)
	}
	want := full()
	want.ID, want.Version = 99, 7 // ignored: the store assigns them
	a, err := s.CreateRule(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID <= 0 || a.Version != 1 {
		t.Fatalf("created rule has id %d version %d, want a positive id and version 1", a.ID, a.Version)
	}
	want.ID, want.Version = a.ID, 1
	if err := same(a, want); err != nil {
		t.Errorf("CreateRule returned: %v", err)
	}
	got, err := s.Rule(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := same(got, want); err != nil {
		t.Errorf("Rule: %v", err)
	}
	// A minimal rule: nil selectors and MaxDistance, disabled.
	minimal := rules.Rule{Name: "x", Actions: []rules.Action{{Kind: rules.Enqueue}}, UpdatedAt: t0}
	b, err := s.CreateRule(ctx, minimal)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID == a.ID {
		t.Fatalf("two rules got id %d", a.ID)
	}
	minimal.ID, minimal.Version = b.ID, 1
	if got, err := s.Rule(ctx, b.ID); err != nil || same(got, minimal) != nil {
		t.Errorf("minimal rule: %v %v", err, same(got, minimal))
	}
	list, err := s.ListRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != min(a.ID, b.ID) || list[1].ID != max(a.ID, b.ID) {
		t.Errorf("ListRules = %+v, want rules %d and %d by id", list, a.ID, b.ID)
	}
}

func testUpdate(t *testing.T, s rules.Store) {
	ctx := context.Background()
	v1, err := s.CreateRule(ctx, full())
	if err != nil {
		t.Fatal(err)
	}
	v2 := v1
	v2.Enabled = false
	v2.MaxDistance = nil
	v2.Actions = []rules.Action{{Kind: rules.Enqueue, Priority: 10}}
	v2.UpdatedAt, v2.UpdatedBy = t0.Add(time.Hour), "reviewer-lead"
	got, err := s.UpdateRule(ctx, v2)
	if err != nil {
		t.Fatal(err)
	}
	v2.Version = 2
	if err := same(got, v2); err != nil {
		t.Errorf("UpdateRule returned: %v", err)
	}
	// A stale client still holding version 1.
	stale := v1
	stale.Name = "lost update"
	if _, err := s.UpdateRule(ctx, stale); !errors.Is(err, rules.ErrConflict) {
		t.Errorf("updating version 1 when 2 is latest = %v, want ErrConflict", err)
	}
	v3 := v2
	v3.Name = "renamed"
	if _, err := s.UpdateRule(ctx, v3); err != nil {
		t.Fatal(err)
	}
	v3.Version = 3
	if got, err := s.Rule(ctx, v1.ID); err != nil || same(got, v3) != nil {
		t.Errorf("Rule after two updates: %v %v", err, same(got, v3))
	}
	hist, err := s.RuleHistory(ctx, v1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 {
		t.Fatalf("RuleHistory has %d versions, want 3", len(hist))
	}
	for i, want := range []rules.Rule{v1, v2, v3} {
		if err := same(hist[i], want); err != nil {
			t.Errorf("version %d: %v", i+1, err)
		}
	}
	if list, _ := s.ListRules(ctx); len(list) != 1 || list[0].Version != 3 {
		t.Errorf("ListRules = %+v, want only the latest version", list)
	}
}

func testNotFound(t *testing.T, s rules.Store) {
	ctx := context.Background()
	if _, err := s.Rule(ctx, 12345); !errors.Is(err, rules.ErrNotFound) {
		t.Errorf("Rule(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.RuleHistory(ctx, 12345); !errors.Is(err, rules.ErrNotFound) {
		t.Errorf("RuleHistory(unknown) = %v, want ErrNotFound", err)
	}
	r := full()
	r.ID, r.Version = 12345, 1
	if _, err := s.UpdateRule(ctx, r); !errors.Is(err, rules.ErrNotFound) {
		t.Errorf("UpdateRule(unknown) = %v, want ErrNotFound", err)
	}
}

// testConcurrentUpdates: of several updates of the same version at once,
// exactly one wins and the others get ErrConflict.
func testConcurrentUpdates(t *testing.T, s rules.Store) {
	ctx := context.Background()
	v1, err := s.CreateRule(ctx, full())
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := v1
			r.Name = fmt.Sprintf("writer %d", i)
			_, errs[i] = s.UpdateRule(ctx, r)
		})
	}
	wg.Wait()
	won := slices.IndexFunc(errs, func(err error) bool { return err == nil })
	for i, err := range errs {
		if i != won && !errors.Is(err, rules.ErrConflict) {
			t.Errorf("writer %d: %v, want ErrConflict (writer %d won)", i, err, won)
		}
	}
	if won < 0 {
		t.Fatal("no writer won")
	}
	hist, err := s.RuleHistory(ctx, v1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[1].Name != fmt.Sprintf("writer %d", won) {
		t.Errorf("history after the race: %d versions, latest %q; want 2, %q", len(hist), hist[len(hist)-1].Name, fmt.Sprintf("writer %d", won))
	}
}

// A text rule keeps its selectors: without them it would be read back as
// a rule that fires on every match.
func testTextRule(t *testing.T, s rules.Store) {
	score := 0.625
	want := rules.Rule{Name: "grooming", Enabled: true, TextLabels: []string{"grooming", "sextortion"}, MinTextScore: &score,
		Surfaces: []rules.Surface{rules.DirectMessage}, Actions: []rules.Action{{Kind: rules.Enqueue, Priority: 50}}, UpdatedAt: t0}
	a, err := s.CreateRule(context.Background(), want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Rule(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want.ID, want.Version = a.ID, 1
	if err := same(got, want); err != nil {
		t.Error(err)
	}
	if !got.IsText() {
		t.Errorf("read back as a match rule: %+v", got)
	}
}
