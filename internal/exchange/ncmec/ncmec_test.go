package ncmec_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/exchangetest"
	"github.com/safeguard-oss/safeguard/internal/exchange/ncmec"
)

// t0 is when the fake's entries start.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

func md5Of(i int) string { return fmt.Sprintf("%032x", i) }
func pdqOf(i int) string { return fmt.Sprintf("%064x", i+1<<40) }

// fill puts n images uploaded at t0+i*60, by two members, a third with a
// PDQ and a TMK as well as an MD5.
func fill(f *fake, n int) {
	for i := range n {
		e := fakeEntry{member: 42 + i%2, id: fmt.Sprintf("image%d", i), ts: t0 + int64(i)*60, class: "A1", md5: md5Of(i)}
		if i%3 == 0 {
			e.pdq, e.tmk = pdqOf(i), "tmk"+md5Of(i)
		}
		f.put(e)
	}
}

type setup struct {
	fake   *fake
	mem    *exchangetest.Memory
	runner *exchange.Runner
	now    time.Time
	waits  []time.Duration
}

func newSetup(t *testing.T, user, pass string) *setup {
	t.Helper()
	s := &setup{fake: newFake(t), mem: &exchangetest.Memory{}, now: time.Unix(t0, 0).Add(30 * 24 * time.Hour)}
	h := &exchange.HTTP{Sleep: func(ctx context.Context, d time.Duration) error { s.waits = append(s.waits, d); return nil }}
	cfg := exchange.Config{Name: "ncmec_test", Kind: "ncmec",
		Settings:    map[string]string{"url": s.fake.srv.URL},
		Credentials: map[string]string{"username": user, "password": pass}}
	f, err := ncmec.Config(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	f.Now = func() time.Time { return s.now }
	s.runner = &exchange.Runner{Sink: s.mem, Checkpoints: s.mem, Lock: &exchangetest.Lock{}, Now: f.Now}
	s.runner.Add(cfg, f)
	return s
}

func (s *setup) fetch(t *testing.T) error {
	t.Helper()
	return s.runner.Fetch(context.Background(), "ncmec_test")
}

func (s *setup) position(t *testing.T) map[string]any {
	t.Helper()
	cp, _ := s.mem.Load(context.Background(), "ncmec_test")
	var m map[string]any
	if err := json.Unmarshal([]byte(cp.Position), &m); err != nil {
		t.Fatalf("checkpoint %q: %v", cp.Position, err)
	}
	return m
}

func TestFetchPagesWithProvenance(t *testing.T) {
	s := newSetup(t, "esp", "pw")
	fill(s.fake, 2500)
	if err := s.fetch(t); err != nil {
		t.Fatal(err)
	}
	// 2,500 MD5s and 834 PDQs; the TMKs are carried, not entries.
	if n := s.mem.Len("ncmec_test"); n != 2500+834 {
		t.Fatalf("%d entries, want %d", n, 2500+834)
	}
	st, _ := s.runner.Status("ncmec_test")
	if st.Pages != 3 || st.Records != 2500 || st.Skipped[exchange.TMK] != 834 || !st.UpToDate || st.Malformed != 0 {
		t.Errorf("status %+v", st)
	}
	var e bank.Entry
	for _, x := range s.mem.Entries("ncmec_test") {
		if x.Signal == bank.PDQ && x.Value == pdqOf(3) {
			e = x
		}
	}
	if e.ExternalID != "43-image3" || e.Category != "A1" || e.Source != "ncmec_test" || !e.AddedAt.Equal(s.now) ||
		!strings.Contains(e.Note, "member 43") {
		t.Errorf("entry %+v: want the provenance of image3 of member 43", e)
	}
	if pos := s.position(t); pos["from"] != float64(s.now.Unix()-5) || pos["next"] != nil {
		t.Errorf("checkpoint %v: want the window's end and no link", pos)
	}
}

func TestIncrementalUpdatesAndTombstones(t *testing.T) {
	s := newSetup(t, "esp", "pw")
	fill(s.fake, 10)
	if err := s.fetch(t); err != nil {
		t.Fatal(err)
	}
	later := s.now.Unix() + 60
	s.fake.remove(42, "image0", later)                                                        // deletedImage
	s.fake.put(fakeEntry{member: 43, id: "image1", ts: later, class: "B1", md5: md5Of(1001)}) // an update replaces
	s.fake.put(fakeEntry{member: 44, id: "video1", video: true, ts: later, md5: md5Of(2000)})
	s.now = s.now.Add(time.Hour)
	if err := s.fetch(t); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		value string
		want  bool
	}{{md5Of(0), false}, {md5Of(1), false}, {md5Of(1001), true}, {md5Of(2000), true}, {md5Of(2), true}} {
		if got := s.mem.Has("ncmec_test", bank.MD5, c.value); got != c.want {
			t.Errorf("has %s = %v, want %v", c.value, got, c.want)
		}
	}
	if pdq := pdqOf(0); s.mem.Has("ncmec_test", bank.PDQ, pdq) {
		t.Error("the deleted image's PDQ is still there")
	}
}

