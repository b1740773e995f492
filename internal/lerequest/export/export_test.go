package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/hotline"
	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/lerequest/lerequesttest"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/review/reviewtest"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func valid() lerequest.Request {
	return lerequest.Request{Agency: "Police", LegalBasis: "order 7", Accounts: []string{"acct-1"},
		From: t0.Add(-24 * time.Hour), To: t0, Deadline: t0.Add(48 * time.Hour)}
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
	recs, err := export.Gather(ctx, mem, cases, r)
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
	sum, err := export.Write(&buf, r, recs, t0)
	if err != nil {
		t.Fatal(err)
	}
	m, vsum, err := export.Verify(buf.Bytes())
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
	recs, err := export.Gather(context.Background(), mem, cases, r)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := export.Write(&buf, r, recs, t0); err != nil {
		t.Fatal(err)
	}
	pkg := buf.Bytes()
	for _, name := range []string{export.RequestJSON, export.ScansJSON, export.CasesJSON, export.ReportsJSON, export.ManifestJSON} {
		t.Run("byte of "+name, func(t *testing.T) {
			bad := rewrite(t, pkg, func(n string, b []byte) (string, []byte) {
				if n == name {
					b = bytes.Clone(b)
					i := bytes.IndexByte(b, '"') + 1 // inside a string, so the JSON still parses
					b[i] ^= 1
				}
				return n, b
			})
			_, _, err := export.Verify(bad)
			if err == nil {
				t.Fatal("altered package verified")
			}
			if name != export.ManifestJSON && !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name %s", err, name)
			}
		})
	}
	t.Run("removed", func(t *testing.T) {
		bad := rewrite(t, pkg, func(n string, b []byte) (string, []byte) {
			if n == export.ScansJSON {
				return "", nil
			}
			return n, b
		})
		if _, _, err := export.Verify(bad); err == nil || !strings.Contains(err.Error(), "scans.json: missing") {
			t.Errorf("removed member: %v", err)
		}
	})
	t.Run("added", func(t *testing.T) {
		bad := rewrite(t, pkg, func(n string, b []byte) (string, []byte) {
			if n == export.CasesJSON {
				return "extra.json", b
			}
			return n, b
		})
		if _, _, err := export.Verify(bad); err == nil || !strings.Contains(err.Error(), "extra.json: not in the manifest") {
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

// FuzzVerify: a package is outside input; Verify must not
// panic, and what it accepts must name the request's members.
func FuzzVerify(f *testing.F) {
	var buf bytes.Buffer
	if _, err := export.Write(&buf, valid(), export.Records{}, t0); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, pkg []byte) {
		m, _, err := export.Verify(pkg)
		if err == nil && len(m.Members) < 4 {
			t.Errorf("verified a package of %d members", len(m.Members))
		}
	})
}

// BenchmarkWrite10k: the package of a request whose account has 10,000
// scan records (each with a bank match), written and verified.
func BenchmarkWrite10k(b *testing.B) {
	recs := export.Records{Scans: make([]scan.Record, 10000)}
	for i := range recs.Scans {
		recs.Scans[i] = scan.Record{ID: fmt.Sprintf("scn_%032x", i), Time: t0.Add(time.Duration(i) * time.Second), Kind: scan.KindScan,
			Actor: "key_integrator", AccountID: "acct-1", ContentID: fmt.Sprintf("post-%d", i), PDQ: strings.Repeat("a5", 32), Quality: 90,
			MD5: strings.Repeat("0f", 16), SHA256: strings.Repeat("e3", 32),
			Matches: []match.Match{{Bank: "ncmec", EntryID: int64(i), Signal: "pdq", Distance: 12}}}
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if _, err := export.Write(&buf, valid(), recs, t0); err != nil {
			b.Fatal(err)
		}
		if _, _, err := export.Verify(buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "package-bytes")
}

// The conversations around flagged messages, when there are any, are a
// member of their own, listed and checked like the others.
func TestExportConversations(t *testing.T) {
	mem, cases, r := fixture(t)
	recs, err := export.Gather(context.Background(), mem, cases, r)
	if err != nil {
		t.Fatal(err)
	}
	recs.Messages = []lereport.Message{{Time: t0, Conversation: "dm-1", From: "a", To: "b", Text: "flagged", Flagged: true}}
	var buf bytes.Buffer
	if _, err := export.Write(&buf, r, recs, t0); err != nil {
		t.Fatal(err)
	}
	m, _, err := export.Verify(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(m.Members, func(x hotline.Member) bool { return x.Name == export.ConversationsJSON }) {
		t.Errorf("members %+v lack %s", m.Members, export.ConversationsJSON)
	}
	bad := rewrite(t, buf.Bytes(), func(n string, b []byte) (string, []byte) {
		if n == export.ConversationsJSON {
			b = bytes.Replace(b, []byte("flagged"), []byte("fl4gged"), 1)
		}
		return n, b
	})
	if _, _, err := export.Verify(bad); err == nil || !strings.Contains(err.Error(), export.ConversationsJSON) {
		t.Errorf("altered conversations: %v", err)
	}
	// None: no member.
	recs.Messages = nil
	buf.Reset()
	export.Write(&buf, r, recs, t0)
	if m, _, _ := export.Verify(buf.Bytes()); slices.ContainsFunc(m.Members, func(x hotline.Member) bool { return x.Name == export.ConversationsJSON }) {
		t.Error("an export without messages has a conversations member")
	}
}
