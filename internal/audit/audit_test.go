package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
)

// TestEncodingGolden pins the hashed encoding: docs/audit.md shows this entry
// and hash so an auditor can check a re-implementation against them.
func TestEncodingGolden(t *testing.T) {
	e := audit.Entry{
		Seq:     42,
		Time:    time.Date(2026, 11, 25, 1, 2, 3, 456789000, time.FixedZone("CET", 3600)),
		Actor:   "k_7f3a",
		Action:  "rule.update",
		Subject: "block-known",
		Detail:  json.RawMessage(`{"enabled":false}`),
	}
	for i := range e.Prev {
		e.Prev[i] = byte(i)
	}
	const wantEnc = "5347415544495431" + "000000000000002a" +
		"0000001b" + "323032362d31312d32355430303a30323a30332e3435363738395a" +
		"00000006" + "6b5f37663361" +
		"0000000b" + "72756c652e757064617465" +
		"0000000b" + "626c6f636b2d6b6e6f776e" +
		"00000011" + "7b22656e61626c6564223a66616c73657d" +
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	if got := fmt.Sprintf("%x", e.Encode(nil)); got != wantEnc {
		t.Errorf("Encode:\n got %s\nwant %s", got, wantEnc)
	}
	const wantSum = "6cd63afa40241f7e2c5fbf30dd4e8c8fb1420d16c1d8661fc9f2ddc581ffc281"
	if got := e.Sum().String(); got != wantSum {
		t.Errorf("Sum = %s, want %s", got, wantSum)
	}
}

// clock returns a clock that starts at a fixed time and ticks by a
// millisecond and a few nanoseconds (which the log must drop) per reading.
func clock() func() time.Time {
	t := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond + 7)
		return t
	}
}

// newLog returns a log of n entries in a memory store.
func newLog(t testing.TB, n int) (*audit.Log, *audittest.Memory) {
	t.Helper()
	m := new(audittest.Memory)
	l := audit.NewLog(m)
	l.SetClock(clock())
	for i := 1; i <= n; i++ {
		_, err := l.Record(context.Background(), "k_admin", audit.RuleUpdate, fmt.Sprintf("rule-%d", i), map[string]any{"i": i})
		if err != nil {
			t.Fatal(err)
		}
	}
	return l, m
}

func all(m *audittest.Memory) iter.Seq2[audit.Entry, error] {
	return m.AuditEntries(context.Background(), 1)
}

func TestRecordChains(t *testing.T) {
	_, m := newLog(t, 5)
	var prev audit.Sum
	i := int64(0)
	for e, err := range all(m) {
		if err != nil {
			t.Fatal(err)
		}
		i++
		if e.Seq != i || e.Prev != prev || e.Hash != e.Sum() {
			t.Errorf("entry %d: seq %d, prev %v (want %v), hash %v (want %v)", i, e.Seq, e.Prev, prev, e.Hash, e.Sum())
		}
		if e.Time.Nanosecond()%1000 != 0 || e.Time.Location() != time.UTC {
			t.Errorf("entry %d: time %v is not UTC to the microsecond", i, e.Time)
		}
		if want := fmt.Sprintf(`{"i":%d}`, i); string(e.Detail) != want {
			t.Errorf("entry %d: detail %s, want %s", i, e.Detail, want)
		}
		prev = e.Hash
	}
	r, err := audit.Verify(all(m))
	if err != nil {
		t.Fatal(err)
	}
	if r.Entries != 5 || r.First != 1 || r.Last != 5 || r.Head != prev || !r.OK() {
		t.Errorf("report %+v, want 5 entries 1..5 with head %v", r, prev)
	}
}

func TestVerifyEmpty(t *testing.T) {
	r, err := audit.Verify(all(new(audittest.Memory)))
	if err != nil || r.Entries != 0 || !r.OK() {
		t.Errorf("empty log: %+v, %v", r, err)
	}
}