func TestRetriesOn429And5xx(t *testing.T) {
	s := newSetup(t, "esp", "pw")
	fill(s.fake, 2500)
	s.fake.fail[2] = 429 // the second page, once
	s.fake.fail[3] = 503 // and again
	if err := s.fetch(t); err != nil {
		t.Fatal(err)
	}
	if n := s.mem.Len("ncmec_test"); n != 2500+834 {
		t.Errorf("%d entries after retries, want all", n)
	}
	if len(s.waits) != 2 || s.waits[0] != time.Second {
		t.Errorf("waits %v: want Retry-After's 1 s, then a backoff", s.waits)
	}
}

func TestAuthFailureIsPermanent(t *testing.T) {
	s := newSetup(t, "esp", "wrong")
	fill(s.fake, 3)
	err := s.fetch(t)
	if !errors.Is(err, exchange.ErrAuth) || !exchange.Permanent(err) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if st, _ := s.runner.Status("ncmec_test"); !st.Stopped || !strings.Contains(st.LastError, "401") {
		t.Errorf("status %+v", st)
	}
	if s.fake.calls != 1 {
		t.Errorf("%d calls: refused credentials must not be retried", s.fake.calls)
	}
}

func TestMalformedPageFailsClearlyThenResumes(t *testing.T) {
	s := newSetup(t, "esp", "pw")
	fill(s.fake, 2500)
	s.fake.garbage[1001] = "<html><body>Service temporarily unavailable</body></html>"
	err := s.fetch(t)
	if err == nil || !strings.Contains(err.Error(), "start=1001") || !strings.Contains(err.Error(), "not a hash sharing document") {
		t.Fatalf("err = %v: want the page's link and what is wrong", err)
	}
	if n := s.mem.Len("ncmec_test"); n != 1000+334 {
		t.Errorf("%d entries: want the first page's", n)
	}
	if pos := s.position(t); !strings.Contains(fmt.Sprint(pos["next"]), "start=1001") {
		t.Errorf("checkpoint %v: want the link to the bad page, to retry it", pos)
	}
	delete(s.fake.garbage, 1001)
	if err := s.fetch(t); err != nil {
		t.Fatal(err)
	}
	if n := s.mem.Len("ncmec_test"); n != 2500+834 {
		t.Errorf("%d entries after the page was fixed, want all", n)
	}
}

