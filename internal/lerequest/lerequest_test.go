package lerequest_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/lerequesttest"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func valid() lerequest.Request {
	return lerequest.Request{Agency: "Police", LegalBasis: "order 7", Accounts: []string{"acct-1"},
		From: t0.Add(-24 * time.Hour), To: t0, Deadline: t0.Add(48 * time.Hour)}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*lerequest.Request)
		want []string // fragments of the error; none: valid
	}{
		{"valid", func(*lerequest.Request) {}, nil},
		{"no agency", func(r *lerequest.Request) { r.Agency = " " }, []string{"agency is required"}},
		{"no legal basis", func(r *lerequest.Request) { r.LegalBasis = "" }, []string{"legal_basis is required"}},
		{"no accounts", func(r *lerequest.Request) { r.Accounts = nil }, []string{"at least one account"}},
		{"account twice", func(r *lerequest.Request) { r.Accounts = []string{"a", "a"} }, []string{`accounts[1] "a" is listed twice`}},
		{"spaced account", func(r *lerequest.Request) { r.Accounts = []string{" a"} }, []string{"surrounding space"}},
		{"long account", func(r *lerequest.Request) { r.Accounts = []string{strings.Repeat("a", 300)} }, []string{"accounts[0] is 300 bytes"}},
		{"bad case", func(r *lerequest.Request) { r.Cases = []int64{0} }, []string{"cases[0] 0 is not a case id"}},
		{"no period", func(r *lerequest.Request) { r.From = time.Time{} }, []string{"from and to"}},
		{"period backwards", func(r *lerequest.Request) { r.From, r.To = r.To, r.From }, []string{"is not before to"}},
		{"no deadline", func(r *lerequest.Request) { r.Deadline = time.Time{} }, []string{"deadline is required"}},
		{"everything at once", func(r *lerequest.Request) { *r = lerequest.Request{} },
			[]string{"agency is required", "legal_basis is required", "at least one account", "from and to", "deadline is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.edit(&r)
			err := r.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, lerequest.ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestOrder: emergencies first whatever their deadline, then the nearest
// deadline, then closed requests, most recently closed first.
func TestOrder(t *testing.T) {
	req := func(id int64, state lerequest.State, emergency bool, deadline, closed time.Duration) lerequest.Request {
		r := lerequest.Request{ID: id, State: state, Emergency: emergency, Deadline: t0.Add(deadline)}
		if state != lerequest.Open {
			r.Closed = t0.Add(closed)
		}
		return r
	}
	rs := []lerequest.Request{
		req(1, lerequest.Open, false, 2*time.Hour, 0),
		req(2, lerequest.Fulfilled, true, time.Hour, time.Minute),
		req(3, lerequest.Open, true, 50*time.Hour, 0),
		req(4, lerequest.Open, false, time.Hour, 0),
		req(5, lerequest.Refused, false, time.Hour, time.Hour),
		req(6, lerequest.Open, true, 5*time.Hour, 0),
		req(7, lerequest.Open, false, time.Hour, 0), // same deadline as 4: by id
	}
	lerequest.Sort(rs)
	var got []int64
	for _, r := range rs {
		got = append(got, r.ID)
	}
	if want := []int64{6, 3, 4, 7, 1, 5, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestOverdue(t *testing.T) {
	r := valid()
	r.State = lerequest.Open
	for _, tc := range []struct {
		state lerequest.State
		now   time.Time
		want  bool
	}{
		{lerequest.Open, r.Deadline.Add(-time.Second), false},
		{lerequest.Open, r.Deadline, false},
		{lerequest.Open, r.Deadline.Add(time.Second), true},
		{lerequest.Fulfilled, r.Deadline.Add(time.Hour), false},
		{lerequest.Refused, r.Deadline.Add(time.Hour), false},
	} {
		r.State = tc.state
		if got := r.Overdue(tc.now); got != tc.want {
			t.Errorf("%s at deadline%+v: overdue %v, want %v", tc.state, tc.now.Sub(r.Deadline), got, tc.want)
		}
	}
}

// clock is an injectable clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func TestRegister(t *testing.T) {
	ctx := context.Background()
	c := &clock{t0}
	g := &lerequest.Register{Store: new(lerequesttest.Memory), Now: c.Now}
	if _, err := g.Create(ctx, lerequest.Request{Agency: "x"}, "key_1"); !errors.Is(err, lerequest.ErrInvalid) {
		t.Fatalf("invalid request entered: %v", err)
	}
	in := valid()
	in.State, in.Reason = lerequest.Refused, "set by the client: ignored"
	r, err := g.Create(ctx, in, "key_1")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != lerequest.Open || !r.Created.Equal(t0) || r.CreatedBy != "key_1" || r.Reason != "" {
		t.Errorf("created %+v: want open, created now by key_1, no reason", r)
	}
	if _, err := g.Close(ctx, r.ID, lerequest.Refused, "key_2", ""); !errors.Is(err, lerequest.ErrInvalid) {
		t.Errorf("refusal without a reason: %v, want ErrInvalid", err)
	}
	if _, err := g.Close(ctx, r.ID, lerequest.Open, "key_2", ""); !errors.Is(err, lerequest.ErrInvalid) {
		t.Errorf("closing as open: %v, want ErrInvalid", err)
	}
	c.t = t0.Add(time.Hour)
	closed, err := g.Close(ctx, r.ID, lerequest.Fulfilled, "key_2", "sent by courier")
	if err != nil {
		t.Fatal(err)
	}
	if closed.State != lerequest.Fulfilled || !closed.Closed.Equal(c.t) || closed.ClosedBy != "key_2" {
		t.Errorf("closed %+v", closed)
	}
	if _, err := g.Close(ctx, r.ID, lerequest.Refused, "key_2", "again"); !errors.Is(err, lerequest.ErrState) {
		t.Errorf("closing a closed request: %v, want ErrState", err)
	}
	if _, err := g.Close(ctx, r.ID+1, lerequest.Fulfilled, "key_2", ""); !errors.Is(err, lerequest.ErrNotFound) {
		t.Errorf("closing an unknown request: %v, want ErrNotFound", err)
	}
	if _, err := g.List(ctx, "pending"); !errors.Is(err, lerequest.ErrInvalid) {
		t.Errorf("listing an unknown state: %v, want ErrInvalid", err)
	}
}

// fixture is a register with scan records and cases about acct-1 and
// others, and one request about acct-1 linking case 3.
func fixture(t *testing.T) (*lerequesttest.Memory, *reviewtest.Memory, lerequest.Request) {
	t.Helper()
	ctx := context.Background()
	mem, cases := new(lerequesttest.Memory), new(reviewtest.Memory)
	for _, s := range []scan.Record{
		{ID: "scn_1", Time: t0.Add(-time.Hour), AccountID: "acct-1", ContentID: "p1", SHA256: "aa"},
		{ID: "scn_2", Time: t0.Add(-48 * time.Hour), AccountID: "acct-1", ContentID: "p0"}, // before the period
		{ID: "scn_3", Time: t0.Add(-time.Hour), AccountID: "acct-2", ContentID: "p2"},      // another account
	} {
		if err := mem.RecordScan(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	file := func(account, content string, at time.Time, caseID int64) {
		t.Helper()
		c := review.Case{ID: caseID, AccountIDs: []string{account}, ContentIDs: []string{content}, OpenedAt: at, State: review.Open}
		if caseID != 0 {
			var err error
			if c, err = cases.Case(ctx, caseID); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := cases.FileReport(ctx, review.Report{Source: review.User, Reporter: "u", Category: review.Grooming,
			AccountID: account, ContentID: content, ReceivedAt: at}, c); err != nil {
			t.Fatal(err)
		}
	}
	file("acct-1", "p1", t0.Add(-2*time.Hour), 0)  // case 1, report 1: in
	file("acct-9", "p1", t0.Add(-time.Hour), 1)    // report 2 in case 1, about someone else: out
	file("acct-7", "p7", t0.Add(-3*time.Hour), 0)  // case 2: unrelated
	file("acct-8", "p8", t0.Add(-90*time.Hour), 0) // case 3, report 4: linked, so in
	r := valid()
	r.ID, r.Cases = 1, []int64{3}
	return mem, cases, r
}

func TestGatherAndExport(t *testing.T) {
	ctx := context.Background()
	mem, cases, r := fixture(t)
	recs, err := lerequest.Gather(ctx, mem, cases, r)
	if err != nil {
		t.Fatal(err)
	}
	var scans []string
	for _, s := range recs.Scans {
		scans = append(scans, s.ID)
	}
	var cs, rs []int64
	for _, c := range recs.Cases {
		cs = append(cs, c.ID)
	}
	for _, rep := range recs.Reports {
		rs = append(rs, rep.ID)
	}
	if !reflect.DeepEqual(scans, []string{"scn_1"}) || !reflect.DeepEqual(cs, []int64{1, 3}) || !reflect.DeepEqual(rs, []int64{1, 4}) {
		t.Fatalf("gathered scans %v, cases %v, reports %v; want [scn_1], [1 3], [1 4]", scans, cs, rs)
	}

	var buf bytes.Buffer
	sum, err := lerequest.WriteExport(&buf, r, recs, t0)
	if err != nil {
		t.Fatal(err)
	}
	m, vsum, err := lerequest.VerifyExport(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if vsum != sum || m.RequestID != 1 || len(m.Members) != 4 {
		t.Errorf("verified manifest %+v (sum %x, written %x)", m, vsum, sum)
	}
}

// TestTamper: one byte changed in any member, a member removed or added →
// VerifyExport fails and names it.
func TestTamper(t *testing.T) {
	mem, cases, r := fixture(t)
	recs, err := lerequest.Gather(context.Background(), mem, cases, r)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := lerequest.WriteExport(&buf, r, recs, t0); err != nil {
		t.Fatal(err)
	}
	pkg := buf.Bytes()
	for _, name := range []string{lerequest.RequestJSON, lerequest.ScansJSON, lerequest.CasesJSON, lerequest.ReportsJSON, lerequest.ManifestJSON} {
		t.Run("byte of "+name, func(t *testing.T) {
			bad := rewrite(t, pkg, func(n string, b []byte) (string, []byte) {
				if n == name {
					b = bytes.Clone(b)
					i := bytes.IndexByte(b, '"') + 1 // inside a string, so the JSON still parses
					b[i] ^= 1
				}
				return n, b
			})
			_, _, err := lerequest.VerifyExport(bad)
			if err == nil {
				t.Fatal("altered package verified")
			}
			if name != lerequest.ManifestJSON && !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name %s", err, name)
			}
		})
	}
	t.Run("removed", func(t *testing.T) {
		bad := rewrite(t, pkg, func(n string, b []byte) (string, []byte) {
			if n == lerequest.ScansJSON {
				return "", nil
			}
			return n, b
		})
		if _, _, err := lerequest.VerifyExport(bad); err == nil || !strings.Contains(err.Error(), "scans.json: missing") {
			t.Errorf("removed member: %v", err)
		}
	})
	t.Run("added", func(t *testing.T) {
		bad := rewrite(t, pkg, func(n string, b []byte) (string, []byte) {
			if n == lerequest.CasesJSON {
				return "extra.json", b
			}
			return n, b
		})
		if _, _, err := lerequest.VerifyExport(bad); err == nil || !strings.Contains(err.Error(), "extra.json: not in the manifest") {
			t.Errorf("added member: %v", err)
		}
	})
}

// rewrite copies a package through edit; an empty name drops the member.
func rewrite(t *testing.T, pkg []byte, edit func(name string, b []byte) (string, []byte)) []byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := zip.NewWriter(&out)
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		name, b := edit(f.Name, b)
		if name == "" {
			continue
		}
		fw, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(b)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// FuzzVerifyExport: a package is outside input; VerifyExport must not
// panic, and what it accepts must name the request's members.
func FuzzVerifyExport(f *testing.F) {
	var buf bytes.Buffer
	if _, err := lerequest.WriteExport(&buf, valid(), lerequest.Records{}, t0); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, pkg []byte) {
		m, _, err := lerequest.VerifyExport(pkg)
		if err == nil && len(m.Members) < 4 {
			t.Errorf("verified a package of %d members", len(m.Members))
		}
	})
}