func TestRecordConcurrent(t *testing.T) {
	l, m := newLog(t, 0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if _, err := l.Record(t.Context(), "system", audit.ScanDecision, fmt.Sprintf("c-%d-%d", g, i), nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	r, err := audit.Verify(all(m))
	if err != nil || r.Entries != 200 {
		t.Errorf("after 200 concurrent records: %d entries, %v", r.Entries, err)
	}
}

// rehash recomputes the hash of e and the chain after it, as a tamperer
// who knows the format would.
func rehash(es []audit.Entry, from int) {
	for i := from; i < len(es); i++ {
		if i > 0 {
			es[i].Prev = es[i-1].Hash
		}
		es[i].Hash = es[i].Sum()
	}
}

func TestVerifyTampering(t *testing.T) {
	// Entries are held in a slice, entry n at index n-1.
	tests := []struct {
		name    string
		tamper  func([]audit.Entry) []audit.Entry
		anchors []audit.Anchor // besides none
		want    []string       // prefixes of the first problems' messages
		kinds   []audit.Kind   // the first problems' kinds
		count   int            // how many problems; len(kinds) if 0
	}{
		{
			name: "detail edited",
			tamper: func(es []audit.Entry) []audit.Entry {
				es[40].Detail = json.RawMessage(`{"i":999}`)
				return es
			},
			want:  []string{"entry 41: hash does not match its contents (edited)"},
			kinds: []audit.Kind{audit.Edited},
		},
		{
			name: "actor edited and its hash recomputed",
			tamper: func(es []audit.Entry) []audit.Entry {
				es[40].Actor = "someone-else"
				es[40].Hash = es[40].Sum()
				return es
			},
			want:  []string{"entry 42: prev does not match entry 41's hash"},
			kinds: []audit.Kind{audit.Unlinked},
		},
		{
			name: "time edited",
			tamper: func(es []audit.Entry) []audit.Entry {
				es[6].Time = es[6].Time.Add(-time.Hour)
				return es
			},
			want:  []string{"entry 7: hash does not match its contents (edited)"},
			kinds: []audit.Kind{audit.Edited},
		},
		{
			name: "prev edited",
			tamper: func(es []audit.Entry) []audit.Entry {
				es[6].Prev[0] ^= 1
				es[6].Hash = es[6].Sum()
				rehash(es, 7)
				return es
			},
			want:  []string{"entry 7: prev does not match entry 6's hash"},
			kinds: []audit.Kind{audit.Unlinked},
		},
		{
			name: "one deleted",
			tamper: func(es []audit.Entry) []audit.Entry {
				return append(es[:40], es[41:]...)
			},
			want:  []string{"entry 42 follows 40: entry 41 missing"},
			kinds: []audit.Kind{audit.Missing},
		},
		{
			name: "three deleted",
			tamper: func(es []audit.Entry) []audit.Entry {
				return append(es[:9], es[12:]...)
			},
			want:  []string{"entry 13 follows 9: entries 10–12 missing"},
			kinds: []audit.Kind{audit.Missing},
		},
		{
			name: "first deleted",
			tamper: func(es []audit.Entry) []audit.Entry {
				return es[1:]
			},
			want:  []string{"the log starts at entry 2: entry 1 missing"},
			kinds: []audit.Kind{audit.Missing},
		},
		{
			name: "deleted and the rest renumbered",
			tamper: func(es []audit.Entry) []audit.Entry {
				es = append(es[:40], es[41:]...)
				for i := 40; i < len(es); i++ {
					es[i].Seq--
				}
				return es
			},
			// Each renumbered entry no longer matches its hash, and the
			// first's prev still names the deleted entry.
			want:  []string{"entry 41: hash does not match its contents (edited)", "entry 41: prev does not match entry 40's hash"},
			kinds: []audit.Kind{audit.Edited, audit.Unlinked},
			count: 2 + 8,
		},
		{
			name: "deleted, the rest renumbered and re-chained, after an anchor",
			tamper: func(es []audit.Entry) []audit.Entry {
				es = append(es[:40], es[41:]...)
				for i := 40; i < len(es); i++ {
					es[i].Seq--
				}
				rehash(es, 40)
				return es
			},
			// Only an anchor published before the rewrite catches this.
			anchors: []audit.Anchor{{Seq: 45}},
			want:    []string{"entry 45: hash"},
			kinds:   []audit.Kind{audit.Anchored},
		},
		{
			name: "inserted with a repeated number",
			tamper: func(es []audit.Entry) []audit.Entry {
				forged := audit.Next(&es[39], es[40].Time, "k_admin", audit.KeyCreate, "k_backdoor", nil)
				return append(es[:40], append([]audit.Entry{forged}, es[40:]...)...)
			},
			want:  []string{"entry 41 appears twice (one was inserted)"},
			kinds: []audit.Kind{audit.Inserted},
		},
		{
			name: "inserted and the rest renumbered",
			tamper: func(es []audit.Entry) []audit.Entry {
				forged := audit.Next(&es[39], es[40].Time, "k_admin", audit.KeyCreate, "k_backdoor", nil)
				es = append(es[:40], append([]audit.Entry{forged}, es[40:]...)...)
				for i := 41; i < len(es); i++ {
					es[i].Seq++
				}
				return es
			},
			// Every later entry's number changed, so each no longer
			// matches its hash; the forged entry's own hash is right.
			want:  []string{"entry 42: hash does not match its contents (edited)", "entry 42: prev does not match entry 41's hash", "entry 43: hash does not match"},
			kinds: []audit.Kind{audit.Edited, audit.Unlinked, audit.Edited},
			count: 2 + 9,
		},
		{
			name: "two swapped in place",
			tamper: func(es []audit.Entry) []audit.Entry {
				es[40], es[41] = es[41], es[40]
				return es
			},
			want:  []string{"entry 42 follows 40: entry 41 missing", "entry 41 follows 42: out of order (moved)"},
			kinds: []audit.Kind{audit.Missing, audit.Reordered},
		},
		{
			name: "two swapped, numbers kept",
			tamper: func(es []audit.Entry) []audit.Entry {
				es[40], es[41] = es[41], es[40]
				es[40].Seq, es[41].Seq = 41, 42
				return es
			},
			want: []string{
				"entry 41: hash does not match its contents (edited)",
				"entry 41: prev does not match entry 40's hash",
				"entry 42: hash does not match its contents (edited)",
				"entry 42: prev does not match entry 41's hash",
			},
			kinds: []audit.Kind{audit.Edited, audit.Unlinked, audit.Edited, audit.Unlinked, audit.Unlinked},
		},
		{
			name: "start replaced",
			tamper: func(es []audit.Entry) []audit.Entry {
				es[0].Prev[31] = 1
				rehash(es, 0)
				return es
			},
			want:  []string{"entry 1: prev is not zero (the start of the log was replaced)"},
			kinds: []audit.Kind{audit.Unlinked},
		},
		{
			name: "rewritten wholesale after an anchor",
			tamper: func(es []audit.Entry) []audit.Entry {
				es[29].Subject = "quietly changed"
				rehash(es, 29)
				return es
			},
			anchors: []audit.Anchor{{Seq: 40}}, // hash filled in from the untampered log
			want:    []string{"entry 40: hash"},
			kinds:   []audit.Kind{audit.Anchored},
		},
		{
			name: "cut short after an anchor",
			tamper: func(es []audit.Entry) []audit.Entry {
				return es[:45]
			},
			anchors: []audit.Anchor{{Seq: 48}},
			want:    []string{"an anchor names entry 48 but the log ends at entry 45: entries 46–48 missing (cut short)"},
			kinds:   []audit.Kind{audit.Anchored},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, m := newLog(t, 50)
			var anchors []audit.Anchor
			for _, a := range tt.anchors {
				for e := range all(m) {
					if e.Seq == a.Seq {
						a.Hash = e.Hash
					}
				}
				anchors = append(anchors, a)
			}
			m.Tamper(tt.tamper)
			r, err := audit.Verify(all(m), anchors...)
			if !errors.Is(err, audit.ErrBroken) {
				t.Fatalf("Verify error %v, want ErrBroken", err)
			}
			if tt.count == 0 {
				tt.count = len(tt.kinds)
			}
			if len(r.Problems) != tt.count {
				t.Fatalf("problems %q, want %d", r.Problems, tt.count)
			}
			for i, p := range r.Problems[:len(tt.kinds)] {
				if p.Kind != tt.kinds[i] {
					t.Errorf("problem %d kind %s, want %s", i, p.Kind, tt.kinds[i])
				}
				if i < len(tt.want) && !strings.HasPrefix(p.Message, tt.want[i]) {
					t.Errorf("problem %d: %q, want %q", i, p.Message, tt.want[i])
				}
			}
			if !strings.Contains(err.Error(), r.Problems[0].Message) {
				t.Errorf("error %q does not name the first problem", err)
			}
		})
	}
}

func TestVerifyManyProblemsBounded(t *testing.T) {
	_, m := newLog(t, 1200)
	m.Tamper(func(es []audit.Entry) []audit.Entry {
		for i := range es {
			es[i].Subject = "x"
		}
		return es
	})
	r, err := audit.Verify(all(m))
	if !errors.Is(err, audit.ErrBroken) || len(r.Problems) != 1000 || r.Omitted != 200 {
		t.Errorf("%d problems listed, %d omitted, err %v; want 1000, 200, ErrBroken", len(r.Problems), r.Omitted, err)
	}
}

func TestVerifyReadError(t *testing.T) {
	_, m := newLog(t, 3)
	boom := errors.New("disk on fire")
	entries := func(yield func(audit.Entry, error) bool) {
		for e := range all(m) {
			if !yield(e, nil) {
				return
			}
		}
		yield(audit.Entry{}, boom)
	}
	_, err := audit.Verify(entries)
	if !errors.Is(err, boom) || errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), "after entry 3") {
		t.Errorf("Verify error %v, want the read error after entry 3", err)
	}
}