func TestMalformedEntriesAreSkippedAndCounted(t *testing.T) {
	s := newSetup(t, "esp", "pw")
	s.fake.garbage[1] = `<?xml version="1.0"?><queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
<images count="4" maxTimestamp="2025-01-01T00:00:00Z">
<image><member id="1">M</member><id>ok</id><fingerprints><md5>` + md5Of(1) + `</md5></fingerprints></image>
<image><member id="1">M</member><fingerprints><md5>` + md5Of(2) + `</md5></fingerprints></image>
<image><member id="x">M</member><id>badmember</id></image>
<image><member id="1">M</member><id>badpdq</id><fingerprints><pdq>zz</pdq><md5>` + md5Of(3) + `</md5></fingerprints></image>
<surprise/>
</images></queryResult>`
	if err := s.fetch(t); err != nil {
		t.Fatal(err)
	}
	st, _ := s.runner.Status("ncmec_test")
	if st.Malformed != 4 || len(st.Problems) != 4 {
		t.Errorf("malformed %d, problems %q: want 4 (no id, bad member, bad pdq, unknown element)", st.Malformed, st.Problems)
	}
	if !s.mem.Has("ncmec_test", bank.MD5, md5Of(1)) || !s.mem.Has("ncmec_test", bank.MD5, md5Of(3)) || s.mem.Len("ncmec_test") != 2 {
		t.Errorf("entries %+v: want the good ones", s.mem.Entries("ncmec_test"))
	}
}

func TestCrashBetweenPagesResumesWithoutLossOrDuplicates(t *testing.T) {
	s := newSetup(t, "esp", "pw")
	fill(s.fake, 3500)
	batches := 0
	s.mem.Fail = func(exchange.Batch) error {
		if batches++; batches == 3 {
			return errors.New("killed")
		}
		return nil
	}
	if err := s.fetch(t); err == nil {
		t.Fatal("the crash did not fail the fetch")
	}
	pos := s.position(t)
	if !strings.Contains(fmt.Sprint(pos["next"]), "start=2001") || pos["from"] != float64(0) {
		t.Fatalf("checkpoint %v: want the window still open at page 3", pos)
	}
	if err := s.fetch(t); err != nil {
		t.Fatal(err)
	}
	if n := s.mem.Len("ncmec_test"); n != 3500+1167 {
		t.Errorf("%d entries, want %d", n, 3500+1167)
	}
	if _, changed := s.mem.Applied(); changed != 3500 {
		t.Errorf("%d records changed, want 3500: each once", changed)
	}
}

func TestStaleLinkRestartsWindow(t *testing.T) {
	s := newSetup(t, "esp", "pw")
	fill(s.fake, 2500)
	s.mem.Fail = func(b exchange.Batch) error {
		if strings.Contains(b.Checkpoint.Position, "start=2001") {
			return errors.New("stop after the first page")
		}
		return nil
	}
	s.fetch(t)
	s.mem.Fail = nil
	s.now = s.now.Add(ncmec.LinkLife + time.Minute)
	calls := s.fake.calls
	if err := s.fetch(t); err != nil {
		t.Fatal(err)
	}
	if got := s.fake.calls - calls; got != 3 {
		t.Errorf("%d pages read after the link went stale, want the window's 3 again", got)
	}
	if n := s.mem.Len("ncmec_test"); n != 2500+834 {
		t.Errorf("%d entries", n)
	}
}

func TestForeignNextLinkRefused(t *testing.T) {
	s := newSetup(t, "esp", "pw")
	s.fake.garbage[1] = `<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><images count="0"/>
<paging><next>//evil.example/steal</next></paging></queryResult>`
	err := s.fetch(t)
	if err == nil || !exchange.Permanent(err) || !strings.Contains(err.Error(), "not a /v2/entries link") {
		t.Fatalf("err = %v", err)
	}
}

