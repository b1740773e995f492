package network

import (
	"bytes"
	"strings"
	"testing"
)

const hashA = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"

func TestReadSkipsAndNamesBadLines(t *testing.T) {
	long := `{"type":"account","id":"x","at":"2026-01-01T00:00:00Z","bio":"` + strings.Repeat("a", MaxLine) + `"}`
	in := strings.Join([]string{
		`{"type":"account","id":"kid","at":"2026-01-01T00:00:00Z","bio":"9 y/o","declared_age":9}`,
		`{"type":"post","id":"p1","account":"kid","at":"2026-01-02T00:00:00Z","pdq":"` + hashA + `"}`,
		`not json`,
		`{"type":"like","id":"l1","at":"2026-01-02T00:00:00Z"}`,
		`{"type":"post","id":"p2","account":"kid"}`,
		`{"type":"post","id":"p3","account":"kid","at":"2026-01-02T00:00:00Z","pdq":"xyz"}`,
		long,
		``,
		`{"type":"post","id":"p1","account":"other","at":"2026-01-03T00:00:00Z"}`,
		"{\"type\":\"follow\",\"account\":\"a\",\"target\":\"kid\",\"at\":\"2026-01-02T00:00:00Z\"}\r",
		`{"type":"follow","account":"a","target":"kid","at":"2026-01-05T00:00:00Z"}`,
		`{"type":"comment","id":"c1","account":"a","post":"p1","at":"2026-01-02T00:00:00Z","text":"hi","extra":1}`,
		`{"type":"comment","id":"c1","account":"a","post":"p1","at":"2026-01-02T00:00:00Z","text":"hi"}`,
	}, "\n") + "\n"
	var a Activity
	st, err := Read(strings.NewReader(in), &a)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 13 || st.Accepted != 4 || st.Repeated != 2 || st.Bad != 6 {
		t.Errorf("stats %+v: want 13 lines, 4 accepted, 2 repeated, 6 bad", st)
	}
	want := map[int]string{3: "not a JSON event", 4: `unknown type "like"`, 5: `missing "at"`, 6: "64 hex digits", 7: "over the 65536-byte limit", 12: `unknown field "extra"`}
	for _, le := range st.BadLines {
		if w, ok := want[le.Line]; !ok || !strings.Contains(le.Error(), w) {
			t.Errorf("bad line %d: %v; want it to say %q", le.Line, le.Err, want[le.Line])
		}
		delete(want, le.Line)
	}
	if len(want) > 0 {
		t.Errorf("bad lines not named: %v", want)
	}
	if a.Len() != st.Accepted {
		t.Errorf("activity holds %d events, %d accepted", a.Len(), st.Accepted)
	}
	// The repeated post id kept its first version.
	if p := a.posts[a.postIdx["p1"]]; a.accounts[p.account].id != "kid" || !p.hasCode {
		t.Errorf("post p1 was replaced by its repeat: %+v", p)
	}
}

func TestReadIsIdempotent(t *testing.T) {
	in := `{"type":"account","id":"a","at":"2026-01-01T00:00:00Z"}
{"type":"post","id":"p","account":"a","at":"2026-01-01T00:00:00Z","pdq":"` + hashA + `"}
{"type":"comment","id":"c","account":"b","post":"p","at":"2026-01-01T00:00:00Z","text":"nice"}
{"type":"follow","account":"b","target":"a","at":"2026-01-01T00:00:00Z"}
`
	var a Activity
	if st, _ := Read(strings.NewReader(in), &a); st.Accepted != 4 {
		t.Fatalf("first read accepted %d of 4", st.Accepted)
	}
	st, _ := Read(strings.NewReader(in), &a)
	if st.Accepted != 0 || st.Repeated != 4 || a.Len() != 4 {
		t.Errorf("resent batch: %+v, %d events held; want all 4 repeated and 4 held", st, a.Len())
	}
}

func TestReadCapsKeptErrors(t *testing.T) {
	in := strings.Repeat("garbage\n", MaxBadKept+50)
	var a Activity
	st, err := Read(strings.NewReader(in), &a)
	if err != nil || st.Bad != MaxBadKept+50 || len(st.BadLines) != MaxBadKept {
		t.Errorf("%d bad, %d kept, err %v: want %d bad, %d kept", st.Bad, len(st.BadLines), err, MaxBadKept+50, MaxBadKept)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`{"type":"account","id":"a","at":"2026-01-01T00:00:00Z","declared_age":-1}`, "not an age"},
		{`{"type":"account","id":"a","at":"2026-01-01T00:00:00Z","declared_age":200}`, "not an age"},
		{`{"type":"account","at":"2026-01-01T00:00:00Z"}`, `missing "id"`},
		{`{"type":"comment","id":"c","account":"a","at":"2026-01-01T00:00:00Z"}`, `missing "post"`},
		{`{"type":"follow","account":"a","target":"a","at":"2026-01-01T00:00:00Z"}`, "follows itself"},
		{`{"type":"follow","account":"a","at":"2026-01-01T00:00:00Z"}`, `missing "target"`},
		{`{"at":"2026-01-01T00:00:00Z"}`, `missing "type"`},
		{`{"type":"post","id":"p","account":"a","at":"yesterday"}`, "not a JSON event"},
		{`{"type":"post","id":"` + strings.Repeat("x", MaxID+1) + `","account":"a","at":"2026-01-01T00:00:00Z"}`, "over the 256-byte limit"},
		{`{"type":"post","id":"p","account":"a","at":"2026-01-01T00:00:00Z"} {"type":"post"}`, "more than one value"},
		{`{"type":"post","id":"p\u0000","account":"a","at":"2026-01-01T00:00:00Z"}`, "control character"},
		{`{"type":"comment","id":"c","account":"a","post":"p","text":"hi\u0007","at":"2026-01-01T00:00:00Z"}`, "control character"},
		{`{"type":"post","id":"p","account":"a","pdq":"` + hashA + `","content_id":"img1","at":"2026-01-01T00:00:00Z"}`, "content_id is for a post without pdq"},
		{`{"type":"comment","id":"c","account":"a","post":"p","content_id":"img1","at":"2026-01-01T00:00:00Z"}`, "content_id is for a post"},
	} {
		_, err := ParseEvent([]byte(tc.line))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60s: error %v, want one saying %q", tc.line, err, tc.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"type":"post","id":"p","account":"a","at":"2026-01-01T00:00:00Z","pdq":"` + hashA + `"}` + "\n"))
	f.Add([]byte(`{"type":"account","id":"a","at":"2026-01-01T00:00:00Z","bio":"11 y/o","declared_age":11}`))
	f.Add([]byte("{\"type\":\"follow\"}\n\n\r\nnull\n[]\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var a Activity
		st, err := Read(bytes.NewReader(in), &a)
		if err != nil {
			t.Fatalf("reading from memory failed: %v", err)
		}
		if st.Accepted+st.Repeated+st.Bad > st.Lines || a.Len() != st.Accepted {
			t.Fatalf("stats %+v with %d events held", st, a.Len())
		}
		var d Detector
		d.Detect(&a) // must not panic on whatever was accepted
	})
}