// An exported log (JSON lines) read back must still verify: detail bytes and
// times survive the round trip.
func TestJSONRoundTripKeepsHashes(t *testing.T) {
	m := new(audittest.Memory)
	l := audit.NewLog(m)
	details := []any{
		json.RawMessage(` { "b" : [1, 2],  "a":"<x> & y" } `),
		map[string]string{"why": "matched bank \"ncmec\" at distance 12 <= 31"},
		nil,
		struct{}{},
		"plain string",
	}
	for _, d := range details {
		if _, err := l.Record(t.Context(), audit.System, audit.ScanDecision, "content-1", d); err != nil {
			t.Fatal(err)
		}
	}
	for e := range all(m) {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back audit.Entry
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Sum() != e.Hash || back.Hash != e.Hash {
			t.Errorf("entry %d (%s) does not survive JSON: %s", e.Seq, e.Detail, b)
		}
	}
}

func TestRecordRefuses(t *testing.T) {
	l, m := newLog(t, 0)
	tests := []struct {
		name, actor, action string
		detail              any
		want                string
	}{
		{"no actor", "", audit.BankCreate, nil, "actor and action are required"},
		{"no action", "k_1", "", nil, "actor and action are required"},
		{"unmarshallable detail", "k_1", audit.BankCreate, make(chan int), "detail: json: unsupported type"},
		{"detail too big", "k_1", audit.BankCreate, strings.Repeat("x", audit.MaxDetail), "more than the 65536 allowed"},
	}
	for _, tt := range tests {
		_, err := l.Record(t.Context(), tt.actor, tt.action, "s", tt.detail)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	if e, _ := m.LastAudit(t.Context()); e != nil {
		t.Errorf("refused records left entry %d", e.Seq)
	}
}

func TestAnchorText(t *testing.T) {
	h := audit.Sum{0xab, 0xcd}
	a := audit.Anchor{Seq: 1234, Hash: h}
	s := a.String()
	if want := "sgaudit:1234:abcd" + strings.Repeat("0", 60); s != want {
		t.Errorf("String = %s, want %s", s, want)
	}
	back, err := audit.ParseAnchor(strings.ToUpper(s[:8]) + s[8:])
	if err == nil {
		t.Errorf("ParseAnchor accepted an upper-case prefix: %v", back)
	}
	back, err = audit.ParseAnchor(s)
	if err != nil || back != a {
		t.Errorf("ParseAnchor(%s) = %v, %v", s, back, err)
	}
	for _, bad := range []string{
		"", "sgaudit:", "sgaudit:12", "sgaudit:0:" + h.String(), "sgaudit:-1:" + h.String(),
		"sgaudit:+1:" + h.String(), "sgaudit:x:" + h.String(), "sgaudit:1:abcd", "sgaudit:1:" + strings.Repeat("g", 64),
		"1:" + h.String(),
	} {
		if a, err := audit.ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) = %v, want an error", bad, a)
		}
	}
}

