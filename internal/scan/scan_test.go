package scan_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"slices"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/rules/rulestest"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/scan/scantest"
	"github.com/safeguard-oss/safeguard/internal/signal"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/webhook/webhooktest"
)

// picture is a JPEG with enough structure for a good-quality PDQ hash.
func picture(t *testing.T, seed int) []byte {
	img := image.NewGray(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			img.Pix[y*256+x] = uint8((x*seed + y*y/(seed+1) + (x/32+y/32)%2*90) % 256)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type fixture struct {
	p        *scan.Pipeline
	scans    *scantest.Memory
	outbox   *webhooktest.Memory
	log      *audittest.Memory
	listed   []byte
	evidence *evidence.Store
}

// newFixture makes a pipeline over a bank "known" listing one picture, with
// one rule of the given actions on it.
func newFixture(t *testing.T, actions ...rules.Action) *fixture {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateBank(ctx, bank.Bank{Name: "known"}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{scans: new(scantest.Memory), outbox: new(webhooktest.Memory), log: new(audittest.Memory), listed: picture(t, 3)}
	h := &hasher.Hasher{Dihedral: true}
	sig, err := h.Hash("listed", f.listed)
	if err != nil {
		t.Fatal(err)
	}
	entry := bank.Entry{Signal: bank.PDQ, Value: sig.PDQ.String(), Source: "secret-hotline", Category: "A"}
	entries := func(yield func(bank.Entry, error) bool) { yield(entry, nil) }
	if _, err := st.AddEntries(ctx, "known", entries, nil); err != nil {
		t.Fatal(err)
	}
	m := match.New(st)
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	rs := new(rulestest.Memory)
	if _, err := rs.CreateRule(ctx, rules.Rule{Name: "r", Enabled: true, Banks: []string{"known"}, Actions: actions}); err != nil {
		t.Fatal(err)
	}
	kr, err := evidence.ParseKeyring("k:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	if err != nil {
		t.Fatal(err)
	}
	if f.evidence, err = evidence.Open(t.TempDir(), kr); err != nil {
		t.Fatal(err)
	}
	f.p = &scan.Pipeline{Hasher: h, Matcher: m, Rules: rs, Scans: f.scans, Outbox: f.outbox,
		Audit: audit.NewLog(f.log), Evidence: f.evidence}
	return f
}

func (f *fixture) auditActions(t *testing.T) []string {
	var out []string
	for e, err := range f.log.AuditEntries(context.Background(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Action)
	}
	return out
}

func TestNoMatch(t *testing.T) {
	f := newFixture(t, rules.Action{Kind: rules.Block})
	res, err := f.p.Decide(context.Background(), scan.Request{Actor: "k1", ContentID: "c1", Content: picture(t, 11)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocked || len(res.Matches) != 0 || res.Kind != scan.KindScan || res.PDQ == "" || res.Quality < 50 {
		t.Errorf("result %+v", res)
	}
	rec, err := f.scans.ScanRecord(context.Background(), res.ID)
	if err != nil || rec.ContentID != "c1" || rec.Actor != "k1" {
		t.Errorf("record %+v, %v", rec, err)
	}
	if a := f.auditActions(t); len(a) != 0 {
		t.Errorf("audit %v for a scan nothing decided on", a)
	}
}

func TestQuarantineAndNotify(t *testing.T) {
	f := newFixture(t, rules.Action{Kind: rules.Notify, Webhook: "ts"}, rules.Action{Kind: rules.Quarantine}, rules.Action{Kind: rules.Block})
	ctx := context.Background()
	req := scan.Request{Actor: "k1", ContentID: "c1", AccountID: "a1", ContentType: "image/jpeg", Content: f.listed,
		Context: rules.Content{Surface: rules.Post}}
	res, err := f.p.Decide(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Blocked || len(res.Matches) != 1 || res.Matches[0].Distance != 0 || res.Evidence == "" || res.EvidenceError != "" {
		t.Fatalf("result %+v", res)
	}
	data, item, err := f.evidence.Get(res.Evidence)
	if err != nil || !bytes.Equal(data, f.listed) || item.Meta.ContentID != "c1" || item.Meta.AccountID != "a1" {
		t.Errorf("evidence %s: %v, meta %+v", res.Evidence, err, item.Meta)
	}
	// The intake is recorded before the decision.
	if a := f.auditActions(t); !slices.Equal(a, []string{audit.EvidencePut, audit.ScanDecision}) {
		t.Errorf("audit %v", a)
	}
	due, err := f.outbox.DueDeliveries(ctx, time.Now().Add(time.Minute), time.Minute, 10, nil)
	if err != nil || len(due) != 1 || due[0].Webhook != "ts" || due[0].Event != scan.Event {
		t.Fatalf("outbox %+v, %v", due, err)
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	json.Unmarshal(due[0].Body, &env)
	if env.Data["scan_id"] != res.ID || env.Data["blocked"] != true {
		t.Errorf("delivery data %v", env.Data)
	}
	// Neither the webhook nor the audit log carries the listed value or
	// its provenance.
	for e := range f.log.AuditEntries(ctx, 1) {
		if bytes.Contains(e.Detail, []byte("secret-hotline")) || bytes.Contains(e.Detail, []byte(res.PDQ)) {
			t.Errorf("audit detail reveals the entry: %s", e.Detail)
		}
	}
	if bytes.Contains(due[0].Body, []byte("secret-hotline")) || bytes.Contains(due[0].Body, []byte(`"category"`)) {
		t.Errorf("webhook body reveals provenance: %s", due[0].Body)
	}
}

func TestLookupCannotKeepContent(t *testing.T) {
	f := newFixture(t, rules.Action{Kind: rules.Report})
	sig, err := f.p.Hasher.Hash("x", f.listed)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.p.Decide(context.Background(), scan.Request{Signals: signal.Set{PDQ: &sig.PDQ, Quality: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != scan.KindLookup || !res.Decision.Has(rules.Report) || res.Evidence != "" || res.EvidenceError == "" {
		t.Errorf("result %+v", res)
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t, rules.Action{Kind: rules.Block})
	ctx := context.Background()
	var me *media.Error
	if _, err := f.p.Decide(ctx, scan.Request{Content: []byte("not an image")}); !errors.As(err, &me) {
		t.Errorf("garbage: %v, want a *media.Error", err)
	}
	if _, err := f.p.Decide(ctx, scan.Request{}); !errors.Is(err, scan.ErrNoSignal) {
		t.Errorf("nothing: %v, want ErrNoSignal", err)
	}
	var md5 [16]byte
	hex.Decode(md5[:], []byte("d41d8cd98f00b204e9800998ecf8427e"))
	if _, err := f.p.Decide(ctx, scan.Request{Signals: signal.Set{MD5: &md5}, Banks: []string{"nope"}}); !errors.Is(err, match.ErrUnknownBank) {
		t.Errorf("unknown bank: %v", err)
	}
	if n := f.scans.Len(); n != 0 {
		t.Errorf("%d records for failed scans", n)
	}
}

// failingScans refuses every record.
type failingScans struct{ scantest.Memory }

func (*failingScans) RecordScan(context.Context, scan.Record) error { return errors.New("disk full") }

// TestRecordFirst checks that a decision that cannot be recorded is not
// acted on: no webhook is queued and no audit entry claims it.
func TestRecordFirst(t *testing.T) {
	f := newFixture(t, rules.Action{Kind: rules.Notify, Webhook: "ts"})
	f.p.Scans = new(failingScans)
	if _, err := f.p.Decide(context.Background(), scan.Request{Content: f.listed}); err == nil {
		t.Fatal("Decide succeeded with a store that refuses records")
	}
	if due, _ := f.outbox.DueDeliveries(context.Background(), time.Now().Add(time.Minute), time.Minute, 10, nil); len(due) != 0 {
		t.Errorf("%d deliveries queued for an unrecorded decision", len(due))
	}
	if a := f.auditActions(t); len(a) != 0 {
		t.Errorf("audit %v for an unrecorded decision", a)
	}
}

// TestEnqueueHook checks that an enqueue action reaches the hook once the
// scan is on record, with its rule and priority, and that the hook's
// failure fails the scan (the platform retries; the report is not lost)
// before any webhook is queued.
func TestEnqueueHook(t *testing.T) {
	f := newFixture(t, rules.Action{Kind: rules.Block}, rules.Action{Kind: rules.Enqueue, Priority: 70},
		rules.Action{Kind: rules.Notify, Webhook: "ts"})
	var got []rules.Decided
	var fail error
	f.p.Enqueue = func(ctx context.Context, rec scan.Record, a rules.Decided) error {
		if _, err := f.scans.ScanRecord(ctx, rec.ID); err != nil {
			t.Errorf("enqueue before the scan is on record: %v", err)
		}
		got = append(got, a)
		return fail
	}
	ctx := context.Background()
	if _, err := f.p.Decide(ctx, scan.Request{Actor: "k1", ContentID: "c1", Content: f.listed}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != rules.Enqueue || got[0].Priority != 70 || got[0].Match.Bank != "known" {
		t.Fatalf("hook got %+v, want one enqueue at priority 70 for bank known", got)
	}
	fail = errors.New("desk down")
	_, err := f.p.Decide(ctx, scan.Request{Actor: "k1", ContentID: "c2", Content: f.listed})
	if !errors.Is(err, fail) {
		t.Fatalf("Decide with a failing hook: %v, want the hook's error", err)
	}
	if n, _, _ := f.outbox.DeliveryBacklog(ctx); n != 1 {
		t.Errorf("%d deliveries queued, want 1 (the first scan's only)", n)
	}
	if _, err := f.p.Decide(ctx, scan.Request{Actor: "k1", ContentID: "c3", Content: picture(t, 11)}); err != nil || len(got) != 2 {
		t.Errorf("a scan matching nothing: err %v, hook called %d times in all, want 2", err, len(got))
	}
}