func TestStatusAndFeedback(t *testing.T) {
	s := newSetup(t, "esp", "pw")
	c, err := ncmec.New(s.fake.srv.URL, "esp", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := c.Status(ctx)
	if err != nil || m != (ncmec.Member{ID: 7, Name: "Test ESP"}) {
		t.Fatalf("Status = %+v, %v", m, err)
	}
	reasons, err := c.Reasons(ctx, ncmec.FingerprintPDQ)
	if err != nil || len(reasons) != 1 || reasons[0].Name != "Not CSAM" {
		t.Fatalf("Reasons = %+v, %v", reasons, err)
	}
	if err := c.SendFeedback(ctx, "42-image1", ncmec.FingerprintMD5, ncmec.Feedback{Affirmative: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendFeedback(ctx, "42-image/2", ncmec.FingerprintPDQ, ncmec.Feedback{ReasonIDs: []string{reasons[0].GUID}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendFeedback(ctx, "42-image3", ncmec.FingerprintPDQ, ncmec.Feedback{}); err == nil {
		t.Error("negative feedback without a reason was sent")
	}
	if _, _, err := ncmec.SplitID("image1"); err == nil {
		t.Error("SplitID of an id without a member")
	}
	want := []string{
		`PUT /v2/entries/42/image1/MD5/feedback <feedbackSubmission xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><affirmative></affirmative></feedbackSubmission>`,
		`PUT /v2/entries/42/image/2/PDQ/feedback <feedbackSubmission xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><negative><reasonIds><guid>01234567-abcd-0123-4567-012345678900</guid></reasonIds></negative></feedbackSubmission>`,
	}
	if strings.Join(s.fake.feedback, "\n") != strings.Join(want, "\n") {
		t.Errorf("feedback sent:\n%s\nwant:\n%s", strings.Join(s.fake.feedback, "\n"), strings.Join(want, "\n"))
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		settings, creds map[string]string
		want            string
	}{
		{map[string]string{"environment": "moon"}, map[string]string{"username": "u", "password": "p"}, "unknown environment"},
		{map[string]string{}, map[string]string{"username": "u", "password": "p"}, "no environment"},
		{map[string]string{"environment": "industry"}, map[string]string{"username": "u"}, `"password" is missing`},
		{map[string]string{"url": "http://example.org"}, map[string]string{"username": "u", "password": "p"}, "want https"},
		{map[string]string{"environment": "ngo", "page": "2"}, map[string]string{"username": "u", "password": "p"}, `unknown setting "page"`},
	} {
		_, err := ncmec.Config(exchange.Config{Name: "x", Kind: "ncmec", Settings: tc.settings, Credentials: tc.creds}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Config(%v) = %v, want %q", tc.settings, err, tc.want)
		}
	}
	if _, err := ncmec.Config(exchange.Config{Name: "x", Settings: map[string]string{"environment": "test_ngo"},
		Credentials: map[string]string{"username": "u", "password": "p"}}, nil); err != nil {
		t.Errorf("test_ngo: %v", err)
	}
}

// The server's feedback worker sends through the Runner: affirmative for a
// confirmed match, negative with the configured reason for a rejected one,
// and a rejection without a configured reason is a permanent error.
func TestRunnerSendsFeedback(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	for _, reason := range []string{"01234567-abcd-0123-4567-012345678900", ""} {
		cfg := exchange.Config{Name: "ncmec_test", Kind: "ncmec",
			Settings:    map[string]string{"url": f.srv.URL},
			Credentials: map[string]string{"username": "esp", "password": "pw"}}
		if reason != "" {
			cfg.Settings["negative_reason"] = reason
		}
		nf, err := ncmec.Config(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := &exchange.Runner{}
		r.Add(cfg, nf)
		for _, confirmed := range []bool{true, false} {
			err := r.SendFeedback(ctx, exchange.Feedback{Exchange: "ncmec_test", RecordID: "42-image1", Kind: exchange.PDQ, Value: pdqOf(1), Confirmed: confirmed})
			if reason == "" && !confirmed {
				if !exchange.Permanent(err) {
					t.Errorf("negative feedback without a reason: %v, want a permanent error", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
		}
	}
	aff := `PUT /v2/entries/42/image1/PDQ/feedback <feedbackSubmission xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><affirmative></affirmative></feedbackSubmission>`
	want := []string{aff,
		`PUT /v2/entries/42/image1/PDQ/feedback <feedbackSubmission xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><negative><reasonIds><guid>01234567-abcd-0123-4567-012345678900</guid></reasonIds></negative></feedbackSubmission>`,
		aff}
	if strings.Join(f.feedback, "\n") != strings.Join(want, "\n") {
		t.Errorf("feedback sent:\n%s\nwant:\n%s", strings.Join(f.feedback, "\n"), strings.Join(want, "\n"))
	}
}