func FuzzParseAnchor(f *testing.F) {
	f.Add("sgaudit:1234:abcd" + strings.Repeat("0", 60))
	f.Add("sgaudit:9223372036854775807:" + strings.Repeat("F", 64))
	f.Add("sgaudit:-0:")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := audit.ParseAnchor(s)
		if err != nil {
			return
		}
		if a.Seq < 1 {
			t.Errorf("ParseAnchor(%q) accepted seq %d", s, a.Seq)
		}
		b, err := audit.ParseAnchor(a.String())
		if err != nil || b != a {
			t.Errorf("%q parses to %v, whose text %q parses to %v, %v", s, a, a.String(), b, err)
		}
	})
}

func TestAnchorEvery(t *testing.T) {
	l, _ := newLog(t, 3)
	ctx, cancel := context.WithCancel(t.Context())
	published := make(chan audit.Anchor, 10)
	done := make(chan struct{})
	go func() {
		l.AnchorEvery(ctx, time.Millisecond, func(a audit.Anchor) { published <- a }, func(err error) { t.Error(err) })
		close(done)
	}()
	if a := <-published; a.Seq != 3 {
		t.Errorf("first anchor names entry %d, want 3", a.Seq)
	}
	time.Sleep(10 * time.Millisecond) // ticks with no new entry publish nothing
	if _, err := l.Record(t.Context(), audit.System, audit.BankCreate, "b", nil); err != nil {
		t.Fatal(err)
	}
	if a := <-published; a.Seq != 4 {
		t.Errorf("second anchor names entry %d, want 4", a.Seq)
	}
	cancel()
	<-done
	if len(published) != 0 {
		t.Errorf("%d anchors published with no new entries", len(published))
	}
}

