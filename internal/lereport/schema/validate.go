package schema

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is a document's departure from the schema. Path names the element
// it concerns, from the root: "report/incidentSummary/incidentDateTime".
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

// builtins maps each supported built-in type to its lexical check.
var builtins = map[string]func(string) error{
	"string": func(string) error { return nil },
	"token": func(s string) error {
		if s != strings.Join(strings.Fields(s), " ") {
			return fmt.Errorf("%q is not a token (leading, trailing or repeated white space)", s)
		}
		return nil
	},
	"boolean": func(s string) error {
		switch strings.TrimSpace(s) {
		case "true", "false", "1", "0":
			return nil
		}
		return fmt.Errorf("%q is not a boolean (true, false, 1 or 0)", s)
	},
	"dateTime":           checkDateTime,
	"date":               checkDate,
	"integer":            integer(nil),
	"int":                integer(func(v int64) bool { return v >= -1<<31 && v < 1<<31 }),
	"long":               integer(func(int64) bool { return true }),
	"nonNegativeInteger": integer(func(v int64) bool { return v >= 0 }),
	"positiveInteger":    integer(func(v int64) bool { return v > 0 }),
	"anyURI": func(s string) error {
		if _, err := url.Parse(strings.TrimSpace(s)); err != nil {
			return fmt.Errorf("%q is not a URI", s)
		}
		return nil
	},
}

var integerRE = regexp.MustCompile(`^[+-]?[0-9]+$`)

// integer checks the lexical form and, for bounded types, the range; ok nil
// means xs:integer, which is unbounded.
func integer(ok func(int64) bool) func(string) error {
	return func(s string) error {
		s = strings.TrimSpace(s)
		if !integerRE.MatchString(s) {
			return fmt.Errorf("%q is not an integer", s)
		}
		if ok == nil {
			return nil
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || !ok(v) {
			return fmt.Errorf("%s is out of range", s)
		}
		return nil
	}
}

var dateTimeRE = regexp.MustCompile(`^(-?[0-9]{4,}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$`)
var dateRE = regexp.MustCompile(`^(-?[0-9]{4,}-[0-9]{2}-[0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?$`)

func checkDateTime(s string) error {
	m := dateTimeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return fmt.Errorf("%q is not a dateTime (YYYY-MM-DDThh:mm:ss with an optional fraction and zone)", s)
	}
	if _, err := time.Parse("2006-01-02T15:04:05", m[1]+"T"+m[2]); err != nil {
		return fmt.Errorf("%q is not a valid dateTime: %v", s, err)
	}
	return checkZone(s, m[4])
}

func checkDate(s string) error {
	m := dateRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return fmt.Errorf("%q is not a date (YYYY-MM-DD with an optional zone)", s)
	}
	if _, err := time.Parse("2006-01-02", m[1]); err != nil {
		return fmt.Errorf("%q is not a valid date: %v", s, err)
	}
	return checkZone(s, m[2])
}

func checkZone(s, zone string) error {
	if len(zone) == 6 {
		h, _ := strconv.Atoi(zone[1:3])
		m, _ := strconv.Atoi(zone[4:6])
		if h > 14 || m > 59 || (h == 14 && m != 0) {
			return fmt.Errorf("%q has an invalid time zone %s", s, zone)
		}
	}
	return nil
}

// check validates a value against st and every type it derives from.
func (st *simpleType) check(v string) error {
	for t := st; t != nil; t = t.base {
		if len(t.enum) > 0 && !slices.Contains(t.enum, v) {
			return fmt.Errorf("%q is not one of the allowed values (%s)", v, quoteList(t.enum))
		}
		for _, re := range t.patterns {
			if !re.MatchString(v) {
				return fmt.Errorf("%q does not match the pattern of type %s", v, t.display())
			}
		}
		n := utf8.RuneCountInString(v)
		if n < t.minLen {
			return fmt.Errorf("%q is shorter than %d characters", v, t.minLen)
		}
		if t.maxLen >= 0 && n > t.maxLen {
			return fmt.Errorf("%q is longer than %d characters", truncate(v), t.maxLen)
		}
	}
	return builtins[st.builtin](v)
}

