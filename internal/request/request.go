// Package request checks what an HTTP request carries before a handler reads
// it, the same way on every way in (the /v1 API, the HMA listener, the
// console): its path values, its query parameters against those its route
// declares (Check), and JSON bodies (CheckJSON). A misspelt ?limt=5, a
// ?banks= given twice or a JSON key given twice would otherwise be read
// one way here and another way by the client or a proxy, without a word.
//
// Refusals are derrors.Invalid and name the parameter or field; each way in
// answers them in its own error form (the API's {"error"}, HMA's
// {"message"}, the console's error page), 400.
package request

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/limits"
)

// MaxValue bounds a path value or a query parameter's value unless the
// parameter says otherwise (Param.MaxLen): ids, names, hashes, cursors.
// Under PostgreSQL's btree entry limit, so a lookup by an over-long id is a
// 400, not a 500.
const MaxValue = limits.URL

// Param is a query parameter a route takes. Any other is refused, and the
// value of an enumerated, numeric or time parameter is checked and parsed
// once, by Check, before the handler reads it with Parsed.
type Param struct {
	Name   string
	Kind   Kind
	Values []string // Enum: the values taken
	// Number: the whole numbers taken, and the value when absent.
	Min, Max, Default int64
	// MaxLen is the longest value taken, in bytes; MaxValue if 0.
	MaxLen int
}

// Kind is what a parameter's value is.
type Kind int

const (
	Text   Kind = iota // any string (the floor still holds: valid UTF-8, no control character)
	Enum               // one of Values
	Number             // a whole number in Min..Max
	Time               // an RFC 3339 time
)

// TextParams declares free-text parameters: ids, provenance, and values a
// domain parser reads (a transparency period, a feed's cursor).
func TextParams(names ...string) []Param { return TextParamsWithin(0, names...) }

// TextParamsWithin declares free-text parameters of at most max bytes, for
// values longer than an id may be (a URL to fetch, a video's hash).
func TextParamsWithin(max int, names ...string) []Param {
	ps := make([]Param, len(names))
	for i, n := range names {
		ps[i] = Param{Name: n, MaxLen: max}
	}
	return ps
}

// EnumParam declares a parameter that takes one of values.
func EnumParam[S ~string](name string, values ...S) Param {
	vs := make([]string, len(values))
	for i, v := range values {
		vs[i] = string(v)
	}
	return Param{Name: name, Kind: Enum, Values: vs}
}

// NumberParam declares a whole number from min to max, def when absent.
func NumberParam(name string, min, max, def int64) Param {
	return Param{Name: name, Kind: Number, Min: min, Max: max, Default: def}
}

// TimeParam declares an RFC 3339 time, the zero time when absent.
func TimeParam(name string) Param { return Param{Name: name, Kind: Time} }

// Check refuses a request whose path values (of pattern, as ServeMux
// writes it: "GET /v1/banks/{bank}") or query parameters hold invalid
// UTF-8, a control character or more bytes than allowed, that gives a
// query parameter twice (no route takes a list, and Query().Get would
// silently keep the first), or one takes does not declare, naming the
// parameter. It returns r carrying the declared parameters' values, each
// checked and parsed here once, for Parsed; on a refusal, r itself, for
// the caller's error answer.
func Check(r *http.Request, pattern string, takes []Param) (*http.Request, error) {
	for _, name := range pathNames(pattern) {
		if err := limits.Line(name, r.PathValue(name), MaxValue); err != nil {
			return r, fmt.Errorf("path parameter %w", err)
		}
	}
	given := r.URL.Query()
	for name, vs := range given {
		if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 || len(name) > limits.ID {
			return r, invalid("query parameter name %s is not a valid name", strconv.QuoteToASCII(clip(name)))
		}
		if len(vs) > 1 {
			return r, invalid("query parameter %s is given twice", clip(name))
		}
		i := slices.IndexFunc(takes, func(p Param) bool { return p.Name == name })
		if i < 0 {
			return r, invalid("unknown query parameter %q: %s", clip(name), names(pattern, takes))
		}
		max := takes[i].MaxLen
		if max == 0 {
			max = MaxValue
		}
		if err := limits.Line(name, vs[0], max); err != nil {
			return r, fmt.Errorf("query parameter %w", err)
		}
	}
	q := make(Values, len(takes))
	for _, p := range takes {
		v, err := p.parse(given.Get(p.Name))
		if err != nil {
			return r, err
		}
		q[p.Name] = v
	}
	return r.WithContext(context.WithValue(r.Context(), valuesKey{}, q)), nil
}

// parse checks a value given (or, when absent, gives the default): a
// string, an int64 or a time.Time, as the kind says. An empty value is
// taken as absent, as a form's "any" choice sends it.
func (p Param) parse(v string) (any, error) {
	given := v != ""
	switch p.Kind {
	case Enum:
		if given && !slices.Contains(p.Values, v) {
			return nil, invalid("query parameter %s %q: want one of %s", p.Name, clip(v), strings.Join(p.Values, ", "))
		}
		return v, nil
	case Number:
		if !given {
			return p.Default, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < p.Min || n > p.Max {
			want := fmt.Sprintf("a whole number from %d to %d", p.Min, p.Max)
			if p.Max == math.MaxInt64 {
				want = fmt.Sprintf("a whole number of at least %d", p.Min)
			}
			return nil, invalid("query parameter %s %q: want %s", p.Name, clip(v), want)
		}
		return n, nil
	case Time:
		if !given {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, invalid("query parameter %s %q: want an RFC 3339 time such as 2026-11-01T00:00:00Z", p.Name, clip(v))
		}
		return t, nil
	}
	return v, nil
}

// names says which query parameters a route takes.
func names(pattern string, takes []Param) string {
	if len(takes) == 0 {
		return pattern + " takes none"
	}
	ns := make([]string, len(takes))
	for i, p := range takes {
		ns[i] = p.Name
	}
	slices.Sort(ns)
	return "want " + strings.Join(ns, ", ")
}

// Values are a request's query parameters as Check parsed them, every one
// its route declares (its default, "" or the zero time when absent).
type Values map[string]any

type valuesKey struct{}

// Parsed returns the query parameters Check parsed for r; none if r did
// not pass Check.
func Parsed(r *http.Request) Values {
	q, _ := r.Context().Value(valuesKey{}).(Values)
	return q
}

// get returns a parameter's value; one the route does not declare is a
// defect of its table, which a test of the route finds.
func get[T any](q Values, name string) T {
	v, ok := q[name].(T)
	if !ok {
		panic(fmt.Sprintf("request: query parameter %q is not declared as a %T by the route", name, v))
	}
	return v
}

// Text returns a Text or Enum parameter's value.
func (q Values) Text(name string) string { return get[string](q, name) }

// Number returns a Number parameter's value.
func (q Values) Number(name string) int64 { return get[int64](q, name) }

// Time returns a Time parameter's value.
func (q Values) Time(name string) time.Time { return get[time.Time](q, name) }

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
		if name := strings.TrimSuffix(pattern[i+1:i+j], "..."); name != "$" {
			names = append(names, name)
		}
		pattern = pattern[i+j+1:]
	}
}

func invalid(format string, args ...any) error {
	return derrors.Wrap(fmt.Errorf(format, args...), derrors.Invalid)
}

// clip keeps a message short when the input is long garbage.
func clip(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}