func TestVerifyFromAnchor(t *testing.T) {
	_, m := newLog(t, 50)
	r, err := audit.Verify(all(m))
	if err != nil {
		t.Fatal(err)
	}
	var at30 audit.Anchor
	for e := range all(m) {
		if e.Seq == 30 {
			at30 = audit.Anchor{Seq: 30, Hash: e.Hash}
		}
	}
	got, err := audit.Verify(m.AuditEntries(t.Context(), 31), audit.Anchor{Seq: 10}, at30)
	if err != nil || got.First != 31 || got.Entries != 20 || got.Head != r.Head || got.Anchors != 1 {
		t.Errorf("from the anchor at 30: %+v, %v", got, err)
	}
	// Without the anchor, a log starting at 31 is missing its start.
	if _, err := audit.Verify(m.AuditEntries(t.Context(), 31)); !errors.Is(err, audit.ErrBroken) {
		t.Errorf("from 31 without an anchor: %v, want ErrBroken", err)
	}
	// An anchor that does not match entry 31's prev.
	at30.Hash[0] ^= 1
	if _, err := audit.Verify(m.AuditEntries(t.Context(), 31), at30); err == nil || !strings.Contains(err.Error(), "entry 31: prev does not match entry 30's hash") {
		t.Errorf("from a wrong anchor: %v", err)
	}
}

