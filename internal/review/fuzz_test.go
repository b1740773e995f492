package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
)

// FuzzFile files reports as the API decodes them from outside: a report
// Validate accepts is filed and can be read back with its status; one it
// refuses is an ErrInvalid and leaves nothing stored.
func FuzzFile(f *testing.F) {
	f.Add(`{"source":"user","reporter":"u1","category":"grooming","content_id":"p1","text":"he asked her age"}`)
	f.Add(`{"source":"flagger","reporter":"ngo","category":"suspected_csam","account_id":"a1","minor_suspected":true,` +
		`"reach":{"visibility":"public","audience":5000},"hashes":{"md5":"0123456789abcdef0123456789abcdef",` +
		`"pdq":"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"}}`)
	f.Add(`{"source":"rule","reporter":"rule:1","category":"known_csam","content_id":"x","rule":{"id":1,"version":1,"name":"k"},` +
		`"priority":90,"matches":[{"bank":"b","entry_id":1,"signal":"md5","distance":0}]}`)
	f.Add(`{"source":"user","reporter":"u","category":"other"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var r review.Report
		if json.Unmarshal([]byte(in), &r) != nil {
			return
		}
		m := new(reviewtest.Memory)
		d := review.NewDesk(m, m, review.Config{Now: func() time.Time { return t0 }})
		ctx := context.Background()
		valid := r.Validate()
		rep, c, _, err := d.File(ctx, r)
		if valid != nil {
			if !errors.Is(err, review.ErrInvalid) {
				t.Fatalf("File of an invalid report (%v) = %v, want ErrInvalid", valid, err)
			}
			if rs, _ := m.Reports(ctx, time.Time{}); len(rs) != 0 {
				t.Fatalf("an invalid report was stored")
			}
			return
		}
		if err != nil {
			t.Fatalf("File of a valid report %q: %v", in, err)
		}
		got, err := d.Report(ctx, rep.ID)
		if err != nil || got.CaseID != c.ID || got.Status == "" {
			t.Fatalf("report %d read back as %+v, %v", rep.ID, got, err)
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("case does not marshal: %v", err)
		}
	})
}

// FuzzDecide sends decisions as the API decodes them to cases in each
// state: every refusal is one of the package's errors and changes
// nothing; every acceptance leaves the case and its reports agreeing.
func FuzzDecide(f *testing.F) {
	f.Add(uint8(0), `{"reviewer":"r2","verdict":"confirm","classification":"A1","actions":["remove","bank"]}`)
	f.Add(uint8(1), `{"reviewer":"r2","verdict":"dismiss","reason":"adult"}`)
	f.Add(uint8(2), `{"reviewer":"r1","verdict":"dismiss","reason":"adult"}`)
	f.Add(uint8(3), `{"reviewer":"r3","verdict":"confirm"}`)
	f.Add(uint8(3), `{"reviewer":"r1","verdict":"dismiss","reason":"x","pending":true,"on_appeal":false}`)
	f.Fuzz(func(t *testing.T, scenario uint8, in string) {
		var dec review.Decision
		if json.Unmarshal([]byte(in), &dec) != nil {
			return
		}
		m := new(reviewtest.Memory)
		d := review.NewDesk(m, m, review.Config{Now: func() time.Time { return t0 }})
		ctx := context.Background()
		// Scenarios: 0 an open user report, 1 an open flagger report, 2 a
		// flagger report r1 dismissed once, 3 a case r1 confirmed and the
		// uploader appealed.
		r := review.Report{Source: review.User, Reporter: "u", Category: review.SuspectedCSAM, ContentID: "p"}
		if scenario%4 == 1 || scenario%4 == 2 {
			r.Source = review.Flagger
		}
		_, c, _, err := d.File(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		switch scenario % 4 {
		case 2:
			_, _, err = d.Decide(ctx, c.ID, review.Decision{Reviewer: "r1", Verdict: review.Dismiss, Reason: "x"})
		case 3:
			if _, _, err = d.Decide(ctx, c.ID, review.Decision{Reviewer: "r1", Verdict: review.Confirm, Classification: review.A1,
				Actions: []review.Action{review.Remove}}); err == nil {
				_, _, err = d.Appeal(ctx, c.ID, review.Appeal{Appellant: "up", Reason: "no"})
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		before, _, _, _ := d.Case(ctx, c.ID)
		after, fx, err := d.Decide(ctx, c.ID, dec)
		if err != nil {
			if !errors.Is(err, review.ErrInvalid) && !errors.Is(err, review.ErrSecondReviewer) && !errors.Is(err, review.ErrState) {
				t.Fatalf("Decide(%s) = %v: not one of the package's errors", in, err)
			}
			if now, _, _, _ := d.Case(ctx, c.ID); now.Version != before.Version {
				t.Fatalf("a refused decision changed the case")
			}
			return
		}
		if len(fx.Audit) != 1 || fx.Audit[0].Actor != dec.Reviewer {
			t.Fatalf("audit %+v for a decision by %q", fx.Audit, dec.Reviewer)
		}
		rep, _ := d.Report(ctx, 1)
		want := map[review.State]review.Status{review.PendingSecond: review.InReview}[after.State]
		if after.State == review.Decided {
			want = map[review.Verdict]review.Status{review.Confirm: review.Actioned, review.Dismiss: review.NoAction}[dec.Verdict]
		}
		if want == "" || rep.Status != want {
			t.Fatalf("after %s the case is %s and its report %s", in, after.State, rep.Status)
		}
		if after.State == review.PendingSecond && (dec.Verdict != review.Dismiss || !after.Signals.Flagged) {
			t.Fatalf("case pending a second reviewer after %s", in)
		}
	})
}
