// Package sessiontest checks a session.Store.
package sessiontest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/session"
)

// TestStore checks that a Store keeps the session.Store contract. newStore
// returns an empty store each time it is called.
func TestStore(t *testing.T, newStore func(t *testing.T) session.Store) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	mk := func(keyID string, start time.Time) (string, session.Session) {
		tok := session.NewToken()
		return tok, session.Session{ID: session.IDOf(tok), KeyID: keyID, Sealed: session.Seal(tok, "sg_secret_"+keyID),
			Start: start, Seen: start, BreakAt: start.Add(50 * time.Minute)}
	}
	t.Run("RoundTrip", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		tok, want := mk("k1", t0)
		if err := s.CreateSession(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.KeyID != want.KeyID || !got.Start.Equal(want.Start) || !got.Seen.Equal(want.Seen) || !got.BreakAt.Equal(want.BreakAt) {
			t.Errorf("Session = %+v, stored %+v", got, want)
		}
		if secret, err := session.Open(tok, got); err != nil || secret != "sg_secret_k1" {
			t.Errorf("Open of the stored session = %q, %v", secret, err)
		}
		if _, err := session.Open(session.NewToken(), got); err == nil {
			t.Error("another token opened the session's secret")
		}
		if err := s.TouchSession(ctx, want.ID, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutOffBreak(ctx, want.ID, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Session(ctx, want.ID)
		if !got.Seen.Equal(t0.Add(time.Minute)) || !got.BreakAt.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("after touch and put-off: seen %v, break %v", got.Seen, got.BreakAt)
		}
		if _, err := s.Session(ctx, session.IDOf("nope")); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Session of an unknown id: %v, want ErrNotFound", err)
		}
	})
	t.Run("Offered", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		_, a := mk("k1", t0)
		_, b := mk("k2", t0)
		for _, x := range []session.Session{a, b} {
			if err := s.CreateSession(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.OfferContent(ctx, a.ID, 7, []string{"ev1", "ev2"}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.OfferedContent(ctx, a.ID, 7); err != nil || !slices.Equal(got, []string{"ev1", "ev2"}) {
			t.Errorf("OfferedContent = %q, %v", got, err)
		}
		if err := s.OfferContent(ctx, a.ID, 7, []string{"ev3"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.OfferedContent(ctx, a.ID, 7); !slices.Equal(got, []string{"ev3"}) {
			t.Errorf("after a second view: %q, want [ev3]", got)
		}
		if got, _ := s.OfferedContent(ctx, b.ID, 7); len(got) != 0 {
			t.Errorf("another session sees %q offered", got)
		}
		if got, _ := s.OfferedContent(ctx, a.ID, 8); len(got) != 0 {
			t.Errorf("another case of the session: %q offered", got)
		}
		if err := s.OfferContent(ctx, session.IDOf("gone"), 7, []string{"ev1"}); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("OfferContent of no session: %v, want ErrNotFound", err)
		}
		if err := s.DeleteSession(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, a.ID); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("after DeleteSession: %v", err)
		}
		if got, _ := s.OfferedContent(ctx, a.ID, 7); len(got) != 0 {
			t.Errorf("a deleted session still offers %q", got)
		}
		if err := s.DeleteSession(ctx, a.ID); err != nil {
			t.Errorf("deleting it again: %v", err)
		}
	})
	t.Run("Sweep", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		_, idle := mk("idle", t0)
		_, old := mk("old", t0.Add(-13*time.Hour))
		old.Seen = t0
		_, live := mk("live", t0.Add(-time.Hour))
		live.Seen = t0.Add(30 * time.Minute)
		for _, x := range []session.Session{idle, old, live} {
			if err := s.CreateSession(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		s.OfferContent(ctx, idle.ID, 1, []string{"ev"})
		now := t0.Add(61 * time.Minute)
		n, err := s.SweepSessions(ctx, now.Add(-time.Hour), now.Add(-12*time.Hour))
		if err != nil || n != 2 {
			t.Errorf("SweepSessions = %d, %v; want 2 (the idle one and the old one)", n, err)
		}
		if _, err := s.Session(ctx, live.ID); err != nil {
			t.Errorf("the live session was swept: %v", err)
		}
		for _, x := range []session.Session{idle, old} {
			if _, err := s.Session(ctx, x.ID); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("session of %s not swept: %v", x.KeyID, err)
			}
		}
		if got, _ := s.OfferedContent(ctx, idle.ID, 1); len(got) != 0 {
			t.Errorf("a swept session still offers %q", got)
		}
	})
}
