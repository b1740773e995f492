package request

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/limits"
)

func TestCheckJSON(t *testing.T) {
	for _, c := range []struct {
		doc, want string // want: "" accepted, else a word of the error
	}{
		{`{"a":1,"b":[{"c":"x"}]}`, ""},
		{`{"text":"two\nlines\tand tab"}`, ""},
		{`null`, ""}, // a null body is the API's refusal (api.checkBody), not HMA's
		{`{"a":1,"a":2}`, "a is given twice"},
		{`{"bank_name":"A","bank_name":"B"}`, "bank_name is given twice"},
		{`{"x":{"a":1,"a":2}}`, "x.a is given twice"},
		{`[{"a":1},{"a":2}]`, ""},
		{`{"images":[{"pdq":"a\u0000b"}]}`, "images[0].pdq"},
		{`{"images":[{},{"pdq":"\u0007"}]}`, "images[1].pdq"},
		{"{\"name\":\"\xff\"}", "name is not valid UTF-8"},
		{`{"a\u0000":1}`, "a key of the body"},
		{`{"":1,"":2}`, "given twice"},
		{`{"n":"` + strings.Repeat("x", limits.Text+1) + `"}`, "n is"},
		{strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth), ""},
		{strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1), "[0][0] nests deeper than 32 levels"},
		{`{"a":` + strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth) + `}`, "a[0][0]"},
		// 100,000 brackets (200 KB) once cost the server gigabytes: a path
		// per level, each longer than the last.
		{strings.Repeat("[", 100000), "nests deeper than"},
		{`{"a":1,`, ""}, // malformed: the decoder that follows says so
	} {
		err := CheckJSON([]byte(c.doc), limits.Text)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%.60q: %v, want accepted", c.doc, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%.60q: %v, want an error saying %q", c.doc, err, c.want)
		case err != nil && !errors.Is(err, derrors.Invalid):
			t.Errorf("%.60q: %v is not derrors.Invalid", c.doc, err)
		}
	}
}

// The bound on a string is the caller's: HMA takes a video's vPDQ hash,
// longer than any string of the /v1 API, in a JSON body.
func TestCheckJSONStringBound(t *testing.T) {
	doc := []byte(`{"vpdq":"` + strings.Repeat("a", 100) + `"}`)
	if err := CheckJSON(doc, 100); err != nil {
		t.Errorf("a string of the bound: %v", err)
	}
	if err := CheckJSON(doc, 99); err == nil || !strings.Contains(err.Error(), "vpdq is 100 bytes, more than the 99 allowed") {
		t.Errorf("a string over the bound: %v", err)
	}
}

// FuzzCheckJSON: CheckJSON never panics, and what it accepts that is valid
// JSON has no NUL left in it once decoded, and no key twice in an object.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":1,"a":2}`, `null`, `[{"x":["\u0000"]}]`, "{\"\xff\":1}", `{"a":{"b":[1,{"c":2,"c":3}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if CheckJSON(b, limits.Text) != nil || !json.Valid(b) {
			return
		}
		var v any
		if json.Unmarshal(b, &v) == nil {
			if out, _ := json.Marshal(v); strings.Contains(string(out), `\u0000`) {
				t.Errorf("%q accepted, holds a NUL", b)
			}
		}
	})
}
