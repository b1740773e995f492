package hma_test

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/hma"
	"github.com/safeguard-oss/safeguard/internal/request"
)

// hmaParams are the query parameters HMA's handlers read, route by route
// (hasher-matcher-actioner/src/OpenMediaMatch/blueprints/{hashing,matching,
// curation}.py: request.args and the pydantic query models HashRequest,
// RawLookupRequest and LookupRequest), with Coop's content_id and
// content_uri on POST /c/bank/<name>/content (coop_test.go). Every one must
// be taken, or a request HMA answers would be refused.
var hmaParams = map[string][]string{
	"POST /h/hash":                    {"types"},
	"GET /h/hash":                     {"url", "content_type", "types"},
	"GET /m/raw_lookup":               {"signal", "signal_type", "banks", "include_distance"},
	"GET /m/lookup":                   {"url", "content_type", "types", "signal", "signal_type", "banks", "seed", "bypass_coinflip"},
	"POST /m/lookup":                  {"types", "banks", "seed", "bypass_coinflip"},
	"GET /m/index/status":             {"signal_type"},
	"POST /c/bank/{bank}/content":     {"url", "content_type", "types", "content_id", "content_uri"},
	"GET /c/bank/{bank}/content/{id}": {"include_signals", "include_metadata"},
	"GET /c/signal_type/index":        {"signal_type"},
}

// The handler takes exactly HMA's query parameters on each route, and none
// on the others.
func TestRouteParams(t *testing.T) {
	for pattern, got := range hma.Routes() {
		want := hmaParams[pattern]
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s takes %v, HMA's %v", pattern, got, want)
		}
	}
	for pattern := range hmaParams {
		if _, ok := hma.Routes()[pattern]; !ok {
			t.Errorf("%s: no such route", pattern)
		}
	}
}

// Every route refuses a query parameter it does not take (HMA ignores it:
// a misspelt ?contnet_id= would bank content without its id), and one
// given twice (HMA keeps the first), 400 in HMA's {"message"} form, naming
// it, after the key and its role are checked as on /v1.
func TestUnknownAndRepeatedParams(t *testing.T) {
	e := newEnv(t)
	e.createBank("STRICT")
	for pattern, takes := range hma.Routes() {
		method, path, _ := strings.Cut(pattern, " ")
		path = regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllStringFunc(path, func(s string) string {
			if s == "{bank}" {
				return "STRICT"
			}
			return "1"
		})
		rep := e.call(method, path+"?contnet_id=x", nil)
		msg := rep.obj(t)["message"]
		if rep.status != 400 || !strings.Contains(msg.(string), `unknown query parameter "contnet_id"`) {
			t.Errorf("%s?contnet_id=x: %d %s, want 400 naming it", pattern, rep.status, rep.body)
			continue
		}
		for _, p := range takes {
			if !strings.Contains(msg.(string), p) {
				t.Errorf("%s: %q does not list %s, which it takes", pattern, msg, p)
			}
		}
		if len(takes) == 0 && !strings.Contains(msg.(string), pattern+" takes none") {
			t.Errorf("%s: %q does not say it takes none", pattern, msg)
		}
		for _, p := range takes {
			q := url.Values{p: {"a", "b"}}.Encode()
			if rep := e.call(method, path+"?"+q, nil); rep.status != 400 || rep.obj(t)["message"] != "query parameter "+p+" is given twice" {
				t.Errorf("%s?%s: %d %s, want 400 saying %s is given twice", pattern, q, rep.status, rep.body, p)
			}
		}
	}
	// A key that may not call the route is refused for that first.
	e.as(auth.Integrator, "GET", "/c/banks?x=1", nil).want(t, 403, "")
	e.send(req{method: "GET", path: "/c/banks?x=1"}).want(t, 401, "")
}

// A query value longer than an id is taken where HMA's may be (a vPDQ
// hash, a list of banks), and the floor of every value still holds.
func TestParamValues(t *testing.T) {
	e := newEnv(t)
	e.createBank("LONG")
	banks := strings.TrimSuffix(strings.Repeat("LONG,", request.MaxValue/5+1), ",")
	e.call("GET", "/m/raw_lookup?signal_type=pdq&signal="+pdqExamples[0]+"&banks="+banks, nil).want(t, 200, `{"matches": []}`)
	rep := e.call("GET", "/m/raw_lookup?signal_type=pdq%00&signal="+pdqExamples[0], nil)
	rep.want(t, 400, `{"message": "query parameter signal_type holds a control character (U+0000) at byte 4"}`)
	rep = e.call("GET", "/m/index/status?signal_type="+strings.Repeat("p", request.MaxValue+1), nil)
	if rep.status != 400 || !strings.Contains(rep.obj(t)["message"].(string), "more than the 2048 allowed") {
		t.Errorf("an over-long signal_type: %d %s", rep.status, rep.body)
	}
}

