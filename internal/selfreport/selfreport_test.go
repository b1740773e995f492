package selfreport_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/rules/rulestest"
	"github.com/safeguard-oss/safeguard/internal/selfreport"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

func image(c byte, quality int) selfreport.Image {
	return selfreport.Image{PDQ: strings.Repeat(string(c), 64), Quality: quality, MD5: strings.Repeat(string(c), 32), SHA256: strings.Repeat(string(c)+"0", 32)}
}

func newService(t *testing.T) (*selfreport.Service, *sqlite.Store, audit.Store) {
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	stores, tx := usecase.Over(st)
	log := audit.NewLog(st)
	banks := &usecase.Banks{Stores: stores, Tx: tx, Log: log}
	return &selfreport.Service{Store: st, Banks: banks, Rules: new(rulestest.Memory), Log: log}, st, st
}

func liveValues(t *testing.T, st bank.Store) map[string]bool {
	got := map[string]bool{}
	for e, err := range st.Entries(context.Background(), selfreport.BankName) {
		if err != nil {
			t.Fatal(err)
		}
		got[e.Value] = true
	}
	return got
}

func TestSubmitStatusWithdraw(t *testing.T) {
	ctx := context.Background()
	s, st, al := newService(t)
	a, b := image('a', 90), image('b', 80)
	r1, err := s.Submit(ctx, "192.0.2.1", []selfreport.Image{a, b, a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Case.Images) != 2 || len(r1.PIN) != 6 || r1.Case.State != selfreport.Active {
		t.Fatalf("receipt %+v: want 2 images (the repeat kept once), a 6-digit PIN, active", r1)
	}
	if strings.Contains(r1.Case.PINHash, r1.PIN) {
		t.Errorf("PIN stored in the clear: %q", r1.Case.PINHash)
	}
	r2, err := s.Submit(ctx, "192.0.2.2", []selfreport.Image{b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := liveValues(t, st); len(got) != 6 {
		t.Errorf("bank holds %d values, want 6 (b's three once)", len(got))
	}
	rs, _ := s.Rules.ListRules(ctx)
	if len(rs) != 1 || rs[0].Banks[0] != selfreport.BankName {
		t.Errorf("rules %+v: want the one default rule", rs)
	}

	c, err := s.Status(ctx, "192.0.2.3", strings.ToLower(strings.ReplaceAll(r1.Case.Code, "-", " ")), r1.PIN)
	if err != nil || c.Code != r1.Case.Code || len(c.Images) != 2 {
		t.Fatalf("status by the code as typed: %+v, %v", c, err)
	}
	if _, err := s.Status(ctx, "192.0.2.3", r1.Case.Code, wrong(r1.PIN)); !errors.Is(err, selfreport.ErrNoCase) {
		t.Errorf("wrong PIN: %v, want ErrNoCase", err)
	}
	if _, err := s.Status(ctx, "192.0.2.3", "2222-2222", r1.PIN); !errors.Is(err, selfreport.ErrNoCase) {
		t.Errorf("unknown code: %v, want ErrNoCase", err)
	}
	if _, err := s.Status(ctx, "192.0.2.3", "0000-0000", r1.PIN); !errors.Is(err, selfreport.ErrInvalid) {
		t.Errorf("malformed code: %v, want ErrInvalid", err)
	}

	if _, err := s.Withdraw(ctx, "192.0.2.1", r1.Case.Code, wrong(r1.PIN)); !errors.Is(err, selfreport.ErrNoCase) {
		t.Errorf("withdrawal with a wrong PIN: %v", err)
	}
	w, err := s.Withdraw(ctx, "192.0.2.1", r1.Case.Code, r1.PIN)
	if err != nil || w.State != selfreport.Withdrawn {
		t.Fatalf("withdraw: %+v, %v", w, err)
	}
	got := liveValues(t, st)
	if len(got) != 3 || !got[b.PDQ] || got[a.PDQ] {
		t.Errorf("after withdrawal the bank holds %v: want only b's hashes, which case %s still holds", got, r2.Case.Code)
	}
	if _, err := s.Withdraw(ctx, "192.0.2.1", r1.Case.Code, r1.PIN); err != nil {
		t.Errorf("second withdrawal: %v", err)
	}
	var actions []string
	for e, err := range al.AuditEntries(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		actions = append(actions, e.Action+" "+e.Subject)
	}
	if got := strings.Join(actions, ", "); !strings.Contains(got, selfreport.AuditWithdraw+" "+r1.Case.Code) || !strings.Contains(got, selfreport.AuditSubmit+" "+r2.Case.Code) {
		t.Errorf("audit log %s: want the submissions and the withdrawal", got)
	}
}

func wrong(pin string) string {
	if pin == "000000" {
		return "000001"
	}
	return "000000"
}

// refused submits to a new service and checks the error, and that nothing
// was stored or audited.
func refused(t *testing.T, images []selfreport.Image, videos []selfreport.Video, check func(error) bool) {
	t.Helper()
	ctx := context.Background()
	s, st, al := newService(t)
	_, err := s.Submit(ctx, "192.0.2.1", images, videos)
	if !check(err) {
		t.Errorf("got %v", err)
	}
	if _, err := st.Bank(ctx, selfreport.BankName); !errors.Is(err, derrors.NotFound) {
		t.Errorf("a refused submission created the bank (%v)", err)
	}
	if last, _ := al.LastAudit(ctx); last != nil {
		t.Errorf("a refused submission was audited: %+v", last)
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		images []selfreport.Image
		check  func(error) bool
	}{
		{"none", nil, func(err error) bool { return errors.Is(err, selfreport.ErrInvalid) }},
		{"malformed pdq", []selfreport.Image{{PDQ: "xyz", Quality: 90, MD5: strings.Repeat("a", 32), SHA256: strings.Repeat("a", 64)}},
			func(err error) bool {
				return errors.Is(err, selfreport.ErrInvalid) && strings.Contains(err.Error(), "pdq")
			}},
		{"short md5", []selfreport.Image{{PDQ: strings.Repeat("a", 64), Quality: 90, MD5: "abc", SHA256: strings.Repeat("a", 64)}},
			func(err error) bool {
				return errors.Is(err, selfreport.ErrInvalid) && strings.Contains(err.Error(), "md5")
			}},
		{"quality out of range", []selfreport.Image{image('a', 101)}, func(err error) bool { return errors.Is(err, selfreport.ErrInvalid) }},
		{"too many", make([]selfreport.Image, selfreport.MaxImages+1), func(err error) bool { return errors.Is(err, selfreport.ErrInvalid) }},
		{"flat", []selfreport.Image{image('a', 90), image('b', 10)}, func(err error) bool {
			var qe *selfreport.QualityError
			return errors.As(err, &qe) && fmt.Sprint(qe.Images) == "[2]"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, tc.images, nil, tc.check)
		})
	}
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	s, st, _ := newService(t)
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	s.Limits.Submissions = &ratelimit.Memory{Limit: ratelimit.Limit{Burst: 3, Per: time.Hour}}
	var r selfreport.Receipt
	for i := range 5 {
		got, err := s.Submit(ctx, "192.0.2.1", []selfreport.Image{image('a', 90)}, nil)
		if err == nil {
			r = got
		}
		var le *ratelimit.LimitError
		if i < 3 && err != nil || i >= 3 && !errors.As(err, &le) {
			t.Fatalf("submission %d: %v", i+1, err)
		}
	}
	if _, err := s.Submit(ctx, "192.0.2.2", []selfreport.Image{image('a', 90)}, nil); err != nil {
		t.Errorf("another address: %v", err)
	}
	if b, _ := st.Bank(ctx, selfreport.BankName); b.Entries != 3 {
		t.Errorf("bank holds %d entries after a flood of one image, want 3", b.Entries)
	}
	now = now.Add(25 * time.Minute)
	if _, err := s.Submit(ctx, "192.0.2.1", []selfreport.Image{image('a', 90)}, nil); err != nil {
		t.Errorf("after the bucket refilled a little: %v", err)
	}

	// Wrong PINs lock the case, whichever address tries, and then even the
	// right PIN waits.
	for i := range 10 {
		if _, err := s.Status(ctx, fmt.Sprint("198.51.100.", i), r.Case.Code, wrong(r.PIN)); !errors.Is(err, selfreport.ErrNoCase) {
			t.Fatalf("wrong PIN %d: %v", i+1, err)
		}
	}
	var le *ratelimit.LimitError
	if _, err := s.Status(ctx, "203.0.113.9", r.Case.Code, r.PIN); !errors.As(err, &le) {
		t.Errorf("right PIN after 10 wrong ones: %v, want a LimitError", err)
	}
}

// A check of a code no case has costs what a wrong PIN for a real case
// does (the same PBKDF2 work), so timing does not tell which codes exist.
// Before, a missing code answered in a twentieth of the time. The bound is
// loose, and the fastest of several tries is compared, for a loaded machine.
func TestPINCheckTimeHidesCodes(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	r, err := s.Submit(ctx, "192.0.2.1", []selfreport.Image{image('a', 90)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	missing := "2345-6789"
	if missing == r.Case.Code {
		missing = "3456-7892"
	}
	wrong := "000000"
	if r.PIN == wrong {
		wrong = "111111"
	}
	fastest := func(code string, try int) time.Duration {
		start := time.Now()
		_, err := s.Status(ctx, fmt.Sprintf("198.51.100.%d", try), code, wrong)
		if !errors.Is(err, selfreport.ErrNoCase) {
			t.Fatalf("Status(%s, wrong PIN): %v, want ErrNoCase", code, err)
		}
		return time.Since(start)
	}
	var real, none time.Duration = time.Hour, time.Hour
	for try := range 5 {
		real = min(real, fastest(r.Case.Code, 2*try))
		none = min(none, fastest(missing, 2*try+1))
	}
	if none < real/2 {
		t.Errorf("a missing code answers in %v, a real one with a wrong PIN in %v: timing tells them apart", none, real)
	}
}

// clip is a video's hashes as the page sends them: n frames a second
// apart, of the quality given, as python-threatexchange's signal string.
func clip(c byte, n, quality int) selfreport.Video {
	frames := make([]vpdq.Frame, n)
	for i := range frames {
		h, _ := pdq.ParseHex(strings.Repeat(string(c), 62) + fmt.Sprintf("%02x", i))
		frames[i] = vpdq.Frame{Number: i, Quality: quality, Hash: h, Timestamp: float64(i)}
	}
	return selfreport.Video{VPDQ: vpdq.FormatSignal(frames), MD5: strings.Repeat(string(c)+"1", 16), SHA256: strings.Repeat(string(c)+"1", 32)}
}

// Videos go through the same case, bank and withdrawal as images: their
// vPDQ, MD5 and SHA-256 in the bank with the case as provenance.
func TestVideos(t *testing.T) {
	ctx := context.Background()
	s, st, al := newService(t)
	v := clip('c', 21, 90)
	r, err := s.Submit(ctx, "192.0.2.1", []selfreport.Image{image('a', 90)}, []selfreport.Video{v, v})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Case.Videos) != 1 || len(r.Case.Images) != 1 {
		t.Fatalf("case %+v: want 1 image and 1 video (the repeat kept once)", r.Case)
	}
	want, err := bank.ParseValue(bank.VPDQ, v.VPDQ)
	if err != nil {
		t.Fatal(err)
	}
	if r.Case.Videos[0].VPDQ != want {
		t.Errorf("stored vPDQ is not bank.VPDQ's stored form")
	}
	var sigs []string
	for e, err := range st.Entries(ctx, selfreport.BankName) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Source != "self-report" || e.ExternalID != r.Case.Code {
			t.Errorf("entry %s without the case as provenance: %+v", e.Signal, e)
		}
		sigs = append(sigs, string(e.Signal))
	}
	if got := strings.Join(sigs, " "); got != "pdq md5 sha256 vpdq md5 sha256" {
		t.Errorf("bank entries %s: want the image's three and the video's three", got)
	}
	frames, _ := bank.VPDQFrames(want)
	if len(frames) != 21 || frames[20].Timestamp != 20 {
		t.Errorf("stored frames %d, last at %v s: want 21, the last at 20 s", len(frames), frames[len(frames)-1].Timestamp)
	}
	c, err := s.Status(ctx, "192.0.2.1", r.Case.Code, r.PIN)
	if err != nil || len(c.Videos) != 1 || c.Videos[0] != r.Case.Videos[0] {
		t.Fatalf("status: %+v, %v", c, err)
	}
	if _, err := s.Withdraw(ctx, "192.0.2.1", r.Case.Code, r.PIN); err != nil {
		t.Fatal(err)
	}
	if got := liveValues(t, st); len(got) != 0 {
		t.Errorf("after withdrawal the bank holds %d values, want none", len(got))
	}
	last, _ := al.LastAudit(ctx)
	if last == nil || last.Action != selfreport.AuditWithdraw || !strings.Contains(string(last.Detail), `"removed":6`) {
		t.Errorf("last audit entry %+v: want the withdrawal of 6 hashes", last)
	}
}

func TestVideoRefusals(t *testing.T) {
	isInvalid := func(want string) func(error) bool {
		return func(err error) bool {
			return errors.Is(err, selfreport.ErrInvalid) && strings.Contains(err.Error(), want)
		}
	}
	long := clip('c', selfreport.MaxVideoFrames+1, 90)
	noMD5 := clip('c', 3, 90)
	noMD5.MD5 = ""
	for _, tc := range []struct {
		name   string
		videos []selfreport.Video
		check  func(error) bool
	}{
		{"malformed vpdq", []selfreport.Video{{VPDQ: `["zz,90,0"]`, MD5: strings.Repeat("a", 32), SHA256: strings.Repeat("a", 64)}}, isInvalid("video 1")},
		{"empty vpdq", []selfreport.Video{{VPDQ: `[]`, MD5: strings.Repeat("a", 32), SHA256: strings.Repeat("a", 64)}}, isInvalid("video 1")},
		{"no md5", []selfreport.Video{noMD5}, isInvalid("md5")},
		{"too long", []selfreport.Video{long}, isInvalid("at most 1800")},
		{"too many", []selfreport.Video{clip('a', 2, 90), clip('b', 2, 90), clip('c', 2, 90), clip('d', 2, 90), clip('e', 2, 90), clip('f', 2, 90)}, isInvalid("6 videos")},
		{"flat", []selfreport.Video{clip('a', 3, 90), clip('b', 3, 49)}, func(err error) bool {
			var qe *selfreport.QualityError
			return errors.As(err, &qe) && fmt.Sprint(qe.Videos) == "[2]" && qe.Images == nil && strings.Contains(err.Error(), "video 2: no frame")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, nil, tc.videos, tc.check)
		})
	}
}
