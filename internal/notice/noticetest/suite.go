package noticetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/notice"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/review"
)

var t0 = time.Date(2026, 5, 20, 9, 0, 0, 123456789, time.UTC)

func sample(url string) notice.Notice {
	h := pdq.Hash{1, 2, 3}
	return notice.Notice{State: notice.Open, URL: url, Host: "img.example", Contact: "abuse@img.example",
		Category: review.SuspectedCSAM, LegalBasis: "18 U.S.C. § 2258A", Evidence: "0123", MD5: "00ff", PDQ: &h,
		CreatedBy: "k1", CreatedAt: t0, NextAt: t0}
}

// Run checks a notice.Store; open returns an empty one.
func Run(t *testing.T, open func(t *testing.T) notice.Store) {
	ctx := context.Background()
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		n, err := s.CreateNotice(ctx, sample("https://img.example/a.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		if n.ID == 0 || n.Version != 1 || !n.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
			t.Fatalf("created %+v", n)
		}
		got, err := s.Notice(ctx, n.ID)
		if err != nil || !reflect.DeepEqual(got, n) {
			t.Fatalf("Notice = %+v, %v; want %+v", got, err, n)
		}
		if _, err := s.Notice(ctx, 999); !errors.Is(err, notice.ErrNotFound) {
			t.Errorf("Notice(999) = %v, want ErrNotFound", err)
		}
		n.Sends, n.FirstSentAt, n.LastSentAt = 1, t0.Add(time.Hour).Truncate(time.Microsecond), t0.Add(time.Hour).Truncate(time.Microsecond)
		n.LastCheck = &notice.Check{At: t0.Truncate(time.Microsecond), Status: 200, MD5: "00ff", Found: true}
		evs := []notice.Event{
			{Kind: notice.Checked, At: t0, Check: n.LastCheck},
			{Kind: notice.Sent, At: t0.Add(time.Hour), Channel: "email", To: "abuse@img.example"},
		}
		saved, err := s.SaveNotice(ctx, n, evs)
		if err != nil || saved.Version != 2 {
			t.Fatalf("SaveNotice = %+v, %v", saved, err)
		}
		if _, err := s.SaveNotice(ctx, n, nil); !errors.Is(err, notice.ErrConflict) {
			t.Errorf("stale SaveNotice = %v, want ErrConflict", err)
		}
		if got, _ := s.Notice(ctx, n.ID); !reflect.DeepEqual(got, saved) {
			t.Errorf("after save: %+v, want %+v", got, saved)
		}
		more := []notice.Event{{Kind: notice.Gone, At: t0.Add(2 * time.Hour)}}
		saved.State = notice.Removed
		if _, err := s.SaveNotice(ctx, saved, more); err != nil {
			t.Fatal(err)
		}
		got2, err := s.NoticeEvents(ctx, n.ID)
		if err != nil || len(got2) != 3 {
			t.Fatalf("NoticeEvents = %+v, %v", got2, err)
		}
		for i, e := range got2 {
			if e.Seq != i+1 || e.NoticeID != n.ID {
				t.Errorf("event %d: seq %d notice %d", i, e.Seq, e.NoticeID)
			}
		}
		if got2[0].Check == nil || got2[0].Check.Status != 200 || got2[1].To != "abuse@img.example" || got2[2].Kind != notice.Gone ||
			!got2[2].At.Equal(t0.Add(2*time.Hour).Truncate(time.Microsecond)) {
			t.Errorf("events = %+v", got2)
		}
		all, err := s.Notices(ctx)
		if err != nil || len(all) != 1 || all[0].State != notice.Removed {
			t.Errorf("Notices = %+v, %v", all, err)
		}
	})
	t.Run("Due", func(t *testing.T) {
		s := open(t)
		var ids []int64
		for i, at := range []time.Duration{2 * time.Hour, 0, time.Hour, 5 * time.Hour} {
			n := sample("https://img.example/" + string(rune('a'+i)))
			n.NextAt = t0.Add(at)
			n, err := s.CreateNotice(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, n.ID)
		}
		now := t0.Add(3 * time.Hour)
		due, err := s.DueNotices(ctx, now, 10*time.Minute, 2)
		if err != nil || len(due) != 2 || due[0].ID != ids[1] || due[1].ID != ids[2] {
			t.Fatalf("DueNotices = %+v, %v; want notices %d, %d", due, err, ids[1], ids[2])
		}
		if !due[0].NextAt.Equal(now.Add(10*time.Minute).Truncate(time.Microsecond)) || due[0].Version != 1 {
			t.Errorf("leased notice = %+v", due[0])
		}
		// The leased ones are skipped; the third due one is next.
		if due, _ := s.DueNotices(ctx, now, 10*time.Minute, 10); len(due) != 1 || due[0].ID != ids[0] {
			t.Errorf("second poll = %+v, want only notice %d", due, ids[0])
		}
		// A leased notice can still be saved (its version is unchanged).
		if _, err := s.SaveNotice(ctx, due[0], nil); err != nil {
			t.Errorf("saving a leased notice: %v", err)
		}
		// Not Open: never due.
		n, _ := s.Notice(ctx, ids[3])
		n.State = notice.Withdrawn
		s.SaveNotice(ctx, n, nil)
		if due, _ := s.DueNotices(ctx, t0.Add(48*time.Hour), time.Minute, 10); len(due) != 3 {
			t.Errorf("after the leases: %d due, want 3 (the withdrawn one is not)", len(due))
		}
	})
	t.Run("ConcurrentPollers", func(t *testing.T) {
		s := open(t)
		for i := range 20 {
			if _, err := s.CreateNotice(ctx, sample("https://img.example/"+string(rune('a'+i)))); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					due, err := s.DueNotices(ctx, t0.Add(time.Minute), time.Hour, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(due) == 0 {
						return
					}
					mu.Lock()
					for _, n := range due {
						seen[n.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != 20 {
			t.Errorf("%d notices leased, want 20", len(seen))
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("notice %d leased %d times", id, k)
			}
		}
	})
}