// JSON bodies pass request.CheckJSON: a key given twice (HMA keeps the
// last, another reader the first) and nesting deeper than 32 are 400 in
// HMA's form, naming the field, on every route that reads JSON, and in the
// metadata form field; well-formed bodies are answered as before.
func TestJSONBodies(t *testing.T) {
	e := newEnv(t)
	e.createBank("JSON_BANK")
	// Well-formed, with metadata nested as deep as HMA's schema goes.
	e.call("POST", "/c/bank/JSON_BANK/content?url="+e.images+"/image1.jpg&content_type=photo",
		map[string]any{"metadata": map[string]any{"content_id": "c1", "json": map[string]any{"a": []any{map[string]any{"b": 1}}}}, "note": "n"}).
		want(t, 200, `{"id": 1, "signals": {"pdq": "`+e.pdq[e.images+"/image1.jpg"]+`"}}`)
	deep := `{"metadata":{"json":` + strings.Repeat("[", request.MaxJSONDepth) + strings.Repeat("]", request.MaxJSONDepth) + `}}`
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", "/c/banks", `{"name":"A_BANK","name":"B_BANK"}`, "name is given twice"},
		{"PUT", "/c/bank/JSON_BANK", `{"enabled_ratio":1,"enabled_ratio":0}`, "enabled_ratio is given twice"},
		{"POST", "/c/bank/JSON_BANK/signal", `{"pdq":"` + pdqExamples[0] + `","pdq":"` + pdqExamples[1] + `"}`, "pdq is given twice"},
		{"POST", "/c/bank/JSON_BANK/content?url=" + e.images + "/image1.jpg", `{"metadata":{"content_id":"a","content_id":"b"}}`, "metadata.content_id is given twice"},
		{"PUT", "/c/bank/JSON_BANK/content/1", `{"note":"a","note":"b"}`, "note is given twice"},
		{"POST", "/m/compare", `{"pdq":["` + pdqExamples[0] + `","` + pdqExamples[1] + `"],"pdq":[]}`, "pdq is given twice"},
		{"POST", "/c/bank/JSON_BANK/content?url=" + e.images + "/image1.jpg", deep, "metadata.json" + strings.Repeat("[0]", request.MaxJSONDepth-2) + " nests deeper than 32 levels"},
		{"POST", "/m/compare", strings.Repeat("[", 100000), "nests deeper than 32 levels"},
	} {
		rep := e.send(req{method: c.method, path: c.path, key: e.keys[auth.Admin], ctype: "application/json", body: strings.NewReader(c.body)})
		if rep.status != 400 || !strings.Contains(rep.obj(t)["message"].(string), c.want) {
			t.Errorf("%s %s %.50s: %d %s, want 400 saying %q", c.method, c.path, c.body, rep.status, rep.body, c.want)
		}
	}
	rep := e.upload(auth.Admin, "/c/bank/JSON_BANK/content", "photo", e.files["image1.jpg"], map[string]string{"metadata": `{"content_id":"a","content_id":"b"}`})
	rep.want(t, 400, `{"message": "metadata form field: content_id is given twice"}`)
	if _, err := e.st.Bank(t.Context(), "a_bank"); err == nil {
		t.Error("a refused body made a bank")
	}

	e.call("POST", "/c/banks", map[string]any{"name": "B_BANK", "enabled_ratio": "1"}).want(t, 201, `{"name": "B_BANK", "matching_enabled_ratio": 1}`)
	e.call("PUT", "/c/bank/JSON_BANK/content/1", map[string]any{"note": "m"}).want(t, 200, "")
	if got := e.call("GET", "/c/bank/JSON_BANK/content/1?include_metadata=true", nil).obj(t); got["note"] != "m" || got["metadata"].(map[string]any)["content_id"] != "c1" {
		t.Errorf("content after the refusals: %v", got)
	}
}
