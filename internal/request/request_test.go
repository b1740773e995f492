package request

import (
	"errors"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/derrors"
)

func TestPathNames(t *testing.T) {
	for pattern, want := range map[string]string{
		"GET /v1/banks/{bank}/entries/{signal}/{value}": "bank,signal,value",
		"GET /console/{$}":            "",
		"GET /static/{path...}":       "path",
		"POST /c/bank/{bank}/content": "bank",
	} {
		if got := strings.Join(pathNames(pattern), ","); got != want {
			t.Errorf("pathNames(%s) = %s, want %s", pattern, got, want)
		}
	}
}

var audit = []Param{NumberParam("from", 1, math.MaxInt64, 1), NumberParam("limit", 1, 1000, 100), TimeParam("since"),
	EnumParam("state", "draft", "ready")}

func check(t *testing.T, pattern, target string, takes []Param) (Values, error) {
	t.Helper()
	r, err := Check(httptest.NewRequest("GET", target, nil), pattern, takes)
	if err != nil {
		if !errors.Is(err, derrors.Invalid) {
			t.Errorf("%s: %v is not derrors.Invalid", target, err)
		}
		return nil, err
	}
	return Parsed(r), nil
}

// Check refuses, naming the parameter: one given twice (Query().Get would
// keep the first: audit?limit=1&limit=1000 read 1), one the route does not
// declare (listing those it does, or saying it takes none), and values
// that are not of the parameter's kind.
func TestCheckRefuses(t *testing.T) {
	for _, c := range []struct {
		pattern, target, want string
		takes                 []Param
	}{
		{"GET /v1/audit", "/v1/audit?limit=1&limit=1000", "query parameter limit is given twice", audit},
		{"GET /v1/audit", "/v1/audit?limt=5", `unknown query parameter "limt": want from, limit, since, state`, audit},
		{"GET /v1/banks", "/v1/banks?limit=5", `unknown query parameter "limit": GET /v1/banks takes none`, nil},
		{"GET /v1/audit", "/v1/audit?limit=0", `query parameter limit "0": want a whole number from 1 to 1000`, audit},
		{"GET /v1/audit", "/v1/audit?from=x", `query parameter from "x": want a whole number of at least 1`, audit},
		{"GET /v1/audit", "/v1/audit?since=yesterday", `query parameter since "yesterday": want an RFC 3339 time`, audit},
		{"GET /v1/audit", "/v1/audit?state=Draft", `query parameter state "Draft": want one of draft, ready`, audit},
		{"GET /v1/x", "/v1/x?a=%00", "query parameter a holds a control character", TextParams("a")},
		{"GET /v1/x", "/v1/x?a=" + strings.Repeat("x", MaxValue+1), "query parameter a is 2049 bytes, more than the 2048 allowed", TextParams("a")},
		{"GET /v1/x", "/v1/x?a%00=1", "query parameter name \"a\\x00\" is not a valid name", TextParams("a")},
	} {
		_, err := check(t, c.pattern, c.target, c.takes)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.target, err, c.want)
		}
	}
}

// What a route declares passes and is parsed as its kind; absent or empty,
// a parameter reads as its default; a value may be as long as its MaxLen.
func TestCheckParses(t *testing.T) {
	q, err := check(t, "GET /v1/audit", "/v1/audit?from=7&since=2026-11-01T00:00:00Z&state=", audit)
	if err != nil {
		t.Fatal(err)
	}
	if q.Number("from") != 7 || q.Number("limit") != 100 || !q.Time("since").Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || q.Text("state") != "" {
		t.Errorf("parsed %v", q)
	}
	long := strings.Repeat("a", 3*MaxValue)
	q, err = check(t, "GET /m/lookup", "/m/lookup?signal="+long, TextParamsWithin(4*MaxValue, "signal"))
	if err != nil || q.Text("signal") != long {
		t.Errorf("a value within its MaxLen: %v", err)
	}
}

// Path values pass the same floor as query values.
func TestCheckPathValues(t *testing.T) {
	r := httptest.NewRequest("GET", "/v1/banks/x", nil)
	r.SetPathValue("bank", "a\x00b")
	if _, err := Check(r, "GET /v1/banks/{bank}", nil); err == nil || !strings.Contains(err.Error(), "path parameter bank holds a control character") {
		t.Errorf("NUL in a path value: %v", err)
	}
}

// A parameter a handler reads that its route does not declare is a defect
// of the table, and says so rather than reading as empty.
func TestUndeclaredParameterPanics(t *testing.T) {
	defer func() {
		if v := recover(); v == nil || !strings.Contains(v.(string), `"limit" is not declared`) {
			t.Errorf("recovered %v, want a panic naming limit", v)
		}
	}()
	Values{}.Number("limit")
}