func (st *simpleType) display() string {
	if st.name != "" {
		return st.name
	}
	return "(anonymous)"
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// Validate checks doc, a whole XML document, against the schema: its root
// must be one of the schema's global elements, and every element below it
// must follow its type. It returns nil or an *Error naming the first
// element at fault.
func (s *Schema) Validate(doc []byte) error {
	root, err := readTree(bytes.NewReader(doc))
	if err != nil {
		return &Error{Path: "/", Msg: err.Error()}
	}
	if root.space != "" {
		return &Error{Path: root.name, Msg: fmt.Sprintf("in namespace %q; the schema's elements have none", root.space)}
	}
	decl := s.roots[root.name]
	if decl == nil {
		names := make([]string, 0, len(s.roots))
		for n := range s.roots {
			names = append(names, n)
		}
		slices.Sort(names)
		return &Error{Path: root.name, Msg: "is not a root element of the schema (" + strings.Join(names, ", ") + ")"}
	}
	return validate(root, decl.typ, root.name)
}

// xsiNS holds attributes such as xsi:noNamespaceSchemaLocation, which any
// element may carry.
const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"

func validate(n *node, t *typeDef, path string) error {
	if n.space != "" {
		return &Error{Path: path, Msg: fmt.Sprintf("in namespace %q; the schema's elements have none", n.space)}
	}
	if err := checkAttrs(n, t, path); err != nil {
		return err
	}
	if t.text != nil {
		if len(n.children) > 0 {
			return &Error{Path: path + "/" + n.children[0].name, Msg: "unexpected: " + path + " holds text only"}
		}
		if err := t.text.check(n.text.String()); err != nil {
			return &Error{Path: path, Msg: err.Error()}
		}
		return nil
	}
	if strings.TrimSpace(n.text.String()) != "" {
		return &Error{Path: path, Msg: fmt.Sprintf("text %q where only elements are allowed", truncate(strings.TrimSpace(n.text.String())))}
	}
	return validateChildren(n, t, path)
}

func checkAttrs(n *node, t *typeDef, path string) error {
	for _, a := range n.attrs {
		if a.Name.Space == xsiNS || a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		i := slices.IndexFunc(t.attrs, func(d *attribute) bool { return a.Name.Space == "" && d.name == a.Name.Local })
		if i < 0 {
			return &Error{Path: path, Msg: fmt.Sprintf("unexpected attribute %s", a.Name.Local)}
		}
		if err := t.attrs[i].typ.check(a.Value); err != nil {
			return &Error{Path: path + "/@" + a.Name.Local, Msg: err.Error()}
		}
	}
	for _, d := range t.attrs {
		if _, ok := n.attr(d.name); d.required && !ok {
			return &Error{Path: path, Msg: fmt.Sprintf("missing required attribute %s", d.name)}
		}
	}
	return nil
}

// validateChildren matches n's children against the content model. The
// models XSD allows are deterministic (the Unique Particle Attribution
// rule), so matching each particle greedily in turn is exact.
func validateChildren(n *node, t *typeDef, path string) error {
	kids := n.children
	i := 0
	for pi, p := range t.particles {
		count := 0
		for i < len(kids) && (p.max == unbounded || count < p.max) {
			e := p.find(kids[i].name)
			if e == nil {
				break
			}
			if err := validate(kids[i], e.typ, path+"/"+kids[i].name); err != nil {
				return err
			}
			i++
			count++
		}
		if count < p.min {
			if err := misplaced(kids, i, t.particles[:pi], path); err != nil {
				return err
			}
			return &Error{Path: path + "/" + p.names(), Msg: missing(kids, i, p)}
		}
	}
	if i < len(kids) {
		if err := misplaced(kids, i, t.particles, path); err != nil {
			return err
		}
		return &Error{Path: path + "/" + kids[i].name, Msg: "unexpected element (not in " + path + "'s type)"}
	}
	return nil
}

// misplaced reports kids[i] if one of the particles already passed could
// have held it: it came too late, or too often.
func misplaced(kids []*node, i int, passed []particle, path string) error {
	if i >= len(kids) {
		return nil
	}
	k := kids[i].name
	for _, p := range passed {
		if p.find(k) == nil {
			continue
		}
		if p.max != unbounded && countNamed(kids[:i], p) >= p.max {
			if len(p.choice) > 1 {
				return &Error{Path: path + "/" + k, Msg: fmt.Sprintf("at most %d of %s allowed", p.max, p.names())}
			}
			return &Error{Path: path + "/" + k, Msg: fmt.Sprintf("occurs more than %d time(s)", p.max)}
		}
		if i > 0 {
			return &Error{Path: path + "/" + k, Msg: "out of order: must come before " + kids[i-1].name}
		}
		return &Error{Path: path + "/" + k, Msg: "out of order"}
	}
	return nil
}

func (p particle) find(name string) *element {
	for _, e := range p.choice {
		if e.name == name {
			return e
		}
	}
	return nil
}

func (p particle) names() string {
	if len(p.choice) == 1 {
		return p.choice[0].name
	}
	ns := make([]string, len(p.choice))
	for i, e := range p.choice {
		ns[i] = e.name
	}
	return "(" + strings.Join(ns, "|") + ")"
}

func countNamed(kids []*node, p particle) int {
	c := 0
	for _, k := range kids {
		if p.find(k.name) != nil {
			c++
		}
	}
	return c
}

// missing says why a required particle did not match: absent altogether,
// or present but in the wrong place.
func missing(kids []*node, i int, p particle) string {
	for _, k := range kids[i:] {
		if p.find(k.name) != nil {
			return fmt.Sprintf("required element is out of order: it must come before %s", kids[i].name)
		}
	}
	if p.min > 1 {
		return fmt.Sprintf("missing required element (at least %d needed)", p.min)
	}
	return "missing required element"
}
