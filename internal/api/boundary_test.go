package api

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	for _, c := range []struct {
		doc, want string // want: "" accepted, else a word of the error
	}{
		{`{"a":1,"b":[{"c":"x"}]}`, ""},
		{`{"text":"two\nlines\tand tab"}`, ""},
		{`null`, "null"},
		{` null `, "null"},
		{`{"a":1,"a":2}`, "a is given twice"},
		{`{"x":{"a":1,"a":2}}`, "x.a is given twice"},
		{`[{"a":1},{"a":2}]`, ""},
		{`{"images":[{"pdq":"a\u0000b"}]}`, "images[0].pdq"},
		{`{"images":[{},{"pdq":"\u0007"}]}`, "images[1].pdq"},
		{"{\"name\":\"\xff\"}", "name is not valid UTF-8"},
		{`{"a\u0000":1}`, "a key of the body"},
		{`{"":1,"":2}`, "given twice"},
		{`{"n":"` + strings.Repeat("x", maxJSONString+1) + `"}`, "n is"},
		{strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), ""},
		{`{"a":` + strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth) + `}`, "a[0][0]"},
		// 100,000 brackets (200 KB) once cost the server gigabytes: a path
		// per level, each longer than the last.
		{strings.Repeat("[", 100000), "nests deeper than"},
	} {
		err := checkJSON([]byte(c.doc))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%.60q: %v, want accepted", c.doc, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%.60q: %v, want an error saying %q", c.doc, err, c.want)
		}
	}
}

// FuzzCheckJSON: checkJSON never panics, and what it accepts that is valid
// JSON has no NUL left in it once decoded.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":1,"a":2}`, `null`, `[{"x":["\u0000"]}]`, "{\"\xff\":1}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if checkJSON(b) != nil || !json.Valid(b) {
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

func TestPathNames(t *testing.T) {
	if got := strings.Join(pathNames("/v1/banks/{bank}/entries/{signal}/{value}"), ","); got != "bank,signal,value" {
		t.Errorf("pathNames = %s", got)
	}
}

// TestUnmarshalStrictTypeErrors: a value of the wrong JSON type is named by
// its field and the type wanted, in the API's words, not Go's (the message
// once read "cannot unmarshal number 1e30 into Go struct field .threshold
// of type int").
func TestUnmarshalStrictTypeErrors(t *testing.T) {
	var v struct {
		Threshold int `json:"threshold"`
		Messages  []struct {
			Text string `json:"text"`
		} `json:"messages"`
		On bool `json:"on"`
	}
	for _, c := range []struct{ doc, want string }{
		{`{"threshold":1e30}`, "threshold: want an integer, got number 1e30"},
		{`{"threshold":1.5}`, "threshold: want an integer, got number 1.5"},
		{`{"threshold":"7"}`, "threshold: want an integer, got a string"},
		{`{"messages":{}}`, "messages: want an array, got an object"},
		{`{"messages":[{"text":5}]}`, "messages.text: want a string, got a number"},
		{`{"on":"yes"}`, "on: want true or false, got a string"},
		{`[1,2]`, "the body: want an object, got an array"},
	} {
		err := unmarshalStrict([]byte(c.doc), &v, "")
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "Go ") {
			t.Errorf("%s: %v, want an error saying %q", c.doc, err, c.want)
		}
	}
}

// A query parameter given twice is refused on every route, naming it:
// Query().Get would keep the first (audit?limit=1&limit=1000 read 1).
func TestCheckParamsTwice(t *testing.T) {
	audit := rt("GET", "/v1/audit", "", nil, numberParam("from", 1, 10, 1), numberParam("limit", 1, 1000, 100))
	for q, want := range map[string]string{"limit=1&limit=1000": "limit is given twice", "limit=5&from=2": ""} {
		_, err := checkParams(httptest.NewRequest("GET", "/v1/audit?"+q, nil), audit)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", q, err, want)
		}
	}
}
