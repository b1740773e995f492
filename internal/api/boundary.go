package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/limits"
)

// The boundary: every string a request carries passes here before any
// handler sees it, whatever the route, so a route added tomorrow cannot
// reach a store with a NUL, invalid UTF-8 or a megabyte id (PostgreSQL
// refuses the first two with an error, and an index entry over ~2.7 KB
// with another). Field-specific checks (limits.Line on an id, a shorter
// bound on a name) still run in the domain; these are the floor.
const (
	// maxParam bounds a path or query parameter: ids, names, hashes,
	// cursors. Under PostgreSQL's btree entry limit, so a lookup by an
	// over-long id is a 400, not a 500.
	maxParam = limits.URL
	// maxJSONString bounds one string of a JSON body (a report's text is
	// the longest there is).
	maxJSONString = limits.Text
	// maxJSONDepth bounds how deep a JSON body nests its objects and
	// arrays: the deepest body openapi.json describes (a law-enforcement
	// report) nests 6 levels, and each level costs checkJSON a frame and
	// a path longer than the last, so 100,000 levels in a 200 KB body once
	// cost gigabytes.
	maxJSONDepth = 32
)

// checkParams refuses a request whose path values (of the route's pattern)
// or query parameters hold invalid UTF-8, a control character or more than
// maxParam bytes, that gives a query parameter twice (no route takes a
// list, and Query().Get would silently keep the first), or one the route
// does not declare (a misspelt ?limt=5 would otherwise be dropped without
// a word), naming the parameter. It returns the declared parameters'
// values, each checked and parsed here once (rt.query).
func checkParams(r *http.Request, rt route) (queryValues, error) {
	for _, name := range pathNames(rt.path) {
		if err := limits.Line(name, r.PathValue(name), maxParam); err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "path parameter %v", err)
		}
	}
	given := r.URL.Query()
	for name, vs := range given {
		if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 || len(name) > limits.ID {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "query parameter name %s is not a valid name", strconv.QuoteToASCII(clip(name)))
		}
		if len(vs) > 1 {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "query parameter %s is given twice", clip(name))
		}
		for _, v := range vs {
			if err := limits.Line(name, v, maxParam); err != nil {
				return nil, errorf(http.StatusBadRequest, CodeBadRequest, "query parameter %v", err)
			}
		}
		if !slices.ContainsFunc(rt.query, func(p param) bool { return p.name == name }) {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "unknown query parameter %q: %s", clip(name), paramNames(rt))
		}
	}
	q := make(queryValues, len(rt.query))
	for _, p := range rt.query {
		v, err := p.parse(given.Get(p.name))
		if err != nil {
			return nil, err
		}
		q[p.name] = v
	}
	return q, nil
}

// param is a query parameter a route takes, declared in the route table
// (route.takes): any other is refused, and the value of an enumerated,
// numeric or time parameter is checked and parsed once, by checkParams,
// before the handler reads it with query(r).
type param struct {
	name   string
	kind   paramKind
	values []string // paramEnum: the values taken
	// paramNumber: the whole numbers taken, and the value when absent.
	min, max, def int64
}

type paramKind int

const (
	paramText   paramKind = iota // any string (the boundary's floor still holds)
	paramEnum                    // one of values
	paramNumber                  // a whole number in min..max
	paramTime                    // an RFC 3339 time
)

// textParams declares free-text parameters: ids, provenance, and values a
// domain parser reads (a transparency period).
func textParams(names ...string) []param {
	ps := make([]param, len(names))
	for i, n := range names {
		ps[i] = param{name: n}
	}
	return ps
}

func enumParam[S ~string](name string, values ...S) param {
	vs := make([]string, len(values))
	for i, v := range values {
		vs[i] = string(v)
	}
	return param{name: name, kind: paramEnum, values: vs}
}

func numberParam(name string, min, max, def int64) param {
	return param{name: name, kind: paramNumber, min: min, max: max, def: def}
}

func timeParam(name string) param { return param{name: name, kind: paramTime} }

// parse checks a value given (or, when absent, gives the default): a
// string, an int64 or a time.Time, as the kind says. An empty value is
// taken as absent, as a form's "any" choice sends it.
func (p param) parse(v string) (any, error) {
	given := v != ""
	switch p.kind {
	case paramEnum:
		if given && !slices.Contains(p.values, v) {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "query parameter %s %q: want one of %s", p.name, clip(v), strings.Join(p.values, ", "))
		}
		return v, nil
	case paramNumber:
		if !given {
			return p.def, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < p.min || n > p.max {
			want := fmt.Sprintf("a whole number from %d to %d", p.min, p.max)
			if p.max == math.MaxInt64 {
				want = fmt.Sprintf("a whole number of at least %d", p.min)
			}
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "query parameter %s %q: want %s", p.name, clip(v), want)
		}
		return n, nil
	case paramTime:
		if !given {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "query parameter %s %q: want an RFC 3339 time such as 2026-11-01T00:00:00Z", p.name, clip(v))
		}
		return t, nil
	}
	return v, nil
}