func TestJSONLinesExport(t *testing.T) {
	_, m := newLog(t, 20)
	var buf strings.Builder
	n, err := audit.WriteJSONLines(&buf, all(m))
	if err != nil || n != 20 {
		t.Fatalf("WriteJSONLines: %d, %v", n, err)
	}
	text := buf.String()
	if lines := strings.Count(text, "\n"); lines != 20 {
		t.Errorf("%d lines for 20 entries", lines)
	}
	r, err := audit.Verify(audit.ReadJSONLines(strings.NewReader(text)))
	if err != nil || r.Entries != 20 {
		t.Errorf("verifying the export: %d entries, %v", r.Entries, err)
	}
	// Editing the export is caught like editing the store.
	edited := strings.Replace(text, `"subject":"rule-7"`, `"subject":"rule-8"`, 1)
	if _, err := audit.Verify(audit.ReadJSONLines(strings.NewReader(edited))); err == nil || !strings.Contains(err.Error(), "entry 7: hash does not match") {
		t.Errorf("verifying an edited export: %v", err)
	}
	for _, bad := range []struct{ text, want string }{
		{text + "{\"seq\":21,\"extra\":1}\n", `line 21: json: unknown field "extra"`},
		{"\n\n{\"seq\":1} {\"seq\":2}\n", "line 3: more than one JSON value"},
		{`{"seq":1,"hash":"abc"}`, "line 1: audit: hash \"abc\": want 64 hex digits"},
		{"[1]\n", "line 1: json: cannot unmarshal array"},
		{strings.Repeat(" ", 700<<10), "line 1: longer than"},
	} {
		_, err := audit.Verify(audit.ReadJSONLines(strings.NewReader(bad.text)))
		if err == nil || errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("reading %.30q…: %v, want %q", bad.text, err, bad.want)
		}
	}
}

func FuzzReadJSONLines(f *testing.F) {
	_, m := newLog(f, 3)
	var buf strings.Builder
	audit.WriteJSONLines(&buf, all(m))
	f.Add(buf.String())
	f.Add(`{"seq":1,"time":"2026-11-25T00:00:00Z","detail":null}`)
	f.Add(`{"seq":1,"time":"2026-11-25T00:00:00Z","detail":{"&":0}}`)
	f.Fuzz(func(t *testing.T, text string) {
		var entries []audit.Entry
		for e, err := range audit.ReadJSONLines(strings.NewReader(text)) {
			if err != nil {
				return
			}
			entries = append(entries, e)
		}
		// What was read writes back and reads again the same, hashes
		// included.
		var out strings.Builder
		if _, err := audit.WriteJSONLines(&out, seq(entries)); err != nil {
			t.Fatal(err)
		}
		i := 0
		for e, err := range audit.ReadJSONLines(strings.NewReader(out.String())) {
			if err != nil {
				t.Fatalf("re-reading %q: %v", out.String(), err)
			}
			if e.Sum() != entries[i].Sum() || e.Hash != entries[i].Hash {
				t.Errorf("entry %d changed on the way round: %+v then %+v", i, entries[i], e)
			}
			i++
		}
	})
}

// A detail another writer left unescaped ("&", not "\u0026") goes back
// out byte for byte, so its hash still holds; one with spaces, which the
// encoder would compact, is refused on the way in.
func TestJSONLinesKeepDetailBytes(t *testing.T) {
	line := `{"seq":1,"time":"2026-11-25T00:00:00Z","actor":"a<b>","detail":{"&":"<\u0026>"}}`
	var in []audit.Entry
	for e, err := range audit.ReadJSONLines(strings.NewReader(line)) {
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, e)
	}
	var out strings.Builder
	if _, err := audit.WriteJSONLines(&out, seq(in)); err != nil {
		t.Fatal(err)
	}
	if want := `"detail":{"&":"<\u0026>"}`; !strings.Contains(out.String(), want) {
		t.Errorf("written back as %s, want the detail as read: %s", out.String(), want)
	}
	for e, err := range audit.ReadJSONLines(strings.NewReader(out.String())) {
		if err != nil || e.Sum() != in[0].Sum() {
			t.Errorf("read back %+v, %v; want the entry that hashes as %x", e, err, in[0].Sum())
		}
	}
	spaced := `{"seq":1,"time":"2026-11-25T00:00:00Z","detail":{"a": 1}}`
	for _, err := range audit.ReadJSONLines(strings.NewReader(spaced)) {
		if err == nil || !strings.Contains(err.Error(), "not compact") {
			t.Errorf("a detail with spaces read with error %v, want one saying it is not compact", err)
		}
	}
}

func seq(es []audit.Entry) iter.Seq2[audit.Entry, error] {
	return func(yield func(audit.Entry, error) bool) {
		for _, e := range es {
			if !yield(e, nil) {
				return
			}
		}
	}
}
