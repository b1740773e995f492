package lerequesttest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

// Backend is what Run tests: the register's store, the scan store, and
// the query of it exports make.
type Backend interface {
	lerequest.Store
	scan.Store
	export.Scans
}

// Run checks a store; open returns an empty one for each subtest.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 9, 30, 0, 123456000, time.UTC)
	sample := func(agency string, emergency bool) lerequest.Request {
		return lerequest.Request{Agency: agency, Reference: "ref-1", LegalBasis: "production order 2026/77",
			Accounts: []string{"acct-1", "acct-2"}, Cases: []int64{3}, From: t0.Add(-30 * 24 * time.Hour), To: t0,
			Deadline: t0.Add(72 * time.Hour), Emergency: emergency, State: lerequest.Open, Created: t0, CreatedBy: "key_1"}
	}

	t.Run("create and read", func(t *testing.T) {
		s := open(t)
		a, err := s.CreateLERequest(ctx, sample("Police A", false))
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.CreateLERequest(ctx, sample("Police B", true))
		if err != nil {
			t.Fatal(err)
		}
		if a.ID <= 0 || b.ID <= a.ID {
			t.Fatalf("ids %d then %d: want positive and increasing", a.ID, b.ID)
		}
		got, err := s.LERequest(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := sample("Police B", true)
		want.ID = b.ID
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(b, want) {
			t.Errorf("read back\n%+v\ncreated\n%+v\nwant\n%+v", got, b, want)
		}
		if _, err := s.LERequest(ctx, b.ID+100); !errors.Is(err, lerequest.ErrNotFound) {
			t.Errorf("unknown id: %v, want ErrNotFound", err)
		}
	})

	t.Run("update", func(t *testing.T) {
		s := open(t)
		r, err := s.CreateLERequest(ctx, sample("Police A", false))
		if err != nil {
			t.Fatal(err)
		}
		closed := t0.Add(time.Hour)
		u, err := s.UpdateLERequest(ctx, r.ID, func(r *lerequest.Request) error {
			r.State, r.Closed, r.ClosedBy, r.Reason = lerequest.Fulfilled, closed, "key_2", "sent"
			r.Exports = append(r.Exports, lerequest.Export{At: closed, By: "key_2", SHA256: "ab", Scans: 2})
			r.ID = 999 // ignored: the row's id wins
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.LERequest(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, u) || got.ID != r.ID || got.State != lerequest.Fulfilled || !got.Closed.Equal(closed) || len(got.Exports) != 1 {
			t.Errorf("after update read %+v, update returned %+v", got, u)
		}
		mine := errors.New("no")
		if _, err := s.UpdateLERequest(ctx, r.ID, func(r *lerequest.Request) error { r.Agency = "changed"; return mine }); err != mine {
			t.Errorf("update's own error came back as %v", err)
		}
		if again, _ := s.LERequest(ctx, r.ID); again.Agency != "Police A" {
			t.Errorf("a failed update stored agency %q", again.Agency)
		}
		if _, err := s.UpdateLERequest(ctx, r.ID+100, func(*lerequest.Request) error { return nil }); !errors.Is(err, lerequest.ErrNotFound) {
			t.Errorf("unknown id: %v, want ErrNotFound", err)
		}
	})

	t.Run("list by state", func(t *testing.T) {
		s := open(t)
		var ids []int64
		for i := range 3 {
			r, err := s.CreateLERequest(ctx, sample(fmt.Sprint("Police ", i), i == 2))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		if _, err := s.UpdateLERequest(ctx, ids[1], func(r *lerequest.Request) error { r.State = lerequest.Refused; return nil }); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			state lerequest.State
			want  []int64
		}{{"", ids}, {lerequest.Open, []int64{ids[0], ids[2]}}, {lerequest.Refused, ids[1:2]}, {lerequest.Fulfilled, nil}} {
			rs, err := s.LERequests(ctx, tc.state)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range rs {
				got = append(got, r.ID)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LERequests(%q) = %v, want %v", tc.state, got, tc.want)
			}
		}
	})

	t.Run("account scans", func(t *testing.T) {
		s := open(t)
		add := func(id, account string, at time.Time) {
			t.Helper()
			err := s.RecordScan(ctx, scan.Record{ID: id, Time: at, Kind: scan.KindScan, Actor: "key_i", AccountID: account,
				ContentID: "c-" + id, Quality: -1, Matches: []match.Match{}, Decision: rules.Decision{}})
			if err != nil {
				t.Fatal(err)
			}
		}
		add("scn_b", "acct-1", t0.Add(time.Minute))
		add("scn_a", "acct-1", t0.Add(time.Minute)) // same time: by id
		add("scn_c", "acct-2", t0)                  // at from: in
		add("scn_d", "acct-1", t0.Add(time.Hour))   // at to: out
		add("scn_e", "acct-3", t0.Add(time.Minute)) // another account
		add("scn_f", "", t0.Add(time.Minute))       // no account
		add("scn_g", "acct-1", t0.Add(-time.Second))
		got, err := s.AccountScans(ctx, []string{"acct-1", "acct-2"}, t0, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if want := []string{"scn_c", "scn_a", "scn_b"}; !reflect.DeepEqual(ids, want) {
			t.Errorf("AccountScans = %v, want %v", ids, want)
		}
		if len(got) == 3 && (got[1].AccountID != "acct-1" || got[1].ContentID != "c-scn_a" || !got[1].Time.Equal(t0.Add(time.Minute))) {
			t.Errorf("record read back as %+v", got[1])
		}
		if none, err := s.AccountScans(ctx, []string{"nobody"}, t0, t0.Add(time.Hour)); err != nil || len(none) != 0 {
			t.Errorf("unknown account: %v, %v; want none", none, err)
		}
	})
}