// paramNames says which query parameters a route takes.
func paramNames(rt route) string {
	if len(rt.query) == 0 {
		return rt.method + " " + rt.path + " takes none"
	}
	names := make([]string, len(rt.query))
	for i, p := range rt.query {
		names[i] = p.name
	}
	slices.Sort(names)
	return "want " + strings.Join(names, ", ")
}

// queryValues are a request's query parameters as checkParams parsed
// them, every one its route declares (its default, "" or the zero time
// when absent).
type queryValues map[string]any

type queryKey struct{}

// query returns the request's parsed query parameters.
func query(r *http.Request) queryValues {
	q, _ := r.Context().Value(queryKey{}).(queryValues)
	return q
}

// get returns a parameter's value; one the route does not declare is a
// defect of the table, which a test of the route finds.
func get[T any](q queryValues, name string) T {
	v, ok := q[name].(T)
	if !ok {
		panic(fmt.Sprintf("api: query parameter %q is not declared as a %T by the route", name, v))
	}
	return v
}

func (q queryValues) text(name string) string    { return get[string](q, name) }
func (q queryValues) number(name string) int64   { return get[int64](q, name) }
func (q queryValues) time(name string) time.Time { return get[time.Time](q, name) }

// pathNames lists the {names} of a ServeMux pattern.
func pathNames(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return names
		}
		names = append(names, strings.TrimSuffix(pattern[i+1:i+j], "..."))
		pattern = pattern[i+j+1:]
	}
}

var errNullBody = errorf(http.StatusBadRequest, CodeBadRequest, "the body is null: want a JSON object")

// checkJSON refuses, in a JSON document, what no client means and some
// decoders take: a key given twice (encoding/json keeps the last, another
// reader may keep the first), a null document, and strings holding invalid
// UTF-8 (which encoding/json silently turns into U+FFFD), a control
// character other than tab, newline and carriage return, or more than
// maxJSONString bytes, and nesting deeper than maxJSONDepth. The error
// names the field as a path (images[0].pdq).
func checkJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return errNullBody
	}
	type frame struct {
		object bool
		keys   map[string]bool
		key    string // the member being read, in an object
		inKey  bool   // key is set: the next token is its value
		index  int    // the element being read, in an array
		path   string
	}
	var stack []*frame
	here := func() string {
		if len(stack) == 0 {
			return "body"
		}
		f := stack[len(stack)-1]
		if f.object {
			return joinPath(f.path, f.key)
		}
		return fmt.Sprintf("%s[%d]", f.path, f.index)
	}
	// after moves the innermost container past the value just read.
	after := func() {
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		if f.object {
			f.key, f.inKey = "", false
		} else {
			f.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // malformed: the decoder that follows says how
		}
		end := dec.InputOffset()
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				path := here()
				if len(stack) == 0 {
					path = ""
				}
				if len(stack) == maxJSONDepth {
					return errorf(http.StatusBadRequest, CodeBadRequest, "%s nests deeper than %d levels", path, maxJSONDepth)
				}
				stack = append(stack, &frame{object: t == '{', keys: map[string]bool{}, path: path})
			default:
				stack = stack[:len(stack)-1]
				after()
			}
		case string:
			isKey := top != nil && top.object && !top.inKey
			field := here()
			if isKey {
				field = "a key of " + orBody(top.path)
			}
			if err := checkJSONString(field, t, b[start:end]); err != nil {
				return err
			}
			if isKey {
				if top.keys[t] {
					return errorf(http.StatusBadRequest, CodeBadRequest, "%s is given twice", joinPath(top.path, t))
				}
				top.keys[t] = true
				top.key, top.inKey = t, true
				continue
			}
			after()
		default:
			after()
		}
	}
}

func checkJSONString(field, s string, raw []byte) error {
	if !utf8.Valid(raw) {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%s is not valid UTF-8", field)
	}
	if err := limits.Prose(field, s, maxJSONString); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orBody(path string) string {
	if path == "" {
		return "the body"
	}
	return path
}
