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
